"""The DSU lead's pages and faculty's people page kept in the page cache (``lms.cache``):
the cohorts taking nominations, one cohort's nominations, the lead's home and the people on
an offering. Each is served again for the signed-in person and the versions' read (and the
nominations page for its offering's own columns) while nothing changed, equals the page
built afresh, shows a nomination made, a place given up, a person renamed, a move asked
for, a message sent or a change committed by another process at the next request, moves on
when its nomination window closes, and keeps one lead's view from another."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts import organisation_changes
from lms.accounts.models import Organisation, Role, User
from lms.cache import fragment_cache
from lms.cache.kept import CSRF_SLOT
from lms.clock import utcnow
from lms.extensions import db
from lms.messages import services as messages
from lms.offerings import services as engine
from lms.offerings.models import Enrolment, Offering
from tests.test_cache_pages import with_clock_at

ROOT = Path(__file__).resolve().parents[1]
# The kept fragments of each page (the home's comparison with the region is kept apart).
KEPT = {"/nominations": ("nominations",), "/": ("home_lead",)}
TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


@pytest.fixture
def window(app, make_user, make_cohort) -> dict:
    """A cohort taking nominations for five more days, two of its ten places held for BSOL;
    BSOL's lead and two of its people (Asha, Ben), BC's lead and one of its people (Cal),
    and faculty."""
    closes = utcnow() + timedelta(days=5)
    cohort = make_cohort(mode="nomination", capacity=10, quotas={"BSOL": 2},
                         nomination_closes_at=closes)
    return {
        "cohort": cohort.id, "title": cohort.title, "closes": closes,
        "lead": make_user(Role.DSU_LEAD, org="BSOL", name="Lee Bsollead"),
        "other_lead": make_user(Role.DSU_LEAD, org="BC", name="Bo Bclead"),
        "asha": make_user(org="BSOL", name="Asha Analyst"),
        "ben": make_user(org="BSOL", name="Ben Builder"),
        "cal": make_user(org="BC", name="Cal Coventry"),
        "faculty": make_user(Role.FACULTY, org="SU", name="Fay Faculty"),
    }


def main_of(response) -> str:
    """The page's main content, its CSRF tokens taken out (each request signs its own)."""
    assert response.status_code == 200, response.status_code
    main = re.search(r"<main.*?</main>", response.get_data(as_text=True), re.S).group(0)
    assert CSRF_SLOT not in main
    return TOKEN.sub('name="csrf_token" value=""', main)


def afresh(app, client, url: str) -> str:
    """The page with nothing of its own kept (the other pages' fragments stay)."""
    path = url.split("?")[0]
    names = KEPT.get(path) or (("offering_people",) if path.endswith("/people")
                               else ("nominate",))
    with app.app_context():
        for name in names:
            fragment_cache(name).clear()
    return main_of(client.get(url))


def kept(client, count_queries, url: str, statements: int) -> str:
    """The page, asked twice: the second time costs ``statements``."""
    first = main_of(client.get(url))
    with count_queries() as counted:
        again = main_of(client.get(url))
    assert counted.n == statements, counted.statements
    assert again == first
    return again


def urls(window) -> dict[str, str]:
    return {"list": "/nominations", "one": f"/nominations/{window['cohort']}", "home": "/",
            "people": f"/faculty/offerings/{window['cohort']}/people"}


def nominate(app, window, who: str) -> int:
    with app.app_context():
        lead = db.session.get(User, window["lead"].id)
        place = engine.nominate(lead, db.session.get(Offering, window["cohort"]),
                                db.session.get(User, window[who].id))
        db.session.commit()
        return place.id


def nominable(page: str) -> list[str]:
    """The names the "Nominate" buttons are for."""
    return re.findall(r'Nominate<span class="nhsuk-u-visually-hidden"> ([^<]+)</span>', page)


def test_each_page_is_kept_for_a_few_statements_and_equals_a_fresh_build(
        app, client, login, window, count_queries):
    url = urls(window)
    login(window["lead"])
    # One read of the versions the signed-in person's own (their account, kept, their places,
    # the offer), then the page's others if it has some (the home's region figures; one
    # cohort's, after reading the cohort's own columns to answer 404).
    for page, statements in (("list", 1), ("one", 3), ("home", 2)):
        assert kept(client, count_queries, url[page], statements) == afresh(
            app, client, url[page])
    one = main_of(client.get(url["one"]))
    assert "0 of 2 places used" in one
    assert nominable(one) == ["Asha Analyst", "Ben Builder", "Lee Bsollead"]
    assert "Your ICS has 2 of its 2 places left" in main_of(client.get(url["home"]))
    login(window["faculty"])
    assert kept(client, count_queries, url["people"], 2) == afresh(app, client, url["people"])
    # A search is kept apart from the page without one.
    login(window["lead"])
    assert nominable(main_of(client.get(url["one"] + "?q=asha"))) == ["Asha Analyst"]
    assert nominable(main_of(client.get(url["one"]))) == [
        "Asha Analyst", "Ben Builder", "Lee Bsollead"]


def test_a_nomination_made_through_the_page_shows_at_once_on_every_page(
        app, client, login, window):
    url = urls(window)
    login(window["faculty"])
    assert "None waiting" in main_of(client.get(url["people"]))
    login(window["lead"])
    for page in ("list", "one", "home"):
        client.get(url[page])
    client.post(url["one"], data={"person_id": window["asha"].id})
    assert "Asha Analyst has been nominated" in main_of(client.get(url["one"]))  # the flash
    one = main_of(client.get(url["one"]))
    assert "1 of 2 places used" in one and "Asha Analyst</td>" in one
    assert nominable(one) == ["Ben Builder", "Lee Bsollead"]
    assert one == afresh(app, client, url["one"])
    overview = main_of(client.get(url["list"]))
    assert re.search(r"Nominated </span>1</td>", overview), overview
    assert "Your ICS has 1 of its 2 places left" in main_of(client.get(url["home"]))
    login(window["faculty"])
    people = main_of(client.get(url["people"]))
    assert "Waiting for a decision (1)" in people and "by Lee Bsollead" in people
    assert people == afresh(app, client, url["people"])


def test_a_place_given_up_a_name_changed_and_a_message_sent_show_at_once(
        app, client, login, window):
    url = urls(window)
    place = nominate(app, window, "asha")
    nominate(app, window, "ben")
    login(window["lead"])
    assert "Nominee who" not in main_of(client.get(url["home"]))
    one = main_of(client.get(url["one"]))
    assert "2 of 2 places used" in one and "used all 2 of its places" in one
    login(window["faculty"])
    assert "Waiting for a decision (2)" in main_of(client.get(url["people"]))
    with app.app_context():  # the lead withdraws Asha's nomination, saying why
        engine.withdraw(db.session.get(User, window["lead"].id),
                        db.session.get(Enrolment, place), "Moved to another team")
        db.session.commit()
    people = main_of(client.get(url["people"]))
    assert "Waiting for a decision (1)" in people and "Moved to another team" in people
    assert people == afresh(app, client, url["people"])
    login(window["lead"])
    one = main_of(client.get(url["one"]))
    assert "1 of 2 places used" in one and "Reason: Moved to another team" in one
    assert nominable(one) == ["Asha Analyst", "Lee Bsollead"]
    with app.app_context():  # Ben changes his name
        db.session.get(User, window["ben"].id).full_name = "Benedict Builder"
        db.session.commit()
    one = main_of(client.get(url["one"]))
    assert "Benedict Builder</td>" in one and "Ben Builder" not in one
    assert one == afresh(app, client, url["one"])
    login(window["faculty"])
    people = main_of(client.get(url["people"]))
    assert "Benedict Builder" in people and "Ben Builder" not in people
    with app.app_context():  # BSOL is renamed
        db.session.scalar(select(Organisation).where(
            Organisation.code == "BSOL")).name = "Birmingham and Solihull ICS"
        db.session.commit()
    people = main_of(client.get(url["people"]))
    assert "Birmingham and Solihull ICS</td>" in people
    assert people == afresh(app, client, url["people"])
    login(window["lead"])
    assert "Birmingham and Solihull ICS</dd>" in main_of(client.get(url["one"]))
    login(window["faculty"])
    with app.app_context():  # faculty write to everyone with a place
        messages.send(db.session.get(User, window["faculty"].id),
                      db.session.get(Offering, window["cohort"]), "everyone", None,
                      "Joining details", "See you there")
        db.session.commit()
    people = main_of(client.get(url["people"]))
    assert "Joining details" in people and people == afresh(app, client, url["people"])


def test_a_move_asked_for_and_a_nomination_approved_show_on_the_leads_home_at_once(
        app, client, login, window):
    place = nominate(app, window, "asha")
    login(window["lead"])
    home = main_of(client.get("/"))
    assert "Nobody is waiting for a decision" in home
    with app.app_context():  # Cal asks to join BSOL; faculty approve Asha's nomination
        bsol = db.session.scalar(select(Organisation).where(Organisation.code == "BSOL"))
        organisation_changes.request_move(db.session.get(User, window["cal"].id), bsol)
        engine.approve(db.session.get(User, window["faculty"].id),
                       db.session.get(Enrolment, place))
        db.session.commit()
    home = main_of(client.get("/"))
    assert "Cal Coventry" in home and "asks to move from" in home
    assert "Asha Analyst: <a" in home
    assert home == afresh(app, client, "/")


def test_a_change_committed_by_another_process_shows_at_the_next_request(
        app, client, login, window):
    """gunicorn's other worker: a separate Python process with its own app and caches."""
    url = urls(window)
    login(window["lead"])
    assert "0 of 2 places used" in main_of(client.get(url["one"]))
    login(window["faculty"])
    assert "None waiting" in main_of(client.get(url["people"]))
    script = textwrap.dedent(f"""
        from lms import create_app
        from lms.extensions import db
        from lms.accounts.models import User
        from lms.offerings import services
        from lms.offerings.models import Offering
        app = create_app("testing",
                         SQLALCHEMY_DATABASE_URI={app.config["SQLALCHEMY_DATABASE_URI"]!r})
        with app.app_context():
            services.nominate(db.session.get(User, {window["lead"].id}),
                              db.session.get(Offering, {window["cohort"]}),
                              db.session.get(User, {window["ben"].id}))
            db.session.get(User, {window["asha"].id}).full_name = "Asha Again"
            db.session.commit()
    """)
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    people = main_of(client.get(url["people"]))
    assert "Waiting for a decision (1)" in people and "Ben Builder" in people
    login(window["lead"])
    one = main_of(client.get(url["one"]))
    assert "1 of 2 places used" in one and nominable(one) == ["Asha Again", "Lee Bsollead"]
    assert "Your ICS has 1 of its 2 places left" in main_of(client.get(url["home"]))


def test_each_lead_sees_their_own_ics_only(app, client, login, window):
    url = urls(window)
    nominate(app, window, "asha")
    login(window["lead"])
    pages = {name: main_of(client.get(url[name])) for name in ("list", "one", "home")}
    login(window["other_lead"])  # the same addresses, kept for BSOL's lead a moment ago
    one = main_of(client.get(url["one"]))
    assert "Asha Analyst" not in one and "You have not nominated anyone yet" in one
    assert nominable(one) == ["Bo Bclead", "Cal Coventry"]
    with app.app_context():
        theirs = db.session.get(User, window["other_lead"].id).organisation.name
    assert "No places reserved" in one and f">{theirs}</dd>" in one
    overview = main_of(client.get(url["list"]))
    assert re.search(r"Nominated </span>0</td>", overview) and "Open pool" in overview
    home = main_of(client.get(url["home"]))
    assert "No places are held for your ICS" in home
    assert (one, overview, home) != (pages["one"], pages["list"], pages["home"])
    login(window["lead"])  # and BSOL's lead still sees theirs
    assert {name: main_of(client.get(url[name])) for name in pages} == pages


def test_the_forms_carry_each_sessions_own_token(app, login, window):
    phone, laptop = app.test_client(), app.test_client()
    tokens = []
    for client in (phone, laptop):
        login(window["lead"], on=client)
        page = client.get(f"/nominations/{window['cohort']}").get_data(as_text=True)
        found = set(TOKEN.findall(page))
        assert len(found) == 1 and CSRF_SLOT not in page
        tokens.append(found.pop())
    assert tokens[0] != tokens[1]
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        url = f"/nominations/{window['cohort']}"
        wrong = laptop.post(url, data={"csrf_token": tokens[0],
                                       "person_id": window["asha"].id})
        assert wrong.status_code == 400  # another session's token: nothing done
        with app.app_context():
            assert db.session.scalar(select(Enrolment.id)) is None
        done = laptop.post(url, data={"csrf_token": tokens[1], "person_id": window["asha"].id})
        assert done.status_code == 302
        with app.app_context():
            assert db.session.scalar(select(Enrolment.state)) == "nominated"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_the_pages_move_on_when_the_window_closes_with_no_change(app, client, login, window):
    url = urls(window)
    login(window["lead"])
    assert nominable(main_of(client.get(url["one"])))
    assert window["title"] in main_of(client.get(url["home"]))
    with_clock_at(window["closes"] + timedelta(minutes=1))
    login(window["lead"])  # signed in again after five days
    one = main_of(client.get(url["one"]))
    assert "Nominations closed on" in one and not nominable(one)
    assert one == afresh(app, client, url["one"])
    assert "Nominations closed on" in main_of(client.get(url["list"]))
    assert "No nomination window is open just now" in main_of(client.get(url["home"]))


def test_a_page_for_an_offering_not_taking_nominations_or_missing_is_404(
        app, client, login, window, make_cohort):
    login(window["lead"])
    assert client.get(f"/nominations/{make_cohort().id}").status_code == 404
    assert client.get("/nominations/999999").status_code == 404
    login(window["faculty"])
    assert client.get("/faculty/offerings/999999/people").status_code == 404
