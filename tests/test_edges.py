"""Errors and transactions at the edge: the app answers ``NotFound`` (404 page), ``NotAllowed``
(403 page) and ``DomainError`` (the rule's message, nothing saved) once, for every view; the
API keeps its problem details; views never catch these errors themselves, and services never
commit or roll back (requests, commands and jobs own transactions)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Blueprint, Flask, request
from sqlalchemy import select

from lms import create_app
from lms.accounts.models import Organisation
from lms.errors import DomainError, InvalidInput, NotAllowed, NotFound
from lms.extensions import begin_write, db
from lms.offerings.models import Enrolment
from tests.authz.api import cohort
from tests.test_api_views import assert_problem, bearer, build

LMS = Path(__file__).resolve().parent.parent / "lms"

# The only modules that may end a transaction, and why. Services (and policies, and any module
# a service is split into) are not among them: they flush, and their caller commits.
TRANSACTION_OWNERS = {
    "web.py": "submit/perform/attempt: the request's one commit, or its rollback",
    "errors.py": "the error handlers roll back what a failed request wrote",
    "extensions.py": "begin_write ends a read-only transaction before taking the write lock",
    "jobs.py": "the scheduler's jobs commit (per offering where a lock is held)",
    "cli.py": "commands own their transaction",
    "demo.py": "seeding the demo is a command",
    "notifications/delivery.py": "the outbox sender commits between claim, send and record",
    "events/reminders.py": "session reminders are claimed and committed in batches (a job)",
    "certificates/bulk.py": "bulk issues claim a batch and commit in chunks (a job)",
}


def _modules():
    for path in sorted(LMS.rglob("*.py")):
        yield path.relative_to(LMS).as_posix(), ast.parse(path.read_text(), str(path))


def _is_view_module(name: str) -> bool:
    stem = Path(name).stem
    return stem in ("views", "pages") or stem.endswith("_views") or "/views/" in f"/{name}"


def _names_in(node: ast.expr | None) -> set[str]:
    if node is None:
        return set()
    if isinstance(node, ast.Tuple):
        return set().union(*(_names_in(element) for element in node.elts))
    if isinstance(node, ast.Attribute):
        return {node.attr}
    if isinstance(node, ast.Name):
        return {node.id}
    return set()


def _ends_transaction(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("commit", "rollback"))


def _owner(name: str) -> bool:
    return name in TRANSACTION_OWNERS or Path(name).name in TRANSACTION_OWNERS \
        or _is_view_module(name)


def test_no_view_catches_not_found_or_not_allowed():
    caught = [
        f"{name}:{node.lineno}"
        for name, tree in _modules() if _is_view_module(name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ExceptHandler)
        and _names_in(node.type) & {"NotFound", "NotAllowed"}
    ]
    assert caught == [], "views leave NotFound and NotAllowed to the app's handlers"


def test_only_requests_commands_and_jobs_end_transactions():
    stray = [
        f"{name}:{node.lineno}"
        for name, tree in _modules() if not _owner(name)
        for node in ast.walk(tree) if _ends_transaction(node)
    ]
    assert stray == [], "services flush and never commit or roll back"


def test_no_service_module_is_a_transaction_owner():
    assert not [name for name in TRANSACTION_OWNERS
                if "services" in name or "polic" in name]
    services = [name for name, _ in _modules()
                if Path(name).stem == "services" or "/services/" in f"/{name}"]
    assert "offerings/services.py" in services  # the walk does see them
    assert not [name for name in services if _owner(name)]


# ---------------------------------------------------------------------------- the handlers

edge = Blueprint("edge_test", __name__, url_prefix="/edge-test")


def _write_then(error: Exception):
    """Write a row, as a service would before a later rule says no, then raise."""
    begin_write()
    db.session.add(Organisation(code="HALF", name="Half-saved", kind="other"))
    db.session.flush()
    raise error


@edge.route("/missing", methods=["GET", "POST"])
def missing():
    _write_then(NotFound("No such thing"))


@edge.route("/forbidden", methods=["POST"])
def forbidden():
    _write_then(NotAllowed("Only faculty can move a cohort"))


@edge.route("/refused", methods=["GET", "POST"])
def refused():
    if request.args.get("many"):
        _write_then(InvalidInput([("title", "Enter a title"), ("ends", "End after the start")]))
    _write_then(DomainError("There are no places left on this cohort"))


@pytest.fixture(scope="module")
def edge_app(app: Flask) -> Flask:
    """The app as built for production, on the suite's database, with a few routes that
    write and then raise."""
    built = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       MAIL_OUTBOX_DIR=app.config["MAIL_OUTBOX_DIR"])
    built.register_blueprint(edge)
    # The same routes as the API's ("api." endpoints are under its blueprint, so its own
    # checks and error handlers apply to them).
    for name, view in (("missing", missing), ("forbidden", forbidden), ("refused", refused)):
        built.add_url_rule(f"/api/v1/edge-test/{name}", f"api.edge_{name}", view,
                           methods=["POST"])
    return built


def _half_saved(app: Flask) -> bool:
    with app.app_context():
        return db.session.scalar(select(Organisation).where(Organisation.code == "HALF")) \
            is not None


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_not_found_is_the_404_page_with_nothing_saved(edge_app, method):
    response = edge_app.test_client().open("/edge-test/missing", method=method)
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.get_data(as_text=True)
    assert not _half_saved(edge_app)


def test_not_allowed_is_the_403_page_saying_why_with_nothing_saved(edge_app):
    response = edge_app.test_client().post("/edge-test/forbidden")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "<h1>You do not have access to this page</h1>" in page
    assert "Only faculty can move a cohort" in page
    assert not _half_saved(edge_app)


def test_a_refused_form_goes_back_to_its_page_with_the_message_and_nothing_saved(edge_app):
    client = edge_app.test_client()
    response = client.post("/edge-test/refused",
                           headers={"Referer": "http://localhost/events?past=1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/events?past=1"
    assert not _half_saved(edge_app)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "There are no places left on this cohort" in page


def test_every_message_of_a_refused_form_is_shown(edge_app):
    client = edge_app.test_client()
    response = client.post("/edge-test/refused?many=1",
                           headers={"Referer": "http://localhost/events"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Enter a title" in page and "End after the start" in page
    assert not _half_saved(edge_app)


def test_a_refusal_never_sends_the_person_to_another_site(edge_app):
    response = edge_app.test_client().post(
        "/edge-test/refused", headers={"Referer": "https://evil.example/phish"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/edge-test/refused"


def test_a_refused_page_load_says_why(edge_app):
    response = edge_app.test_client().get("/edge-test/refused")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There are no places left on this cohort" in page
    assert "Nothing has been changed" in page
    assert not _half_saved(edge_app)


# ---------------------------------------------------------------------------- real pages


def test_a_real_page_for_something_missing_is_the_404_page(client, login, make_user):
    login(make_user())
    response = client.get("/my-learning/999999/progress")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.get_data(as_text=True)


def test_the_api_keeps_its_problem_details_for_the_same_errors(app, client, people):
    nominated, closed = build(app, lambda: (cohort("By nomination", mode="nomination").id,
                                            cohort("Closed", status="closed").id))
    headers = bearer(app, people.learner)
    assert_problem(client.post("/api/v1/offerings/999999/bookings", headers=headers), 404,
                   "not-found")
    refused = assert_problem(client.post(f"/api/v1/offerings/{nominated}/bookings",
                                         headers=headers), 403, "forbidden")
    assert refused["detail"] == "Places are by nomination: ask the DSU lead of your ICS"
    closed_body = assert_problem(client.post(f"/api/v1/offerings/{closed}/bookings",
                                             headers=headers), 409, "booking-closed")
    assert closed_body["detail"] == "Booking is not open"
    with app.app_context():
        assert db.session.scalars(select(Enrolment)).all() == []


@pytest.mark.parametrize(("name", "status", "slug", "detail"), [
    ("missing", 404, "not-found", "No such thing"),
    ("forbidden", 403, "forbidden", "Only faculty can move a cohort"),
    ("refused", 422, "rule-not-met", "There are no places left on this cohort"),
])
def test_the_api_answers_with_problem_details_and_saves_nothing(edge_app, people, name,
                                                                 status, slug, detail):
    response = edge_app.test_client().post(f"/api/v1/edge-test/{name}",
                                           headers=bearer(edge_app, people.learner))
    assert assert_problem(response, status, slug)["detail"] == detail
    assert not _half_saved(edge_app)
