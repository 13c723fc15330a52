"""Issue 17, "Done when" for the homes: each persona starts from their home and finishes one
job from there, in real Chromium, with axe (WCAG 2.2 A and AA, every impact) on each page;
on a 375 px phone no page scrolls sideways and the learner's "Needs your action" and "Next
sessions" are within the first two screen heights.

The world is built beforehand through the services (as DSU leads and faculty would have
built it); what each persona does goes through the browser.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from lms.accounts.models import Organisation, OrganisationChange, Role, User
from lms.accounts.organisation_changes import request_move
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.extensions import db
from lms.offerings import services as engine
from lms.offerings.models import Enrolment, EnrolmentState, OfferingLead, OfferingQuota, Session
from tests.browser.conftest import no_sideways_scroll, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def _org(code: str) -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.code == code))


def _cohort(title: str, starts_in: timedelta, mode: str = "open",
            quotas: dict[str, int] | None = None, **fields) -> Cohort:
    course = Course(title=title, summary="A course", kind="short_course",
                    strand="analytical_capability", format="online")
    cohort = Cohort(course=course, name="Spring", title=f"{title}: Spring", capacity=20,
                    booking_mode=mode, status="open", **fields)
    start = utcnow() + starts_in
    cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2),
                                   title="Session 1", location="Civic Centre, Derby",
                                   join_url="https://teams.example.com/l/spring"))
    for code, places in (quotas or {}).items():
        cohort.quotas.append(OfferingQuota(organisation_id=_org(code).id, places=places))
    db.session.add(cohort)
    db.session.flush()
    return cohort


def _in(live_app, build):
    with live_app.app_context():
        value = build()
        db.session.commit()
        return value


def test_learner_confirms_a_nominated_place_from_home_on_a_phone(
        live_app, live_user, make_page, check_page):
    learner = live_user(name="Leah Learner")
    lead = live_user(Role.DSU_LEAD, name="Dev Lead")
    faculty = live_user(Role.FACULTY, name="Fiona Faculty")

    def build():
        people = {p.id: db.session.get(User, p.id) for p in (learner, lead, faculty)}
        programme = _cohort("Leadership for Analysts", timedelta(days=30), mode="nomination",
                            quotas={"BSOL": 2},
                            nomination_closes_at=utcnow() + timedelta(days=10))
        enrolment = engine.nominate(people[lead.id], programme, people[learner.id])
        engine.approve(people[faculty.id], enrolment)
        for n, days in enumerate((2, 9, 16)):
            engine.book(people[learner.id], _cohort(f"Forecasting {n}", timedelta(days=days)))
        return programme.title, enrolment.id

    title, enrolment_id = _in(live_app, build)
    page: Page = make_page(PHONE)
    sign_in(page, learner.email)
    check_page(page)
    no_sideways_scroll(page)
    screens = 2 * PHONE["height"]
    for heading in ("Needs your action", "Next sessions"):
        box = page.get_by_role("heading", name=heading, level=2).bounding_box()
        assert box is not None and box["y"] + box["height"] <= screens, (heading, box)
    action = page.locator("li.nhsuk-card", has_text=f"Confirm your place: {title}")
    expect(action).to_contain_text("Confirm before it starts on")
    action.get_by_role("button", name=re.compile("^Confirm my place")).click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_text("You have confirmed your place.")).to_be_visible()
    expect(page.get_by_text("Nothing needs your action just now.")).to_be_visible()
    check_page(page)
    no_sideways_scroll(page)
    with live_app.app_context():
        assert db.session.get(Enrolment, enrolment_id).state == EnrolmentState.ENROLLED

    page.get_by_role("link", name="My learning").first.click()
    expect(page.locator("h1")).to_have_text("My learning")
    check_page(page)
    no_sideways_scroll(page)
    upcoming = page.locator("ul[aria-labelledby=upcoming]")
    expect(upcoming).to_contain_text(title)


def test_faculty_open_a_register_from_home(live_app, live_user, page, check_page):
    faculty = live_user(Role.FACULTY, name="Fiona Faculty")
    learner = live_user(name="Leah Learner")

    def build():
        cohort = _cohort("Population health analytics", timedelta(days=1))
        engine.book(db.session.get(User, learner.id), cohort)
        session = cohort.sessions[0]  # under way now
        session.starts_at, session.ends_at = (utcnow() - timedelta(minutes=20),
                                              utcnow() + timedelta(minutes=100))
        db.session.add(OfferingLead(offering_id=cohort.id, user_id=faculty.id))
        return session.id

    session_id = _in(live_app, build)
    sign_in(page, faculty.email)
    check_page(page)
    sessions = page.locator("ul[aria-labelledby=your-sessions]")
    expect(sessions).to_contain_text("Population health analytics")
    sessions.get_by_role("link", name=re.compile("^Register")).click()
    expect(page).to_have_url(re.compile(rf"/faculty/sessions/{session_id}/register$"))
    expect(page.locator("h1")).to_have_text("Register: Session 1")
    expect(page.get_by_text("Leah Learner").first).to_be_visible()
    check_page(page)


def test_dsu_lead_nominates_from_an_open_window_on_home(live_app, live_user, page,
                                                        check_page):
    lead = live_user(Role.DSU_LEAD, name="Dev Lead")
    live_user(name="Nadia Nominee")

    def build():
        return _cohort("Decision Quality for system leaders", timedelta(days=40),
                       mode="nomination", quotas={"BSOL": 2},
                       nomination_closes_at=utcnow() + timedelta(days=10)).id

    cohort_id = _in(live_app, build)
    sign_in(page, lead.email)
    check_page(page)
    windows = page.locator("ul[aria-labelledby=windows]")
    expect(windows).to_contain_text("Your ICS has 2 of its 2 places left.")
    windows.get_by_role("link", name=re.compile("^Nominate")).click()
    expect(page).to_have_url(re.compile(rf"/nominations/{cohort_id}$"))
    check_page(page)
    page.get_by_role("button", name="Nominate Nadia Nominee").click()
    expect(page.get_by_text("Nadia Nominee has been nominated.")).to_be_visible()
    check_page(page)
    page.goto("/")
    expect(windows).to_contain_text("Your ICS has 1 of its 2 places left.")


def test_admin_decides_an_organisation_change_from_home(live_app, live_user, page,
                                                        check_page):
    admin = live_user(Role.ADMIN, name="Adam Admin")
    mover = live_user(name="Mo Mover", org="BC")
    _in(live_app, lambda: request_move(db.session.get(User, mover.id), _org("BSOL")))
    sign_in(page, admin.email)
    check_page(page)
    expect(page.get_by_text("Mo Mover", exact=False).first).to_be_visible()
    page.get_by_role("button", name="Approve Mo Mover's move").click()
    expect(page.get_by_text("Mo Mover has moved to Birmingham and Solihull.")).to_be_visible()
    check_page(page)
    with live_app.app_context():
        assert db.session.get(User, mover.id).organisation.code == "BSOL"
        assert db.session.scalar(select(OrganisationChange.status)) == "approved"


def test_every_section_fits_a_phone(live_app, live_user, make_page, check_page):
    """A person with every role sees every section; none scrolls sideways at 375 px."""
    everyone = live_user(Role.FACULTY, Role.DSU_LEAD, Role.ADMIN, name="Alex All-Roles")
    mover = live_user(name="Mo Mover", org="BC")

    def build():
        person = db.session.get(User, everyone.id)
        cohort = _cohort("A course with a rather long title about forecasting demand",
                         timedelta(days=1))
        engine.book(person, cohort)
        cohort.sessions[0].starts_at = utcnow() - timedelta(minutes=5)
        db.session.add(OfferingLead(offering_id=cohort.id, user_id=everyone.id))
        _cohort("Leadership for Analysts", timedelta(days=30), mode="nomination",
                quotas={"BSOL": 2}, nomination_closes_at=utcnow() + timedelta(days=10))
        request_move(db.session.get(User, mover.id), _org("BSOL"))

    _in(live_app, build)
    page = make_page(PHONE)
    sign_in(page, everyone.email)
    for heading in ("Needs your action", "Next sessions", "Your sessions today and this week",
                    "Nomination windows open", "Organisation changes awaiting a decision",
                    "Coming up"):
        expect(page.get_by_role("heading", name=heading, level=2)).to_be_visible()
    expect(page.get_by_text("Check in now").first).to_be_visible()
    check_page(page)
    no_sideways_scroll(page)


def test_learner_sees_materials_and_work_due_on_a_phone_and_opens_the_work(
        live_app, live_user, make_page, check_page):
    """Issue 18 item 1: the home lists new materials and work due soon; both work on a
    phone and with axe."""
    from lms.learning import assignments, materials

    learner = live_user(name="Leah Learner")
    faculty = live_user(Role.FACULTY, name="Fiona Faculty")

    def build():
        cohort = _cohort("Forecasting", timedelta(days=2))
        engine.book(db.session.get(User, learner.id), cohort)
        tutor = db.session.get(User, faculty.id)
        materials.add_material(tutor, cohort, materials.MaterialDetails(
            kind="link", title="Pre-reading on seasonal models with a long title to wrap",
            url="https://example.org/reading"))
        due = utcnow() + timedelta(days=5)
        work = assignments.set_assignment(tutor, cohort, assignments.AssignmentDetails(
            title="Project plan", brief="Write a plan.", due_day=due.date(),
            due_time=assignments.DEFAULT_DUE_TIME))
        return work.id

    work_id = _in(live_app, build)
    page: Page = make_page(PHONE)
    sign_in(page, learner.email)
    check_page(page)
    no_sideways_scroll(page)
    shared = page.locator("ul[aria-labelledby=new-materials]")
    expect(shared).to_contain_text("Pre-reading on seasonal models")
    action = page.locator("li.nhsuk-card", has_text="Hand in your work: Project plan")
    expect(action).to_contain_text("Due by")
    action.get_by_role("link", name=re.compile("Project plan")).click()
    expect(page).to_have_url(re.compile(rf"/assignments/{work_id}$"))
    check_page(page)
    no_sideways_scroll(page)
