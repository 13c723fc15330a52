"""Issue #11, journeys 1, 5 and 6: a learner's whole journey, the booking journey by keyboard
alone, and a learner's pages on a phone. Real Chromium; axe-core (WCAG 2.2 A and AA, every
impact) on every page each journey visits, plus one ``h1``, a unique title, the main and
navigation landmarks and a skip link.

The world (a short course, the Analyst Network, the festival, a survey) is built beforehand
through the services, as faculty would have built it; everything the learner does goes through
the browser. The clock is moved with time-machine (the server runs in this process), so that a
session can start, be checked in to and end within the test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import icalendar
import pytest
import time_machine
from playwright.sync_api import Page, expect

from lms.accounts.models import Role, User
from lms.attendance import services as attendance
from lms.clock import LONDON, to_london, utcnow
from lms.courses import cohorts
from lms.courses import services as courses
from lms.extensions import db
from lms.feedback import builder
from lms.offerings.schedule import SessionDetails
from tests.browser.conftest import no_sideways_scroll, sign_in
from tests.test_certificates_support import pdf_text
from tests.test_events_support import add_session, make_festival, make_network

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
COURSE = "Time-series forecasting"
COHORT = "Winter cohort"
NETWORK = "Midlands Analyst Network huddles"
FESTIVAL = "INSIGHT festival"
NAME = "Priya Shah"
EMAIL = "priya.shah@example.nhs.uk"
PASSWORD = "kettle orchard lantern"


# ---------------------------------------------------------------------------- page checks


class Journey:
    """Check each page a journey visits: the harness's checks with axe failing on violations
    of any impact, the ``main`` and navigation landmarks, a skip link to ``main`` as the first
    thing in the page, and a title no other page of the journey has (an error state is its
    page's title with "Error: " in front)."""

    def __init__(self, page: Page, check_page: Callable[..., str]):
        self.page = page
        self.check_page = check_page
        self.titles: dict[str, str] = {}

    def see(self, label: str, h1: str | re.Pattern, error: bool = False) -> str:
        page = self.page
        expect(page.locator("h1")).to_have_text(h1)
        expect(page.locator(".nhsuk-error-summary")).to_have_count(1 if error else 0)
        title = self.check_page(page, impacts="all")
        assert title.startswith("Error: ") == error, f"{label}: title {title!r}"
        expect(page.get_by_role("main")).to_have_count(1)
        expect(page.get_by_role("navigation", name="Menu")).to_have_count(1)
        expect(page.get_by_role("banner")).to_have_count(1)
        skip = page.locator("a.nhsuk-skip-link")
        expect(skip).to_have_count(1)
        expect(skip).to_have_attribute("href", "#maincontent")
        expect(page.locator("main#maincontent")).to_have_count(1)
        first = page.evaluate("""() => {
            const focusable = 'a[href], button, input:not([type=hidden]), select, textarea';
            return document.querySelector(focusable).className;
        }""")
        assert first == "nhsuk-skip-link", f"{page.url}: the first link is {first!r}"
        if error:
            self._errors_lead_to_their_fields()
        base = title.removeprefix("Error: ")
        if label in self.titles:
            assert self.titles[label] == base, f"{label} changed title: {base!r}"
        else:
            clash = [other for other, seen in self.titles.items() if seen == base]
            assert not clash, f"{label} has the same title as {clash}: {base!r}"
            self.titles[label] = base
        return title


    def _errors_lead_to_their_fields(self) -> None:
        """The error summary has focus; each of its errors links to a field that says what is
        wrong (``aria-describedby`` to its error message), and following the first link puts
        the cursor in that field."""
        page = self.page
        summary = page.locator(".nhsuk-error-summary")
        expect(summary).to_be_focused()
        links = summary.locator("a")
        assert links.count() >= 1, f"{page.url}: the error summary links to no field"
        targets = [links.nth(n).get_attribute("href") for n in range(links.count())]
        for target in targets:
            assert target and target.startswith("#"), f"{page.url}: error link {target!r}"
            field = page.locator(target)
            expect(field).to_have_count(1)
            described = field.evaluate(
                "el => (el.closest('fieldset') || el).getAttribute('aria-describedby') || ''")
            assert f"{target[1:]}-error" in described.split(), (
                f"{page.url}: {target} is not described by its error message")
        links.first.click()
        expect(page.locator(targets[0])).to_be_focused()


def _menu(page: Page):
    return page.get_by_role("navigation", name="Menu")


def _banner(page: Page):
    return page.locator(".nhsuk-notification-banner")


# ---------------------------------------------------------------------------- the world


def _tomorrow_at(hour: int) -> datetime:
    """A fixed clock time tomorrow in London, far from midnight and the next day's changes."""
    day = to_london(datetime.now(UTC)).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, 0), tzinfo=LONDON)


def _short_course(day: date, start: time, end: time):
    """A published short course (feedback needed to complete) with one open cohort of one
    online session, and its check-in code; as faculty would build it."""
    course = courses.create_course(courses.CourseDetails(
        title=COURSE, summary="Forecast demand with ARIMA and Prophet, in R or Python.",
        kind="short_course", strand="analytical_capability", format="online",
        cpd_hours="3", min_attendance_percent=75, requires_feedback=True))
    settings = cohorts.CohortSettings(name=COHORT, capacity=20, booking_mode="open")
    cohort = cohorts.create_cohort(course, settings, [SessionDetails(
        day, start, end, title="Forecasting in practice",
        join_url="https://teams.example.com/l/forecasting")])
    cohorts.update_cohort(cohort, cohorts.settings_of(cohort), status="open")
    session = cohort.sessions[0]
    code = attendance.check_in_code(session).code
    return cohort, session, code


def _survey(faculty, cohort, session, opens: datetime) -> None:
    survey = builder.create_survey(faculty, cohort, "blank", title="How was the session?")
    builder.add_question(survey, builder.QuestionDetails(
        kind="agreement", text="The session was useful for my work"))
    builder.add_question(survey, builder.QuestionDetails(
        kind="long_text", text="What could we do better?", required=False))
    opens = to_london(opens)
    closes = opens + timedelta(days=14)
    builder.change_settings(survey, builder.SurveySettings(
        title=survey.title, intro="Two questions, two minutes.", anonymous=True,
        session_id=session.id, opens_day=opens.date(), opens_time=opens.time(),
        closes_day=closes.date(), closes_time=closes.time()))


def _festival() -> None:
    festival = make_festival(title=FESTIVAL)
    add_session(festival, "Opening keynote", start=time(9, 30), end=time(10, 30))
    add_session(festival, "Evaluation clinic", start=time(11, 0), end=time(12, 0), track=2,
                capacity=20)
    add_session(festival, "Forecasting workshop", start=time(10, 0), end=time(10, 45),
                track=1, capacity=12)


# ---------------------------------------------------------------------------- journey 1


def test_learner_journey_from_sign_up_to_learning_record(
    page: Page, live_app, live_user, live_mail, check_page, tmp_path: Path
):
    # The clock: tomorrow, 10:00 in London, ticking. The cohort's one session runs 10:20 to
    # 10:50; check-in opens when it starts; feedback opens when it ends.
    with time_machine.travel(_tomorrow_at(10), tick=True) as clock:
        _learner_journey(clock, page, live_app, live_user, live_mail, check_page, tmp_path)


def _learner_journey(clock, page, live_app, live_user, live_mail, check_page, tmp_path):
    faculty = live_user(Role.FACULTY, name="Fay Faculty", org="SU")
    today = to_london(utcnow()).date()
    with live_app.app_context():
        fay = db.session.get(User, faculty.id)
        cohort, session, code = _short_course(today, time(10, 20), time(10, 50))
        _survey(fay, cohort, session, opens=session.ends_at)
        make_network(title=NETWORK, count=6)
        _festival()
        db.session.commit()
        cohort_id, session_starts, session_ends = cohort.id, session.starts_at, session.ends_at
    journey = Journey(page, check_page)

    # Sign up from the home page, confirm by the emailed link, sign in.
    page.goto("/")
    journey.see("home", "MDSN Learning & Events")
    _menu(page).get_by_role("link", name="Create an account").click()
    journey.see("sign up", "Create an account")
    page.get_by_label("Full name").fill(NAME)
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Job title (optional)").fill("Senior analyst")
    page.get_by_label("Organisation").select_option(label="Birmingham and Solihull")
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_label("Confirm your password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    journey.see("check your email", "Check your email")
    page.goto(live_mail.link(EMAIL, "/confirm-email/"))
    journey.see("confirm email", "Confirm your email address")
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(_banner(page)).to_contain_text("Your email address is confirmed")
    journey.see("sign in", "Sign in")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("navigation", name="Account").get_by_role(
        "link", name=NAME)).to_be_visible()
    journey.see("home", "MDSN Learning & Events")

    # The catalogue: search for the course, open it and its cohort, book a place.
    _menu(page).get_by_role("link", name="Courses").click()
    journey.see("catalogue", "Courses and programmes")
    page.get_by_role("main").get_by_label(re.compile("Search")).fill("forecasting")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("status")).to_have_text("1 course found")
    journey.see("catalogue, filtered", "Courses and programmes")
    page.get_by_role("link", name=COURSE, exact=True).click()
    journey.see("course", re.compile(COURSE))
    page.get_by_role("link", name=COHORT).click()
    expect(page).to_have_url(re.compile(rf"/cohorts/{cohort_id}$"))
    journey.see("cohort", re.compile(COHORT))
    page.get_by_role("button", name="Book a place").click()
    expect(_banner(page)).to_contain_text("We have sent you an email")
    expect(page.locator("#booking")).to_contain_text("You have a place")
    journey.see("cohort", re.compile(COHORT))
    assert any(COURSE in (m["Subject"] or "") for m in live_mail.messages(EMAIL))

    # Its calendar file: one event for the one session, at 10:20 in London.
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"Add every session to my calendar")).click()
    calendar = icalendar.Calendar.from_ical(Path(download.value.path()).read_bytes())
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["SUMMARY"]).startswith(f"{COURSE} – {COHORT}")
    start = event.decoded("DTSTART")
    assert start.astimezone(LONDON).replace(tzinfo=None) == datetime.combine(
        today, time(10, 20))
    assert re.fullmatch(r"session-\d+@127\.0\.0\.1", str(event["UID"]))

    # The Analyst Network: join it.
    _menu(page).get_by_role("link", name="Events").click()
    journey.see("events", "Events")
    page.get_by_role("link", name=NETWORK).click()
    journey.see("network", re.compile(NETWORK))
    page.get_by_role("button", name="Join the network").click()
    expect(page.locator("#booking")).to_contain_text("You are a member")
    journey.see("network", re.compile(NETWORK))

    # The festival: register, book two sessions; a third that clashes is refused.
    _menu(page).get_by_role("link", name="Events").click()
    page.get_by_role("link", name=FESTIVAL).click()
    journey.see("festival", re.compile(FESTIVAL))
    page.get_by_role("button", name="Register for the festival").click()
    expect(page.get_by_text("You are registered.").first).to_be_visible()
    journey.see("festival", re.compile(FESTIVAL))
    page.get_by_role("button", name="Book Opening keynote").click()
    expect(page.get_by_text("You are booked on “Opening keynote”")).to_be_visible()
    journey.see("festival", re.compile(FESTIVAL))
    page.get_by_role("button", name="Book Evaluation clinic").click()
    expect(page.get_by_text("You are booked on “Evaluation clinic”")).to_be_visible()
    journey.see("festival", re.compile(FESTIVAL))
    # The clashing workshop offers no Book button (it would be refused): the clash is named.
    expect(page.get_by_role("button", name="Book Forecasting workshop")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"This clashes with Opening keynote at 9:30am"))
           ).to_be_visible()
    journey.see("festival", re.compile(FESTIVAL))
    page.get_by_role("link", name="your agenda").click()
    journey.see("agenda", re.compile("My agenda"))
    agenda = page.get_by_role("main")
    expect(agenda.get_by_role("heading", name="Opening keynote")).to_be_visible()
    expect(agenda.get_by_role("heading", name="Evaluation clinic")).to_be_visible()
    expect(agenda.get_by_role("heading", name="Forecasting workshop")).to_have_count(0)

    # Five minutes into the session the learner is there: they check in by typing the code
    # shown on the screen (a wrong one first).
    clock.shift(session_starts + timedelta(minutes=5) - utcnow())
    _menu(page).get_by_role("link", name="My learning").click()
    journey.see("my learning", "My learning")
    page.get_by_role("link", name="Check in to a session").click()
    journey.see("check in", "Check in to a session")
    page.get_by_label("Check-in code").fill("ZZZZZZ")
    page.get_by_role("button", name="Check in").click()
    journey.see("check in", "Check in to a session", error=True)
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("That code is not right")
    page.get_by_label("Check-in code").fill(code.lower())
    page.get_by_role("button", name="Check in").click()
    expect(_banner(page)).to_contain_text(f"You are checked in to {COURSE}")
    journey.see("my learning", "My learning")

    # The session ends. Time passes in steps shorter than the 30 idle minutes that sign a
    # person out, with the learner looking at their progress in between.
    while utcnow() < session_ends + timedelta(minutes=1):
        clock.shift(timedelta(minutes=20))
        page.reload()
        expect(page.locator("h1")).to_have_text("My learning")
    page.get_by_role("link", name=f"Your progress on {COURSE}").click()
    journey.see("progress", re.compile(COURSE))
    expect(page.get_by_role("main")).to_contain_text("Present")

    # Feedback: the survey opened when the session ended.
    _menu(page).get_by_role("link", name="My learning").click()
    page.get_by_role("link", name="Give feedback").click()
    journey.see("feedback", "Feedback")
    page.get_by_role("link", name=re.compile("How was the session?")).click()
    journey.see("survey", re.compile("How was the session?"))
    page.get_by_role("button", name="Send your answers").click()
    journey.see("survey", re.compile("How was the session?"), error=True)
    page.get_by_role("group", name=re.compile("The session was useful")).get_by_label(
        "Strongly agree").check()
    page.get_by_label(re.compile("What could we do better?")).fill("More time for questions.")
    page.get_by_role("button", name="Send your answers").click()
    expect(_banner(page)).to_contain_text("Thank you. Your answers have been sent.")
    journey.see("feedback", "Feedback")

    # The certificate was issued the moment the feedback completed the course, and emailed.
    subjects = [m["Subject"] for m in live_mail.messages(EMAIL)]
    assert f"You have completed {COURSE} – {COHORT}" in subjects, subjects
    assert f"Your certificate: {COURSE} ({COHORT})" in subjects, subjects

    # Download it, then check it as an employer would, at the address printed on it.
    _menu(page).get_by_role("link", name="My learning").click()
    page.get_by_role("link", name="Your certificates").click()
    journey.see("certificates", "My certificates")
    row = page.get_by_role("main").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(COURSE)
    expect(row).to_contain_text("Valid")
    serial = row.locator("td").nth(2).inner_text().removeprefix("Certificate number").strip()
    assert re.fullmatch(r"[A-Z0-9-]+", serial), serial
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download PDF")).click()
    assert download.value.suggested_filename.endswith(f"{NAME}.pdf")
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    assert NAME in text and COURSE in text, text
    verify_url = re.search(r"https?://\S+/verify/[A-Za-z0-9_-]+", text)
    assert verify_url, text
    page.goto(verify_url.group(0))
    journey.see("verify", "Certificate check")
    checked = page.get_by_role("main")
    expect(checked.get_by_text("This certificate is valid")).to_be_visible()
    expect(checked.locator(".nhsuk-summary-list")).to_contain_text(NAME)
    expect(checked.locator(".nhsuk-summary-list")).to_contain_text("Valid")

    # The learning record: the course completed, its CPD hours and the certificate.
    _menu(page).get_by_role("link", name="My learning").click()
    page.get_by_role("link", name="Your learning record").click()
    journey.see("learning record", "Your learning record")
    completed = page.locator("#courses + table tbody tr")
    expect(completed).to_have_count(1)
    expect(completed.locator("th")).to_contain_text(f"{COURSE} – {COHORT}")
    expect(completed.locator("td").last).to_have_text(re.compile(r"CPD hours\s*3$"))
    expect(page.get_by_role("main")).to_contain_text(f"serial {serial}")

    assert len(journey.titles) == 21, journey.titles


# ---------------------------------------------------------------------------- journey 5

# Where focus is, and whether it shows: a visible outline (not transparent, not zero wide)
# or a box shadow (NHS.UK's links and buttons draw their focus as a yellow and black shadow).
# NHS.UK's radios and checkboxes hide the input itself and draw the focus on its label.
_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const drawn = el.matches('.nhsuk-checkboxes__input, .nhsuk-radios__input')
    ? getComputedStyle(el.labels[0], '::before') : getComputedStyle(el);
  const outline = drawn.outlineStyle !== 'none' && parseFloat(drawn.outlineWidth) > 0
    && !['transparent', 'rgba(0, 0, 0, 0)'].includes(drawn.outlineColor);
  return {
    tag: el.tagName.toLowerCase(), id: el.id, classes: String(el.className),
    text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim(),
    href: el.getAttribute('href'), inMain: !!el.closest('main'),
    visible: outline || drawn.boxShadow !== 'none',
    style: `outline: ${drawn.outlineStyle} ${drawn.outlineWidth} ${drawn.outlineColor}; `
      + `box-shadow: ${drawn.boxShadow}`,
  };
}"""


class Keyboard:
    """Move through a page with Tab and Shift+Tab only, checking that every stop shows
    its focus."""

    def __init__(self, page: Page):
        self.page = page
        self.stops = 0

    def press(self, key: str) -> dict:
        self.page.keyboard.press(key)
        stop = self.page.evaluate(_FOCUS)
        assert stop is not None, f"{key} on {self.page.url} left focus nowhere"
        assert stop["visible"], f"focus is not visible on {self.page.url}: {stop}"
        self.stops += 1
        return stop

    def first_stop_is_the_skip_link(self) -> dict:
        stop = self.press("Tab")
        assert "nhsuk-skip-link" in stop["classes"], f"first stop on {self.page.url}: {stop}"
        assert stop["text"] == "Skip to main content" and stop["href"] == "#maincontent"
        return stop

    def tab_to(self, wanted: Callable[[dict], bool], what: str, limit: int = 80) -> dict:
        for _ in range(limit):
            stop = self.press("Tab")
            if wanted(stop):
                return stop
        raise AssertionError(f"{limit} presses of Tab on {self.page.url} never reached {what}")


def _link(text: str) -> Callable[[dict], bool]:
    return lambda stop: stop["tag"] == "a" and stop["text"] == text


def test_booking_journey_by_keyboard_alone(page: Page, live_app, live_user, check_page):
    learner = live_user(name="Kim Keyboard")
    with live_app.app_context():
        _short_course(to_london(utcnow()).date() + timedelta(days=14), time(9, 30),
                      time(12, 30))
        db.session.commit()
    journey = Journey(page, check_page)
    keys = Keyboard(page)

    # Home: the skip link comes first; then the menu's "Sign in".
    page.goto("/")
    journey.see("home", "MDSN Learning & Events")
    keys.first_stop_is_the_skip_link()
    keys.tab_to(_link("Sign in"), "the Sign in link")
    page.keyboard.press("Enter")
    journey.see("sign in", "Sign in")
    keys.first_stop_is_the_skip_link()
    keys.tab_to(lambda s: s["id"] == "email", "the email field")
    page.keyboard.type(learner.email)
    keys.tab_to(lambda s: s["id"] == "password", "the password field")
    page.keyboard.type(learner.password)
    # Back and forth: Shift+Tab returns to the email field, Tab to the password again.
    assert keys.press("Shift+Tab")["id"] == "email"
    assert keys.press("Tab")["id"] == "password"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(learner.name)
    journey.see("home", "MDSN Learning & Events")

    # The catalogue from the menu; the skip link takes focus past the header to the page.
    keys.first_stop_is_the_skip_link()
    keys.tab_to(_link("Courses"), "the Courses link")
    page.keyboard.press("Enter")
    journey.see("catalogue", "Courses and programmes")
    keys.first_stop_is_the_skip_link()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    stop = keys.press("Tab")
    assert stop["inMain"], f"after the skip link, focus went to {stop}"
    keys.tab_to(_link(COURSE), f"the link to {COURSE}")
    page.keyboard.press("Enter")

    # The course, its cohort, and the booking button pressed with Space.
    journey.see("course", re.compile(COURSE))
    keys.first_stop_is_the_skip_link()
    keys.tab_to(lambda s: s["tag"] == "a" and s["text"].startswith(COHORT), "the cohort link")
    page.keyboard.press("Enter")
    journey.see("cohort", re.compile(COHORT))
    keys.first_stop_is_the_skip_link()
    button = keys.tab_to(lambda s: s["tag"] == "button" and s["text"] == "Book a place",
                         "the Book a place button")
    assert button["inMain"]
    page.keyboard.press("Space")
    banner = page.locator(".nhsuk-notification-banner--success")
    expect(banner).to_contain_text("We have sent you an email")
    expect(page.locator("#booking")).to_contain_text("You have a place")
    journey.see("cohort", re.compile(COHORT))
    assert keys.stops >= 10


# ---------------------------------------------------------------------------- journey 6


def test_learner_pages_on_a_phone(make_page, live_app, live_user, check_page):
    # Tomorrow at 10:00 in London; the cohort's session runs 10:10 to 11:00, so the cohort
    # can still be booked; the clock then moves into the session, when check-in opens.
    with time_machine.travel(_tomorrow_at(10), tick=True) as clock:
        _phone_journey(clock, make_page, live_app, live_user, check_page)


def _phone_journey(clock, make_page, live_app, live_user, check_page):
    learner = live_user(name="Pat Phone")
    with live_app.app_context():
        _, session, code = _short_course(to_london(utcnow()).date(), time(10, 10),
                                         time(11, 0))
        _festival()
        db.session.commit()
        session_starts = session.starts_at
    phone = make_page(PHONE)
    journey = Journey(phone, check_page)

    def see(label: str, h1: str | re.Pattern, error: bool = False) -> None:
        journey.see(label, h1, error)
        no_sideways_scroll(phone)

    sign_in(phone, learner.email, learner.password)
    see("home", "MDSN Learning & Events")

    # The catalogue, filtered; the course; its cohort; booking.
    phone.goto("/courses")
    see("catalogue", "Courses and programmes")
    phone.get_by_label("Format").select_option(label="Online")
    phone.get_by_role("button", name="Apply filters").click()
    expect(phone.get_by_role("status")).to_have_text("1 course found")
    see("catalogue, filtered", "Courses and programmes")
    phone.get_by_role("link", name=COURSE, exact=True).click()
    see("course", re.compile(COURSE))
    phone.get_by_role("link", name=COHORT).click()
    see("cohort", re.compile(COHORT))
    phone.get_by_role("button", name="Book a place").click()
    expect(phone.locator(".nhsuk-notification-banner--success")).to_contain_text(
        "We have sent you an email")
    see("cohort", re.compile(COHORT))

    # Check-in, from My learning, once the session has started.
    clock.shift(session_starts + timedelta(minutes=2) - utcnow())
    phone.goto("/my-learning")
    see("my learning", "My learning")
    phone.get_by_role("link", name="Check in to a session").click()
    see("check in", "Check in to a session")
    phone.get_by_role("button", name="Check in").click()
    see("check in", "Check in to a session", error=True)
    phone.get_by_label("Check-in code").fill(code)
    phone.get_by_role("button", name="Check in").click()
    expect(phone.locator(".nhsuk-notification-banner--success")).to_contain_text(
        f"You are checked in to {COURSE}")
    see("my learning", "My learning")

    # The festival's timetable: register, book, see a clash refused, then the agenda.
    phone.goto("/events")
    see("events", "Events")
    phone.get_by_role("link", name=FESTIVAL).click()
    see("festival", re.compile(FESTIVAL))
    expect(phone.get_by_role("button", name="Book Opening keynote")).to_have_count(0)
    phone.get_by_role("button", name="Register for the festival").click()
    expect(phone.get_by_text("You are registered.").first).to_be_visible()
    see("festival", re.compile(FESTIVAL))
    phone.get_by_role("button", name="Book Opening keynote").click()
    expect(phone.get_by_text("You are booked on “Opening keynote”")).to_be_visible()
    see("festival", re.compile(FESTIVAL))
    expect(phone.get_by_role("button", name="Book Forecasting workshop")).to_have_count(0)
    expect(phone.get_by_text(re.compile(r"This clashes with Opening keynote at 9:30am"))
           ).to_be_visible()
    see("festival", re.compile(FESTIVAL))
    phone.get_by_role("link", name="your agenda").click()
    see("agenda", re.compile("My agenda"))
    expect(phone.get_by_role("main").get_by_role("heading", name="Opening keynote")
           ).to_be_visible()
