"""Issue #11, journeys 2 to 4: a DSU lead, faculty and an admin at work, each one test, end to
end through the pages in real Chromium. Beforehand each test makes only the world its journey
starts from (people, with their organisations and roles, and a programme). Every page state a
journey visits gets axe-core (WCAG 2.2 A and AA, violations of any impact fail), one ``h1``,
landmarks, a skip link and a title no other page of the journey has; every form error
provoked is in the error summary, whose link moves focus to its field."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from lms.accounts.models import Organisation, Role, User
from lms.certificates import bulk
from lms.clock import to_london, utcnow
from lms.courses.models import Cohort
from lms.extensions import db
from lms.offerings.models import Enrolment
from tests import catalogue_builders as build
from tests.browser.conftest import fill_date, follow_menu_link, no_sideways_scroll, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


class Visits:
    """The checks for every page state a journey visits; remembers titles to keep them
    unique across the journey (a page seen again may keep its own)."""

    def __init__(self, check_page: Callable[..., str]):
        self.check_page = check_page
        self.titles: dict[str, str] = {}

    def __call__(self, page: Page) -> str:
        title = self.check_page(page, impacts="all")
        bare = title.removeprefix("Error: ")
        path = urlsplit(page.url).path
        seen = self.titles.setdefault(bare, path)
        assert seen == path, f"{path} has the same title as {seen}: {bare!r}"
        expect(page.get_by_role("banner")).to_have_count(1)
        expect(page.get_by_role("main")).to_have_count(1)
        expect(page.get_by_role("contentinfo")).to_have_count(1)
        assert page.get_by_role("navigation").count() >= 1, f"{page.url} has no navigation"
        skip = page.locator("a.nhsuk-skip-link")
        expect(skip).to_have_count(1)
        target = skip.get_attribute("href")
        assert target and target.startswith("#"), f"{page.url}: skip link to {target!r}"
        expect(page.locator(f"main{target}")).to_have_count(1)
        return title


@pytest.fixture
def visit(check_page) -> Visits:
    return Visits(check_page)


def _sign_in(page: Page, person, home: bool = True) -> None:
    """The sign-in form; ``home=False`` when a second step (a security code) follows."""
    sign_in(page, person.email, person.password, home=home)


def _error_is_linked(page: Page, visit: Visits, field_id: str, message: str | re.Pattern) -> None:
    """The error summary shows ``message``, its link goes to the field, and following the
    link puts the focus in that field."""
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    assert visit(page).startswith("Error: ")
    link = summary.locator(f"a[href='#{field_id}']")
    expect(link).to_have_text(message)
    # The message is also beside the field, for people who do not start at the summary.
    expect(page.locator(f"#{field_id}-error")).to_contain_text(message)
    link.click()
    expect(page.locator(f"#{field_id}")).to_be_focused()


def _success(page: Page):
    return page.locator(".nhsuk-notification-banner--success")


def _cells(row) -> list[str]:
    """A table row's cells as a person hears them (without the hidden responsive headings)."""
    return row.locator("th, td").evaluate_all(
        """cells => cells.map(cell => {
             const copy = cell.cloneNode(true);
             copy.querySelectorAll("[aria-hidden=true]").forEach(node => node.remove());
             return copy.textContent.replace(/\\s+/g, " ").trim();
           })""")


def _row(page: Page, table: str, first_cell: str) -> list[str]:
    """The cells of the row of the table named ``table`` that starts with ``first_cell``."""
    rows = page.get_by_role("table", name=table).locator("tbody tr").filter(
        has=page.get_by_role("rowheader", name=first_cell, exact=True)
        .or_(page.get_by_role("cell", name=first_cell, exact=True)))
    expect(rows).to_have_count(1)
    return _cells(rows)


# ---------------------------------------------------------------------------- 2. DSU lead


def test_dsu_lead_nominates_within_quota_and_reads_the_ics_dashboard(
    page: Page, live_app, live_user, visit
):
    lead = live_user(Role.DSU_LEAD, name="Dana Lead", org="BSOL")
    for name in ("Asha Patel", "Ben Okafor", "Chloe Singh"):
        live_user(name=name, org="BSOL")
    live_user(name="Sam Other", org="BC")  # another ICS: not Dana's to nominate
    with live_app.app_context():
        programme = build.course("Analytical leaders programme", kind="programme",
                                 strand="analytical_leaders")
        cohort = build.cohort(programme, "Cohort 3", mode="nomination", capacity=12,
                              quotas={"BSOL": 2, "BC": 3},
                              starts=[utcnow() + timedelta(days=30),
                                      utcnow() + timedelta(days=44)])
        db.session.commit()
        cohort_id, title = cohort.id, cohort.title

    _sign_in(page, lead)
    follow_menu_link(page, "Nominations")
    expect(page.locator("h1")).to_have_text("Nominations")
    visit(page)
    assert _row(page, "Cohorts by nomination and your ICS's quota", title)[2:4] == [
        "2", "0"]

    page.get_by_role("link", name=title).click()
    expect(page.locator("h1")).to_have_text(f"Nominate for {title}")
    expect(page.locator("main")).to_contain_text("0 of 2 places used")
    expect(page.locator("main")).to_contain_text("You have not nominated anyone yet.")
    visit(page)
    people = page.locator("main form.lms-person-row")
    expect(people.filter(has_text="Sam Other")).to_have_count(0)

    # Two people, one found by searching.
    page.get_by_role("main").get_by_role("searchbox").fill("okafor")
    page.get_by_role("main").get_by_role("button", name="Search").click()
    expect(people).to_have_count(1)
    visit(page)
    page.get_by_role("button", name="Nominate Ben Okafor").click()
    expect(_success(page)).to_contain_text("Ben Okafor has been nominated.")
    page.get_by_role("button", name="Nominate Asha Patel").click()
    expect(_success(page)).to_contain_text("Asha Patel has been nominated.")
    expect(page.locator("main")).to_contain_text("2 of 2 places used")
    visit(page)

    # A third is over the quota: no Nominate button is offered, and the page says why.
    expect(people).to_have_count(0)
    expect(page.locator("#cannot-nominate")).to_contain_text(
        "Your ICS has used all 2 of its places on this cohort")
    expect(page.locator("main")).to_contain_text("2 of 2 places used")
    visit(page)

    # The nominations and their states.
    nominations = "People of your ICS nominated for this cohort"
    assert _row(page, nominations, "Asha Patel")[:2] == ["Asha Patel", "Nominated"]
    assert _row(page, nominations, "Ben Okafor")[:2] == ["Ben Okafor", "Nominated"]
    expect(page.get_by_role("table", name=nominations).locator("tbody tr")).to_have_count(2)
    with live_app.app_context():
        assert db.session.scalar(select(func.count(Enrolment.id)).where(
            Enrolment.offering_id == cohort_id)) == 2
        db.session.rollback()
    page.get_by_role("link", name="Back to nominations").click()
    assert _row(page, "Cohorts by nomination and your ICS's quota", title)[2:] == [
        "2", "2", "Your ICS has used all 2 of its places on this cohort"]

    # The ICS dashboard counts them.
    follow_menu_link(page, "My ICS")
    expect(page.locator("h1")).to_contain_text("Birmingham and Solihull")
    visit(page)
    # The summary (with the region beside the ICS) comes first; the long tables are folded.
    expect(page.locator("main")).to_contain_text("Attendance against the region")
    expect(page.get_by_role("table", name="Nominations against your quota, by cohort")
           ).to_be_hidden()
    for summary in page.locator("details.lms-table-details > summary").all():
        summary.click()
    visit(page)
    assert _row(page, "Nominations against your quota, by cohort", title)[1:5] == [
        "2", "2", "2", "0"]
    offering = _row(page, "Places, attendance and completions by course and event "
                          "(webinars together)", title)
    assert offering[2:5] == ["0", "0", "2"]  # places held, waiting, not yet confirmed
    people_table = "Your people's places and attendance"
    assert _row(page, people_table, "Asha Patel")[2:4] == ["0", "1"]
    assert _row(page, people_table, "Ben Okafor")[2:4] == ["0", "1"]
    expect(page.get_by_role("table", name=people_table).locator("tbody tr")).to_have_count(2)

    # Dates the wrong way round (the date boxes take only real dates).
    today = to_london(utcnow()).date()
    fill_date(page, "From", today + timedelta(days=40))
    fill_date(page, "To", today + timedelta(days=10))
    page.get_by_role("button", name="Apply filters").click()
    _error_is_linked(page, visit, "ends",
                     "The end date must be the same as or after the start date")


# ---------------------------------------------------------------------------- 4. admin


def test_admin_finds_a_person_changes_their_role_and_sees_it_audited(
    page: Page, live_app, live_user, visit
):
    admin = live_user(Role.ADMIN, name="Ada Admin", org="SU")
    secret = pyotp.random_base32(32)
    with live_app.app_context():  # Ada has two-step verification on, as admins should
        user = db.session.get(User, admin.id)
        user.totp_secret, user.totp_enabled_at = secret, utcnow()
        db.session.commit()
    live_user(name="Priya Shah", email="priya.shah@example.nhs.uk", org="OTHER")
    live_user(name="Priya Patel", org="BSOL")
    live_user(name="Sam Jones", org="BC")

    # Sign in: the password, then the code from the authenticator app (a wrong one first).
    _sign_in(page, admin, home=False)
    expect(page.locator("h1")).to_have_text("Enter your security code")
    visit(page)
    page.get_by_label("Security code").fill("12345")
    page.get_by_role("button", name="Continue").click()
    _error_is_linked(page, visit, "code", re.compile("6-digit code|recovery code"))
    page.get_by_label("Security code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/$"))
    visit(page)

    # Find the person: everyone, then by name.
    follow_menu_link(page, "Users")
    expect(page.locator("h1")).to_have_text("Users")
    expect(page.get_by_role("status")).to_have_text("4 people found.")
    visit(page)
    page.get_by_label("Name or email").fill("priya")
    page.get_by_role("button", name="Find people").click()
    expect(page.get_by_role("status")).to_have_text("2 people found.")
    visit(page)
    row = page.get_by_role("row").filter(has_text="priya.shah@example.nhs.uk")
    expect(row).to_contain_text("Other or external")
    row.get_by_role("link", name="Priya Shah").click()
    expect(page.locator("h1")).to_have_text("Priya Shah")
    visit(page)

    # A DSU lead must belong to an ICS: refused, with nothing saved.
    page.get_by_label("DSU lead").check()
    page.get_by_role("button", name="Save roles and organisation").click()
    _error_is_linked(page, visit, "roles", "A DSU lead must belong to one of the 11 ICSs")
    with live_app.app_context():
        assert db.session.get(User, _id_of(live_app, "priya.shah@example.nhs.uk")).roles == {
            Role.LEARNER}

    # Now with her ICS.
    expect(page.get_by_label("DSU lead")).to_be_checked()
    page.get_by_label("Organisation").select_option(label="Coventry and Warwickshire")
    page.get_by_role("button", name="Save roles and organisation").click()
    expect(_success(page)).to_contain_text(
        "Priya Shah's roles and organisation have been saved.")
    expect(page.get_by_label("DSU lead")).to_be_checked()
    expect(page.get_by_label("Organisation")).to_have_value(
        str(_org_id(live_app, "CW")))
    visit(page)

    # The users list shows the new role.
    page.get_by_role("link", name="Back to users").click()
    page.get_by_label("Name or email").fill("priya.shah")
    page.get_by_role("button", name="Find people").click()
    row = page.get_by_role("row").filter(has_text="priya.shah@example.nhs.uk")
    expect(row).to_contain_text("DSU lead")
    expect(row).to_contain_text("Coventry and Warwickshire")

    # The audit log: who made the change, and what it was.
    follow_menu_link(page, "Audit log")
    expect(page.locator("h1")).to_have_text("Audit log")
    visit(page)
    entries = page.locator("table.lms-audit tbody tr")
    # Each change reads as a sentence; the values before and after are behind "Details".
    role_row = entries.filter(has_text="Ada Admin gave Priya Shah the DSU lead role").first
    expect(role_row).to_be_visible()
    expect(entries.filter(has_text="Ada Admin moved Priya Shah to Coventry and Warwickshire")
           .first).to_be_visible()
    expect(role_row.locator(".nhsuk-details__text")).to_be_hidden()
    role_row.locator("summary").click()
    expect(role_row.locator(".nhsuk-details__text")).to_contain_text("dsu_lead")
    # Filtered to the changes Ada made.
    page.get_by_label("Done by (name or email)").fill("Ada")
    page.get_by_role("button", name="Show changes").click()
    visit(page)
    expect(entries.filter(has_text="dsu_lead")).not_to_have_count(0)


def _id_of(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def _org_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Organisation.id).where(Organisation.code == code))


# ---------------------------------------------------------------------------- 3. faculty

TEAMS_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "teams_attendance_report.csv"


def _teams_report(emails: dict[str, str], day) -> bytes:
    """The real-format Teams sample (UTF-16, tab-separated, in sections) with its people's
    emails swapped for the journey's people's, and its meeting moved to ``day`` (written
    month first, as Teams does): a report of another day is refused. An address Teams wrote
    in mixed case stays in mixed case, so matching regardless of case is still tested."""
    text = TEAMS_SAMPLE.read_bytes().decode("utf-16")
    text = text.replace("1/12/27,", f"{day.month}/{day.day}/{day:%y},")
    for old, new in emails.items():
        text = re.sub(re.escape(old),
                      lambda m, new=new: new if m.group(0).islower() else new.upper(),
                      text, flags=re.IGNORECASE)
    return text.encode("utf-16")


def _mark_box(page: Page, name: str):
    """A person's choice of mark on the register, found by its label (column and name)."""
    return page.get_by_role("combobox", name=re.compile(rf"^Attendance {name}"))


def _note_box(page: Page, name: str):
    return page.get_by_role("textbox", name=re.compile(rf"^Note \(optional\) {name}"))


def _register_marks(page: Page, names: list[str]) -> dict[str, str]:
    """Each person's chosen mark on the register page."""
    return {name: _mark_box(page, name).evaluate(
        "select => select.options[select.selectedIndex].textContent.trim()") for name in names}


def test_faculty_run_a_cohort_from_nominations_to_certificates(
    page: Page, make_page, live_app, live_user, visit
):
    faculty = live_user(Role.FACULTY, name="Fay Faculty", org="SU")
    lead = live_user(Role.DSU_LEAD, name="Dana Lead", org="BSOL")
    learners = {name: live_user(name=name, org="BSOL")
                for name in ("Asha Patel", "Ben Okafor", "Chloe Singh")}
    names = list(learners)
    with live_app.app_context():
        build.course("Analytical leaders programme", kind="programme",
                     strand="analytical_leaders", min_attendance_percent=50,
                     requires_feedback=True)
        db.session.commit()
    today = to_london(utcnow()).date()

    # ---- Faculty create a cohort taking nominations, with two sessions.
    _sign_in(page, faculty)
    follow_menu_link(page, "Manage courses")
    visit(page)
    page.get_by_role("link", name="Add a cohort to Analytical leaders programme").click()
    expect(page.locator("h1")).to_contain_text("Add a cohort")
    visit(page)
    page.get_by_label("Cohort name").fill("Cohort 4")
    page.get_by_label("Nomination by DSU leads").check()
    page.get_by_label("Number of places").fill("abc")
    page.get_by_role("button", name="Create cohort").click()
    _error_is_linked(page, visit, "capacity", re.compile("whole number"))
    page.get_by_label("Number of places").fill("12")
    page.get_by_label("Birmingham and Solihull").fill("3")
    fill_date(page, "Date", today + timedelta(days=14))
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("End time").fill("12:00")
    page.get_by_label("Joining link (optional)").fill("https://teams.example.nhs.uk/meet/1")
    page.get_by_role("button", name="Create cohort").click()
    expect(_success(page)).to_contain_text("“Cohort 4” has been created as a draft")
    visit(page)
    cohort_url = page.url
    page.get_by_role("link", name="Add a session").click()
    visit(page)
    fill_date(page, "Date", today + timedelta(days=21))
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("End time").fill("12:00")
    page.get_by_role("button", name=re.compile("Add session|Save session")).click()
    expect(_success(page)).to_contain_text("The session has been added.")
    expect(page.get_by_role("table", name="Sessions, in UK time").locator("tbody tr")
           ).to_have_count(2)
    page.get_by_label("Open for booking").check()
    page.get_by_role("button", name="Save settings").click()
    expect(_success(page)).to_contain_text("has been saved")
    visit(page)
    title = "Analytical leaders programme – Cohort 4"

    # ---- Their DSU lead nominates three people (the world between the two roles).
    lead_page = make_page()
    _sign_in(lead_page, lead)
    lead_page.goto("/nominations")
    lead_page.get_by_role("link", name=title).click()
    for name in names:
        lead_page.get_by_role("button", name=f"Nominate {name}").click()
        expect(_success(lead_page)).to_contain_text(f"{name} has been nominated.")
    lead_page.context.close()

    # ---- Faculty approve the nominations.
    page.goto(cohort_url)
    page.get_by_role("link", name=re.compile("^People: places")).click()
    expect(page.locator("h1")).to_have_text(f"People on {title}")
    visit(page)
    for name in names:
        page.get_by_role("button", name=f"Approve {name}", exact=True).click()
        expect(_success(page)).to_contain_text(f"Approved: {name}")
    visit(page)
    expect(page.locator("main")).not_to_contain_text("Nominated")

    # ---- Each learner confirms their place (they answer the survey later in this browser).
    learner_pages = {}
    for name, person in learners.items():
        learner_page = learner_pages[name] = make_page()
        _sign_in(learner_page, person)
        learner_page.goto("/my-learning")
        learner_page.get_by_role("button", name=re.compile(rf"^Confirm\b.*{title}")).click()
        expect(_success(learner_page)).to_contain_text("You have confirmed your place.")
    visit(learner_pages[names[0]])

    # ---- The cohort ran: faculty mark it running and record when its sessions really were.
    page.goto(cohort_url)
    page.get_by_label("Running").check()
    page.get_by_role("button", name="Save settings").click()
    expect(_success(page)).to_contain_text("has been saved")
    for days_ago, link in ((2, 0), (1, 1)):
        page.get_by_role("link", name=re.compile("^Change the session on")).nth(link).click()
        visit(page)
        fill_date(page, "Date", today - timedelta(days=days_ago))
        page.get_by_role("button", name=re.compile("Save")).click()
        expect(_success(page)).to_contain_text("The session has been saved")
    with live_app.app_context():
        cohort = db.session.scalar(select(Cohort))
        cohort_id = cohort.id
        first, second = (s.id for s in sorted(cohort.sessions, key=lambda s: s.starts_at))
        assert cohort.sessions[-1].ends_at < utcnow()
        db.session.rollback()

    # ---- The first session's register, on a phone.
    phone = make_page(PHONE)
    _sign_in(phone, faculty)
    phone.goto(f"/faculty/offerings/{cohort_id}/people")
    phone.get_by_role("link", name=re.compile(r"^Register for")).first.click()
    expect(phone.locator("h1")).to_have_text("Register")
    visit(phone)
    no_sideways_scroll(phone)
    for name, mark in zip(names, ("Present", "Late", "Absent"), strict=True):
        _mark_box(phone, name).select_option(label=mark)
    _note_box(phone, "Ben Okafor").fill("Train delayed")
    phone.get_by_role("button", name="Save register").click()
    expect(_success(phone)).to_contain_text("The register is saved (3 marked).")
    visit(phone)
    no_sideways_scroll(phone)
    phone.reload()
    assert _register_marks(phone, names) == {
        "Asha Patel": "Present", "Ben Okafor": "Late", "Chloe Singh": "Absent"}
    expect(_note_box(phone, "Ben Okafor")).to_have_value("Train delayed")
    assert phone.url.endswith(f"/faculty/sessions/{first}/register")

    # ---- The second session was on Teams: import its attendance report.
    page.goto(f"/faculty/sessions/{second}/register")
    visit(page)
    page.get_by_role("link", name="Import a Teams or Zoom report").click()
    expect(page.locator("h1")).to_have_text("Import an attendance report")
    visit(page)
    page.get_by_role("button", name="Import report").click()
    _error_is_linked(page, visit, "report", re.compile("."))
    report = _teams_report({
        "faculty@example.nhs.uk": faculty.email,
        "asha.patel@example.nhs.uk": learners["Asha Patel"].email,
        "ben.okafor@example.nhs.uk": learners["Ben Okafor"].email,
        "chloe.singh@example.nhs.uk": learners["Chloe Singh"].email,
    }, today - timedelta(days=1))
    page.get_by_label("Attendance report").set_input_files(
        {"name": "Cohort 4 session 2 - Attendance report.csv", "mimeType": "text/csv",
         "buffer": report})
    expect(page.get_by_label(re.compile("Share of the session"))).to_have_value("50")
    page.get_by_role("button", name="Import report").click()
    # Asha (2h 1m 45s) and Chloe (70 min) were there for at least half of the 120 minutes;
    # Ben (35 min) was not; the organiser is faculty, so not a participant.
    expect(_success(page)).to_contain_text("Imported: 3 matched, 2 present, 2 to check.")
    visit(page)
    unmatched = "People in the report we could not match"
    assert _row(page, unmatched, "Dee Visitor (External)")[1:3] == [
        "dee@consultancy.example", "117"]
    assert _row(page, unmatched, "Guest Phone User")[1:3] == ["None given", "40"]
    page.get_by_role("link", name="Back to the register").click()
    assert _register_marks(page, names) == {
        "Asha Patel": "Present", "Ben Okafor": "Absent", "Chloe Singh": "Present"}
    for name, minutes in (("Asha Patel", 122), ("Ben Okafor", 35), ("Chloe Singh", 70)):
        expect(page.locator("tbody tr").filter(has_text=name)).to_contain_text(
            f"({minutes} minutes online)")

    # ---- A survey: built, then opened.
    page.goto(f"/faculty/offerings/{cohort_id}/people")
    page.locator("main").get_by_role("link", name="Surveys", exact=True).click()
    visit(page)
    page.get_by_role("button", name="Add a survey").click()
    visit(page)
    page.get_by_label("A blank survey").check()
    page.get_by_label("Title (optional)").fill("How was Cohort 4?")
    page.get_by_role("button", name="Add survey").click()
    expect(_success(page)).to_contain_text("Survey added.")
    visit(page)
    page.get_by_role("group", name="Is this survey anonymous?").get_by_label("No").check()
    page.get_by_role("button", name="Save settings").click()
    expect(_success(page)).to_contain_text("Settings saved.")
    visit(page)
    page.get_by_role("button", name="Add a question").click()
    visit(page)
    page.get_by_label("Agreement scale").check()
    page.get_by_role("button", name="Add question").click()
    _error_is_linked(page, visit, "text", re.compile("question", re.IGNORECASE))
    page.get_by_label("Question", exact=True).fill("The programme was useful in my work")
    page.get_by_role("button", name="Add question").click()
    expect(_success(page)).to_contain_text("Question added.")
    page.get_by_role("link", name=re.compile("^Change the settings")).click()
    opens = to_london(utcnow() - timedelta(minutes=5))
    fill_date(page, "Date it opens", opens.date())
    page.get_by_label("Time it opens").fill(f"{opens:%H:%M}")
    fill_date(page, "Date it closes", today + timedelta(days=7))
    page.get_by_label("Time it closes").fill("17:00")
    page.get_by_role("button", name="Save settings").click()
    expect(_success(page)).to_contain_text("Settings saved.")
    expect(page.locator("main")).to_contain_text("Open")
    visit(page)
    survey_url = page.url

    # ---- The learners answer it, each in their own browser. (Not anonymous, so three are
    # enough to see results; answering completes the course for them.)
    answers = {"Asha Patel": "Strongly agree", "Ben Okafor": "Agree", "Chloe Singh": "Agree"}
    for name, answer in answers.items():
        learner_page = learner_pages[name]
        learner_page.goto("/feedback")
        visit(learner_page)
        learner_page.get_by_role("link", name=re.compile("^How was Cohort 4")).click()
        visit(learner_page)
        if name == "Asha Patel":  # sent empty first: the error is linked to the question
            learner_page.get_by_role("button", name="Send your answers").click()
            summary = learner_page.locator(".nhsuk-error-summary")
            expect(summary).to_be_visible()
            assert visit(learner_page).startswith("Error: ")
            question_link = summary.get_by_role("link")
            field_id = question_link.get_attribute("href").removeprefix("#")
            question_link.click()
            expect(learner_page.locator(f"#{field_id}")).to_be_focused()
        learner_page.get_by_label(answer, exact=True).check()
        learner_page.get_by_role("button", name="Send your answers").click()
        expect(_success(learner_page)).to_contain_text("Your answers have been sent.")
        visit(learner_page)

    # ---- Faculty read the results: the chart and the table agree.
    page.goto(survey_url)
    page.get_by_role("link", name="See the results").click()
    expect(page.locator("main")).to_contain_text("3 of 3 people with a place have answered.")
    visit(page)
    table = page.get_by_role("table", name="Answers to question 1")
    counts = {}
    for tr in table.locator("tbody tr").all():
        label, count, share = _cells(tr)
        counts[label] = (int(count), share)
    assert counts["Agree"] == (2, "67%") and counts["Strongly agree"] == (1, "33%")
    assert sum(count for count, _ in counts.values()) == 3
    chart = page.get_by_role("img", name=re.compile("^Bar chart of the answers to question 1"))
    chart_texts = chart.locator("text").all_text_contents()
    for label, (count, share) in counts.items():
        position = chart_texts.index(label)
        assert chart_texts[position + 1] == f"{count} ({share})", chart_texts

    # ---- Everyone completed: issue the certificates together and watch the progress.
    page.goto(f"/faculty/offerings/{cohort_id}/people")
    page.locator("main").get_by_role("link", name="Certificates", exact=True).click()
    expect(page.locator("h1")).to_have_text("Certificates")
    visit(page)
    page.get_by_role("button", name="Issue all certificates").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Waiting to start")
    progress = page.locator("progress")
    expect(progress).to_have_attribute("max", "3")
    visit(page)
    with live_app.app_context():  # what the scheduler does
        assert bulk.run_due_batches() == 1
    expect(status).to_contain_text("Finished: 3 of 3 certificates ready")
    expect(progress).to_have_attribute("value", "3")
    visit(page)
    page.get_by_role("link", name="Refresh this page").click()
    expect(page.get_by_role("link", name="Download all 3 certificates (zip)")).to_be_visible()
    visit(page)
