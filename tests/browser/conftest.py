"""Fixtures for tests that drive Debian's Chromium through Playwright against a live server.

- ``live_server`` (session): a separate app on its own SQLite file, CSRF checks ON, served by
  Werkzeug on 127.0.0.1 in a daemon thread; stopped at the end of the session.
- ``live_app``: that app, with its tables emptied (organisations put back) and its sent mail
  cleared before each test; a test fails if the server raised an unhandled exception.
- ``browser`` (session) and ``page`` (a new context per test, 1280x900); ``make_page`` for
  other viewports. On failure each page's screenshot and HTML go to ``test-artifacts/``.
- ``axe_check(page)``: run axe-core with the WCAG 2.2 A/AA rules; fail on a violation of any
  impact (WCAG 2.2 AA means zero), record all; ``impacts="blocking"`` fails only on serious
  or critical ones.
- ``check_page(page)``: axe (``impacts`` passed on) plus one ``h1``, a non-empty
  ``<title>``, "Error: " in the title exactly when an error summary shows, and no JavaScript
  errors or failed assets.
- ``live_user(...)``: a verified person with roles, straight into the live database.
- ``live_mail``: deliver the live app's outbox and read links from the plain-text bodies.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from itertools import count
from pathlib import Path

import pyotp
import pytest
from flask import Flask, got_request_exception
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import delete, select
from werkzeug.serving import WSGIRequestHandler, make_server

from lms import create_app
from lms.accounts.models import Organisation, Role, User, UserRole
from lms.accounts.services import ensure_organisations, hash_password
from lms.clock import utcnow
from lms.extensions import db
from lms.notifications.delivery import deliver_outbox
from lms.notifications.services import sent_messages
from tests.wall_clock import wall_clock_environment

# Admins made by ``live_user`` have two-step verification on with this authenticator secret.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - a test fixture

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A busy CI machine can take more than Playwright's default 5 s to finish a POST, redirect and
# render; assertions wait longer rather than fail on a slow moment.
expect.set_options(timeout=15_000)

AXE_JS = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "correct horse battery"

_REPORTS = pytest.StashKey[dict]()
_AXE_RECORDS = pytest.StashKey[list]()


# ---------------------------------------------------------------------------- reports


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item, so fixtures can tell at teardown if it failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _failed(item: pytest.Item) -> bool:
    return any(report.failed for report in item.stash.get(_REPORTS, {}).values())


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    records = config.stash.get(_AXE_RECORDS, None)
    if not records:
        return
    terminalreporter.section("axe-core (all impacts)")
    pages = len(records)
    found = [(r, v) for r in records for v in r["violations"]]
    terminalreporter.write_line(
        f"{pages} page states checked, {len(found)} violation(s) in total; "
        f"details in {(ARTIFACTS / 'axe-summary.json').relative_to(PROJECT_ROOT)}"
    )
    for record, violation in found:
        terminalreporter.write_line(
            f"  [{violation['impact']}] {violation['id']} on {record['url']} "
            f"({len(violation['targets'])} node(s)): {violation['help']}"
        )


# ---------------------------------------------------------------------------- live server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # one line per request is noise here
        pass


@dataclass
class LiveServer:
    app: Flask
    url: str
    errors: list[BaseException] = field(default_factory=list)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'live.sqlite3'}",
        MAIL_OUTBOX_DIR=str(folder / "outbox"),
        UPLOAD_DIR=str(folder / "uploads"),  # lms.learning's files
        WTF_CSRF_ENABLED=True,
        BASE_URL="http://127.0.0.1:0",  # the real port is known once the socket is bound
    )
    with app.app_context():
        db.create_all()
        ensure_organisations()
        db.session.commit()

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    live = LiveServer(app=app, url=url)

    def record(_sender, exception: BaseException, **_extra) -> None:
        live.errors.append(exception)

    got_request_exception.connect(record, app, weak=False)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield live
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        got_request_exception.disconnect(record, app)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def live_app(live_server: LiveServer) -> Iterator[Flask]:
    """The live app, emptied for this test; fails the test if the server raised."""
    app = live_server.app
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(delete(table))
        ensure_organisations()
        db.session.commit()
        sent_messages().clear()
    live_server.errors.clear()
    yield app
    errors = list(live_server.errors)
    live_server.errors.clear()
    assert not errors, f"the live server raised: {errors!r}"


@pytest.fixture
def live_url(live_server: LiveServer, live_app: Flask) -> str:
    return live_server.url


# ---------------------------------------------------------------------------- people and mail


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    name: str
    password: str


_serial = count(1)


@pytest.fixture
def live_user(live_app: Flask) -> Callable[..., Person]:
    """A verified person (a learner, plus ``roles``) committed to the live database."""

    def make(*roles: Role, name: str | None = None, email: str | None = None,
             org: str = "BSOL", password: str = PASSWORD) -> Person:
        n = next(_serial)
        with live_app.app_context():
            organisation = db.session.scalar(select(Organisation).where(Organisation.code == org))
            user = User(
                email=(email or f"browser{n}@example.nhs.uk").lower(),
                full_name=name or f"Browser Person {n}",
                job_title="Analyst",
                organisation=organisation,
                password_hash=hash_password(password),
                email_verified_at=utcnow(),
            )
            user.role_rows.extend(UserRole(role=r) for r in {Role.LEARNER, *roles})
            if Role.ADMIN in roles:  # admins must have two-step verification on
                user.totp_secret, user.totp_enabled_at = TOTP_SECRET, utcnow()
            db.session.add(user)
            db.session.commit()
            return Person(id=user.id, email=user.email, name=user.full_name, password=password)

    return make


class LiveMail:
    """What the live app has emailed (memory backend), delivered on demand."""

    def __init__(self, app: Flask):
        self.app = app

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        with self.app.app_context():
            deliver_outbox()
            sent = list(sent_messages())
        return [m for m in sent if to is None or m["To"] == to]

    def link(self, to: str, path_fragment: str) -> str:
        """The last absolute link containing ``path_fragment`` in a plain-text email to ``to``."""
        for message in reversed(self.messages(to)):
            body = message.get_body(("plain",)).get_content()
            for url in re.findall(r"https?://\S+", body):
                if path_fragment in url:
                    return url
        raise AssertionError(f"no link with {path_fragment!r} emailed to {to}")


@pytest.fixture
def live_mail(live_app: Flask) -> LiveMail:
    return LiveMail(live_app)


# ---------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             env=wall_clock_environment())
        try:
            yield browser
        finally:
            browser.close()


_PROBLEMS = "_lms_problems"


def _watch(page: Page, origin: str) -> None:
    """Collect uncaught script errors, anything the Content-Security-Policy refused, and this
    site's failed assets (not its documents: error pages are meant to answer 4xx)."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))

    def on_console(message) -> None:
        # A style or script the Content-Security-Policy refused is reported only here. (The
        # NHS.UK fonts on assets.nhs.uk are refused on purpose: pages fall back to Arial.)
        if message.type == "error" and "Content Security Policy" in message.text \
                and "font-src" not in message.text:
            problems.append(f"refused by the CSP: {message.text}")

    page.on("console", on_console)

    def on_response(response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(f"{response.status} for {response.request.resource_type} "
                            f"{response.url}")

    def on_failed(request) -> None:
        # net::ERR_ABORTED is the browser cancelling a request itself (the page moved on, say
        # a search submitted while an icon loaded); a file that is missing or refused answers
        # with a status, which on_response reports.
        if request.url.startswith(origin + "/") and "ERR_ABORTED" not in (request.failure or ""):
            problems.append(f"request failed: {request.url} {request.failure}")

    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    setattr(page, _PROBLEMS, problems)


# The page as it is now, less the injected axe-core (half a megabyte).
_HTML_WITHOUT_AXE = """() => {
  const copy = document.documentElement.cloneNode(true);
  copy.querySelectorAll("script[data-lms-axe]").forEach(script => script.remove());
  return "<!DOCTYPE html>\\n" + copy.outerHTML;
}"""


@pytest.fixture
def make_page(browser: Browser, live_url: str, request: pytest.FixtureRequest,
              _axe_source: str) -> Iterator[Callable[..., Page]]:
    """Open a page in a new browser context (its own cookies) at ``viewport``."""
    opened: list[Page] = []

    def make(viewport: dict[str, int] | None = None) -> Page:
        context = browser.new_context(viewport=viewport or DESKTOP, base_url=live_url)
        context.set_default_timeout(10_000)
        # axe arrives as an init script: the pages' Content-Security-Policy (which allows no
        # inline scripts) stays on, so the tests also prove the service works under it.
        context.add_init_script(script=_axe_source)
        # Nothing leaves the machine: the NHS.UK fonts on assets.nhs.uk fall back to Arial.
        context.route(lambda url: not url.startswith(live_url + "/"),
                      lambda route: route.abort("blockedbyclient"))
        page = context.new_page()
        _watch(page, live_url)
        opened.append(page)
        return page

    yield make

    if _failed(request.node):
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", request.node.nodeid).strip("_")
        for n, item in enumerate(opened, start=1):
            name = stem if len(opened) == 1 else f"{stem}-{n}"
            try:
                item.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                (ARTIFACTS / f"{name}.html").write_text(
                    f"<!-- {item.url} -->\n{item.evaluate(_HTML_WITHOUT_AXE)}",
                    encoding="utf-8")
            except Exception as exc:  # noqa: BLE001 - saving evidence must not hide the failure
                logging.getLogger(__name__).warning("could not save %s: %s", name, exc)
    for item in opened:
        item.context.close()


@pytest.fixture
def page(make_page: Callable[..., Page]) -> Page:
    return make_page()


# ---------------------------------------------------------------------------- checks


@pytest.fixture(scope="session")
def _axe_records(request: pytest.FixtureRequest) -> Iterator[list[dict]]:
    records: list[dict] = []
    request.config.stash[_AXE_RECORDS] = records
    yield records
    if records:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "axe-summary.json").write_text(json.dumps(records, indent=2))


@pytest.fixture(scope="session")
def _axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make static`")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture
def axe_check(_axe_records: list[dict], _axe_source: str,
              request: pytest.FixtureRequest) -> Callable[..., list[dict]]:
    """``axe_check(page)``: run axe on the page as it is now; fail on any violation (listing
    them all), and record every violation for the session summary. ``impacts="blocking"``
    fails only on serious or critical ones."""

    def check(page: Page, impacts: str = "all") -> list[dict]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            pytest.fail("axe-core was not injected into the page")
        results = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        violations = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "helpUrl": v["helpUrl"],
                "targets": [" ".join(map(str, node["target"])) for node in v["nodes"]],
            }
            for v in results["violations"]
        ]
        _axe_records.append({"test": request.node.nodeid, "url": page.url,
                             "title": page.title(), "violations": violations})
        if impacts not in ("blocking", "all"):
            raise ValueError(f"impacts must be 'blocking' or 'all', not {impacts!r}")
        blocking = [v for v in violations
                    if impacts == "all" or v["impact"] in BLOCKING_IMPACTS]
        if blocking:
            kind = "" if impacts == "all" else " serious/critical"
            lines = [f"axe found {len(blocking)}{kind} violation(s) on {page.url}:"]
            for v in blocking:
                lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
                lines.extend(f"    {target}" for target in v["targets"])
            pytest.fail("\n".join(lines))
        return violations

    return check


@pytest.fixture
def check_page(axe_check: Callable[..., list[dict]]) -> Callable[..., str]:
    """``check_page(page)``: the checks every page must pass; returns its title.
    ``impacts`` as for ``axe_check``."""

    def check(page: Page, impacts: str = "all") -> str:
        page.wait_for_load_state("load")
        # NHS.UK's script ran (it refuses to start without the body class the layout sets).
        expect(page.locator("header.nhsuk-header")).to_have_attribute(
            "data-nhsuk-header-init", "")
        problems = getattr(page, _PROBLEMS, [])
        assert not problems, f"on {page.url}: {problems}"
        h1s = page.locator("h1")
        assert h1s.count() == 1, f"{page.url} has {h1s.count()} h1 elements"
        title = page.title().strip()
        assert title, f"{page.url} has an empty <title>"
        has_errors = page.locator(".nhsuk-error-summary").count() > 0
        assert title.startswith("Error: ") == has_errors, (
            f"{page.url}: title {title!r} and error summary shown={has_errors} disagree"
        )
        axe_check(page, impacts=impacts)
        return title

    return check


# ---------------------------------------------------------------------------- page helpers


def sign_in(page: Page, email: str, password: str = PASSWORD, home: bool = True) -> None:
    """Fill in and send the sign-in form; with ``home`` wait for the home page (not when a
    second step, a security code, follows)."""
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    if home:
        page.wait_for_load_state("load")
        if page.url.endswith("/sign-in/code"):  # an admin: the code from their app next
            page.get_by_label("Security code").fill(pyotp.TOTP(TOTP_SECRET).now())
            page.get_by_role("button", name="Continue").click()
        expect(page).to_have_url(re.compile(r"/$"))
        page.wait_for_load_state("load")


def no_sideways_scroll(page: Page) -> None:
    """The page fits its viewport's width (a phone must not scroll sideways)."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width}px)"


def fill_date(page: Page, legend: str, day) -> None:
    """Type a date into the NHS.UK date input (day, month and year boxes) named by its legend."""
    group = page.get_by_role("group", name=legend, exact=True)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def menu_settled(page: Page) -> None:
    """Wait until the header's script has laid the menu out for good: it measures the items'
    widths when the page loads and again when the fonts arrive, and may move an item under
    "More" in between (on a loaded machine the two can be a second apart)."""
    page.wait_for_load_state("load")
    page.evaluate("""async () => {
        await document.fonts.ready;
        await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    }""")


def follow_menu_link(page: Page, label: str) -> None:
    """Follow a link of the header menu once it is laid out for good, opening "More" when the
    link is folded away under it."""
    menu_settled(page)
    menu = page.get_by_role("navigation", name="Menu")
    link = menu.get_by_role("link", name=label, exact=True)
    if not link.is_visible():
        menu.get_by_role("button", name="Browse More").click()
        expect(link).to_be_visible()
    link.click()
