"""The staff homes' figures (issue 19): each number faculty and DSU leads read on their home
is the one the rules give, counted in the database or kept (``lms.cache``), and a kept one
follows every change to what it is built from and the clock."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import count

from lms.accounts.models import Role, User
from lms.accounts.organisation_changes import approve, request_move
from lms.attendance.models import Attendance, Completion
from lms.clock import utcnow
from lms.courses.models import Cohort
from lms.extensions import db
from lms.feedback.models import Survey
from lms.offerings import services as engine
from lms.offerings.models import Enrolment, EnrolmentState, OfferingLead, Session
from tests import conftest
from tests.conftest import organisation


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _section(page: str, heading: str, following: str) -> str:
    start = page.index(heading)
    return page[start:page.index(following, start)]


def _move_clock(delta: timedelta) -> None:
    conftest._clock.move_to(utcnow() + delta)


# ---------------------------------------------------------------------------- faculty


def _held_cohort(faculty: User, min_percent: int = 50) -> Cohort:
    """A cohort (led by ``faculty``) whose course needs ``min_percent``, with two sessions
    held and one to come."""
    cohort = Cohort(title=f"Held cohort {next(_serial)}", name="Held", capacity=30,
                    booking_mode="open", status="open", course=_course(min_percent))
    for days in (-14, -7, 7):
        start = utcnow() + timedelta(days=days)
        cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2)))
    db.session.add(cohort)
    db.session.flush()
    db.session.add(OfferingLead(offering_id=cohort.id, user_id=faculty.id))
    return cohort


_serial = count(1)


def _course(min_percent: int):
    from lms.courses.models import Course

    return Course(title=f"Held course {next(_serial)}", summary="A course", kind="short_course",
                  strand="analytical_capability", format="online",
                  min_attendance_percent=min_percent)


def _place(offering, person: User, marks: tuple[str, ...], state=EnrolmentState.ENROLLED
           ) -> Enrolment:
    enrolment = Enrolment(offering_id=offering.id, user_id=person.id, state=state)
    db.session.add(enrolment)
    held = sorted((s for s in offering.sessions if s.ends_at <= utcnow()),
                  key=lambda s: s.starts_at)
    for session, mark in zip(held, marks, strict=False):
        db.session.add(Attendance(session_id=session.id, user_id=person.id, status=mark,
                                  source="register"))
    db.session.flush()
    return enrolment


def test_faculty_see_exactly_who_is_below_the_attendance_needed(app, client, login,
                                                                make_user):
    faculty = make_user(Role.FACULTY, org="SU", name="Fay Faculty")
    names = ["Ann", "Bob", "Cat", "Dee", "Eve", "Fin", "Gus", "Hal"]
    people = {name: make_user(org="BSOL", name=f"{name} Person") for name in names}
    with app.app_context():
        who = {name: db.session.get(User, p.id) for name, p in people.items()}
        cohort = _held_cohort(db.session.get(User, faculty.id), min_percent=50)
        _place(cohort, who["Ann"], ("present", "present"))      # 100%
        _place(cohort, who["Bob"], ("absent", "absent"))        # 0%: below
        _place(cohort, who["Cat"], ("present", "absent"))       # 50%: exactly enough
        _place(cohort, who["Dee"], ("late", "excused"))         # 1 of 1 counted: 100%
        _place(cohort, who["Fin"], ("absent", "excused"))       # 0 of 1 counted: below
        _place(cohort, who["Gus"], ())                          # no marks: 0%, below
        done = _place(cohort, who["Eve"], ("absent", "absent"), EnrolmentState.COMPLETED)
        db.session.add(Completion(enrolment_id=done.id, attendance_percent=0))  # not counted
        _place(cohort, who["Hal"], ("absent", "absent"), EnrolmentState.WITHDRAWN)  # no place
        db.session.add(Survey(title="How was it?", offering_id=cohort.id,
                              opens_at=utcnow() - timedelta(days=1),
                              closes_at=utcnow() + timedelta(days=1)))
        title = cohort.title
        db.session.commit()
    login(faculty)
    attention = _section(_text(client.get("/")), "Offerings needing attention", "Coming up")
    assert f"3 people are below the attendance needed on {title}" in attention
    assert f"Feedback is open on {title}" in attention
    assert f"1 certificate to issue on {title}" in attention  # Eve's completion
    # Cat's 50% meets a rule of 50%; at 51% she is below it too.
    with app.app_context():
        db.session.scalar(db.select(Cohort)).course.min_attendance_percent = 51
        db.session.commit()
    attention = _section(_text(client.get("/")), "Offerings needing attention", "Coming up")
    assert f"4 people are below the attendance needed on {title}" in attention


def test_drop_in_offerings_count_nobody_as_below(app, client, login, make_user):
    from lms.events.models import Webinar

    faculty = make_user(Role.FACULTY, org="SU")
    absent = make_user(org="BSOL")
    with app.app_context():
        start = utcnow() - timedelta(days=3)
        webinar = Webinar(title="Drop-in webinar", status="open", booking_mode="open")
        webinar.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=1)))
        db.session.add(webinar)
        db.session.flush()
        _place(webinar, db.session.get(User, absent.id), ("absent",))
        db.session.add(Survey(title="Feedback", offering_id=webinar.id,
                              opens_at=utcnow() - timedelta(days=1),
                              closes_at=utcnow() + timedelta(days=1)))
        db.session.commit()
    login(faculty)
    attention = _section(_text(client.get("/")), "Offerings needing attention", "Coming up")
    assert "Feedback is open on Drop-in webinar" in attention
    assert "below the attendance needed" not in attention


def test_faculty_home_queries_do_not_grow_with_people_or_offerings(app, client, login,
                                                                   make_user, count_queries):
    faculty = make_user(Role.FACULTY, org="SU")

    def queries_for(cohorts: int, people: int) -> int:
        persons = [make_user(org="BSOL") for _ in range(cohorts * people)]
        with app.app_context():
            lead = db.session.get(User, faculty.id)
            for c in range(cohorts):
                cohort = _held_cohort(lead)
                for person in persons[c * people:(c + 1) * people]:
                    _place(cohort, db.session.get(User, person.id), ("absent", "absent"))
            db.session.commit()
        login(faculty)
        client.get("/")
        with count_queries() as counted:
            page = _text(client.get("/"))
        assert "below the attendance needed" in page
        return counted.n

    few = queries_for(1, 1)
    assert queries_for(4, 6) == few


def test_kept_sessions_follow_the_clock_and_new_sessions(app, client, login, people,
                                                         make_cohort):
    cohort = make_cohort(starts_in=timedelta(minutes=30))
    with app.app_context():
        db.session.add(OfferingLead(offering_id=cohort.id, user_id=people.faculty.id))
        db.session.commit()
    session_id = cohort.sessions[0].id
    register = f"/faculty/sessions/{session_id}/register"
    login(people.faculty)
    page = client.get("/").get_data(as_text=True)
    assert register not in page
    assert "You can take the register once the session has started at" in page
    sessions = _section(page, "your-sessions", "needs-attention")
    assert _section(client.get("/").get_data(as_text=True), "your-sessions",
                    "needs-attention") == sessions  # served kept: the same
    _move_clock(timedelta(minutes=31))  # it has started: no data changed, the page did
    login(people.faculty)  # signed out when idle
    page = client.get("/").get_data(as_text=True)
    assert register in page
    assert f"/faculty/sessions/{session_id}/check-in" in page
    _move_clock(timedelta(hours=2))  # it has ended: check-in closed
    login(people.faculty)
    assert "Check-in for this session has closed" in _text(client.get("/"))
    # A session added to the cohort shows at once (the cohort's and the listings' versions).
    with app.app_context():
        start = utcnow() + timedelta(days=2)
        db.session.add(Session(offering_id=cohort.id, title="Added session",
                               starts_at=start, ends_at=start + timedelta(hours=1)))
        later = utcnow() + timedelta(days=7, hours=1)
        db.session.add(Session(offering_id=cohort.id, title="Session next week",
                               starts_at=later, ends_at=later + timedelta(hours=1)))
        db.session.commit()
    sessions = _section(_text(client.get("/")), "Your sessions today and this week",
                        "Offerings needing attention")
    assert "Added session" in sessions and "Session next week" not in sessions
    _move_clock(timedelta(hours=2))  # it has come into the seven days
    login(people.faculty)
    sessions = _section(_text(client.get("/")), "Your sessions today and this week",
                        "Offerings needing attention")
    assert "Session next week" in sessions


# ---------------------------------------------------------------------------- DSU lead


def _taken(offering, person: User, state=EnrolmentState.ENROLLED,
           days_ago: int = 0) -> Enrolment:
    enrolment = Enrolment(offering_id=offering.id, user_id=person.id, state=state,
                          created_at=utcnow() - timedelta(days=days_ago))
    db.session.add(enrolment)
    db.session.flush()
    return enrolment


def _against(client) -> str:
    page = _text(client.get("/"))
    return page[page.index("Your ICS against the region:"):page.index("Your ICS dashboard")]


def test_the_ics_against_the_region_counts_the_right_places_and_follows_changes(
        app, client, login, people, make_user, make_cohort):
    cohort = make_cohort()
    names = {"p1": "BSOL", "p2": "BSOL", "old": "BSOL", "p4": "BC", "p5": "BC", "p6": "BC",
             "p7": "BC"}
    users = {key: make_user(org=org, name=f"{key.title()} Person") for key, org in names.items()}
    C, E = EnrolmentState.COMPLETED, EnrolmentState.ENROLLED  # noqa: N806
    with app.app_context():
        offering = db.session.get(Cohort, cohort.id)
        who = {key: db.session.get(User, u.id) for key, u in users.items()}
        _taken(offering, who["p1"], C, days_ago=300)
        p2 = _taken(offering, who["p2"], E).id
        _taken(offering, who["old"], C, days_ago=400)  # before the 12 months
        _taken(offering, who["p4"], C)
        _taken(offering, who["p5"], E)
        _taken(offering, who["p6"], EnrolmentState.CANCELLED)  # holds no place
        _taken(offering, who["p7"], C)
        db.session.commit()
    login(people.dsu_same)
    assert ("50% of the 2 places your people took in the last 12 months are completed, "
            "against 60% across the region.") in _against(client)  # 1 of 2; 3 of 5
    # A place completed: counted at once (the kept figures follow the change).
    with app.app_context():
        db.session.get(Enrolment, p2).state = C
        db.session.commit()
    assert "100% of the 2 places" in _against(client)
    assert "against 80% across the region" in _against(client)  # 4 of 5
    # A person moving into the ICS brings their place with them.
    with app.app_context():
        change = request_move(db.session.get(User, users["p5"].id), organisation("BSOL"))
        db.session.commit()
        change_id = change.id
    with app.app_context():
        from lms.accounts.models import OrganisationChange

        approve(db.session.get(User, people.dsu_same.id),
                db.session.get(OrganisationChange, change_id))
        db.session.commit()
    assert "67% of the 3 places" in _against(client)  # 2 of 3
    assert "against 80% across the region" in _against(client)
    # Seventy days on, p1's place (taken 300 days ago) has left the 12 months.
    _move_clock(timedelta(days=70))
    login(people.dsu_same)  # signed out when idle so long
    assert "50% of the 2 places" in _against(client)  # p2 done, p5 not
    assert "against 75% across the region" in _against(client)  # 3 of 4


def test_another_ics_reads_its_own_share_of_the_same_figures(app, client, login, people,
                                                             make_user, make_cohort):
    cohort = make_cohort()
    mine, theirs = make_user(org="BSOL"), make_user(org="BC")
    with app.app_context():
        offering = db.session.get(Cohort, cohort.id)
        _taken(offering, db.session.get(User, mine.id), EnrolmentState.COMPLETED)
        _taken(offering, db.session.get(User, theirs.id), EnrolmentState.ENROLLED)
        db.session.commit()
    login(people.dsu_same)
    assert "100% of the 1 place your people" in _against(client)
    login(people.dsu_other)
    assert "0% of the 1 place your people" in _against(client)
    assert "against 50% across the region" in _against(client)


def test_nominees_to_confirm_are_the_ics_approved_ones(app, client, login, people, make_user,
                                                      make_cohort):
    cohort = make_cohort(mode="nomination", quotas={"BSOL": 3, "BC": 3},
                         nomination_closes_at=utcnow() + timedelta(days=5))
    ours, waiting, theirs = (make_user(org="BSOL", name="Olive Ours"),
                             make_user(org="BSOL", name="Wes Waiting"),
                             make_user(org="BC", name="Tom Theirs"))
    with app.app_context():
        offering = db.session.get(Cohort, cohort.id)
        faculty = db.session.get(User, people.faculty.id)
        for lead, person, approve in ((people.dsu_same, ours, True),
                                      (people.dsu_same, waiting, False),
                                      (people.dsu_other, theirs, True)):
            enrolment = engine.nominate(db.session.get(User, lead.id), offering,
                                        db.session.get(User, person.id))
            if approve:
                engine.approve(faculty, enrolment)
        db.session.commit()
    login(people.dsu_same)
    deciding = _section(_text(client.get("/")), "People in your ICS", "Your ICS against")
    assert f"Olive Ours: {cohort.title}" in deciding
    assert "Wes Waiting" not in deciding and "Tom Theirs" not in deciding
