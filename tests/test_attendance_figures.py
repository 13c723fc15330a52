"""Every attendance and completion figure a learner's history shows — on their progress pages,
faculty's completion pages, the learning record page, its PDF and CSV, the dashboards and the
API — equals the same figure counted in plain Python from the marks the test made.

The history: a course attended in part (present, late, excused, absent, two sessions still
to come), a course completed, a webinar attended (its certificate of attendance issued on
completion), a webinar missed, and a network's huddles, one still to come with a mark left on
it from before marks were refused for sessions not yet held. "Now" is pinned.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import select

from lms import jobs
from lms.accounts.models import Organisation, Role, User
from lms.attendance import completion as attendance_completion
from lms.attendance import services as att
from lms.attendance.models import ATTENDED, Attendance, Mark
from lms.certificates.models import Certificate
from lms.extensions import db
from lms.offerings import services as places
from lms.offerings.models import Enrolment, Session
from lms.reports import regional
from lms.reports import services as dashboards
from tests.test_certificates_support import pdf_text

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
SETUP = NOW - timedelta(days=120)


@dataclass
class Place:
    """One of the learner's places and the marks the test gave them, session by session."""

    key: str
    title: str
    kind: str  # cohort | webinar | network
    enrolment_id: int
    marks: list[tuple[datetime, datetime, str | None]]  # (starts, ends, mark or None)
    needed: int

    def held(self) -> list[tuple[datetime, datetime, str | None]]:
        return [m for m in self.marks if m[1] <= NOW]

    @property
    def attended(self) -> int:
        return sum(1 for _, _, mark in self.held() if mark in ATTENDED)

    @property
    def excused(self) -> int:
        return sum(1 for _, _, mark in self.held() if mark == Mark.EXCUSED)

    @property
    def percent(self) -> int | None:
        held = len(self.held())
        if not held:
            return None
        counted = held - self.excused
        return 100 if counted <= 0 else round(100 * self.attended / counted)

    @property
    def complete(self) -> bool:
        return (len(self.held()) == len(self.marks) and self.percent is not None
                and self.percent >= self.needed)

    def hours(self) -> float:
        return sum((ends - starts).total_seconds() / 3600 for starts, ends, mark
                   in self.held() if mark in ATTENDED)


def _cohort(make_cohort, title: str, offsets: list[int], needed: int):
    cohort = make_cohort(capacity=10)
    cohort.course.title, cohort.title = title, title
    cohort.course.min_attendance_percent, cohort.course.requires_feedback = needed, False
    cohort.sessions.clear()
    for n, days in enumerate(offsets):
        start = NOW + timedelta(days=days)
        cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2),
                                       title=f"Session {n + 1}"))
    db.session.flush()
    return cohort


def build_history(make_user, make_cohort) -> tuple[int, int, list[Place]]:
    """The learner, a faculty member and the learner's places, marked through the register
    at each session's end (as faculty do), committed."""
    from tests.test_events_support import faculty as event_faculty
    from tests.test_events_support import make_network, make_webinar

    with time_machine.travel(SETUP, tick=False) as clock:
        learner = make_user(name="Lee Learner", email="lee@example.nhs.uk")
        faculty = make_user(Role.FACULTY, org="SU", email="fay@example.nhs.uk")
        partly = _cohort(make_cohort, "Forecasting with R", [-40, -33, -26, -19, 5, 12], 75)
        done = _cohort(make_cohort, "Decision quality", [-60, -53, -46], 75)
        event_faculty()
        webinar = make_webinar(days_ahead=100, title="Guest speakers: uncertainty")
        missed = make_webinar(days_ahead=110, title="Guest speakers: evaluation")
        # Huddles a fortnight ago, a week ago and today at 12:30, after "now" (12:00).
        first = SETUP + timedelta(days=106)
        network = make_network(first_day=first.date(), count=3, interval=1,
                               weekdays=(_weekday(first),))
        plan = {
            partly.id: [Mark.PRESENT, Mark.LATE, Mark.EXCUSED, Mark.ABSENT, None, None],
            done.id: [Mark.PRESENT, Mark.PRESENT, Mark.LATE],
            webinar.id: [Mark.PRESENT],
            missed.id: [Mark.ABSENT],
            network.id: [Mark.PRESENT, Mark.LATE, None],
        }
        offerings = {o.id: o for o in (partly, done, webinar, missed, network)}
        enrolments = {o.id: places.book(learner, o) for o in offerings.values()}
        db.session.commit()
        by_time = sorted((s.ends_at, s, offering_id)
                         for offering_id, offering in offerings.items()
                         for s in offering.live_sessions)
        places_: list[Place] = []
        marks: dict[int, list] = {offering_id: [] for offering_id in offerings}
        for ends, session, offering_id in by_time:
            index = sorted(offerings[offering_id].live_sessions,
                           key=lambda s: s.starts_at).index(session)
            mark = plan[offering_id][index]
            marks[offering_id].append((session.starts_at, session.ends_at, mark))
            if mark is not None and ends <= NOW:
                clock.move_to(ends + timedelta(minutes=30))
                att.record_register(faculty, session, {learner.id: (mark, "")})
                db.session.commit()
        # A mark left on a huddle not yet held, from before the policy refused such marks:
        # it counts nowhere.
        future = max(network.live_sessions, key=lambda s: s.starts_at)
        assert future.starts_at > NOW
        db.session.add(Attendance(session_id=future.id, user_id=learner.id,
                                  status=Mark.PRESENT, source="register"))
        clock.move_to(NOW)
        jobs.completion_job(NOW)
        for offering_id, offering in offerings.items():
            rule = attendance_completion.rule_for(offering)
            places_.append(Place(
                key={partly.id: "partly", done.id: "done", webinar.id: "webinar",
                     missed.id: "missed", network.id: "network"}[offering_id],
                title=offering.title, kind=offering.kind,
                enrolment_id=enrolments[offering_id].id,
                marks=sorted(marks[offering_id]), needed=rule.min_attendance_percent))
        return learner.id, faculty.id, places_


def _weekday(moment: datetime) -> str:
    return ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][moment.weekday()]


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_every_page_pdf_and_dashboard_agrees_with_a_plain_count(
        app, client, login, make_user, make_cohort, tmp_path: Path):
    # Built in an app context of its own: the pages are then asked through the client, each
    # request in its own context, as in use.
    with app.app_context():
        learner_id, faculty_id, history = build_history(make_user, make_cohort)
    by_key = {p.key: p for p in history}
    # The plain count's own sanity: the history is what the docstring says.
    assert [by_key[k].percent for k in ("partly", "done", "webinar", "missed", "network")] \
        == [67, 100, 100, 0, 100]
    assert [by_key[k].complete for k in ("partly", "done", "webinar", "missed", "network")] \
        == [False, True, True, False, False]
    completed = [p for p in history if p.complete]
    event_places = [p for p in history if p.kind != "cohort" and p.attended]
    event_sessions = sum(p.attended for p in history if p.kind != "cohort")
    all_attended = sum(p.attended for p in history)

    with time_machine.travel(NOW, tick=False):
        with app.app_context():
            learner = db.session.get(User, learner_id)
            faculty = db.session.get(User, faculty_id)
            # The places' states and certificates follow the same rule.
            for p in history:
                state = db.session.get(Enrolment, p.enrolment_id).state
                assert (state == "completed") == p.complete, p.key
            certificates = db.session.scalars(select(Certificate).where(
                Certificate.user_id == learner_id)).all()
            assert len(certificates) == len(completed)
            webinar_certificate = next(c for c in certificates
                                       if c.offering_id == _offering(by_key["webinar"]))
            assert [s["title"] for s in webinar_certificate.details["sessions"]] == [
                by_key["webinar"].title]
            offering_of = {p.key: _offering(p) for p in history}
            course_hours = float(db.session.get(Enrolment, by_key["done"].enrolment_id)
                                 .offering.course.cpd_hours or 0)

        # Each progress page (the learner's) and the faculty completion pages.
        login(learner)
        for p in history:
            page = text_of(client.get(f"/my-learning/{p.enrolment_id}/progress")
                           .get_data(as_text=True))
            assert (f"{p.percent}% of the {len(p.held())} sessions held "
                    f"({p.needed}% needed)") in page, p.key
        login(faculty)
        for p in history:
            page = client.get(f"/faculty/offerings/{offering_of[p.key]}/completion").get_data(
                as_text=True)
            row = text_of(re.search(r"<tr[^>]*>(?:(?!</tr>).)*Lee Learner.*?</tr>", page,
                                    re.S).group(0))
            assert f"{p.percent}% ({p.attended} of {len(p.held()) - p.excused})" in row, p.key
            assert ("Completed" in row) == p.complete, p.key

        # The learning record page.
        login(learner)
        page = text_of(client.get("/learning-record").get_data(as_text=True))
        assert f"Courses completed {sum(p.kind == 'cohort' for p in completed)}" in page
        assert f"Event sessions attended {event_sessions}" in page
        assert "No events attended yet" not in page and "No certificates yet" not in page
        done = by_key["done"]
        assert re.search(rf"Course {done.title} Completed \d+ \w+ \d{{4}} Attendance "
                         rf"{done.percent}%", page)
        for p in event_places:
            assert re.search(rf"Event {re.escape(p.title)} Kind [\w ]+ Sessions {p.attended} ",
                             page), p.key
        assert by_key["missed"].title not in page.split("Events attended", 1)[1].split(
            "Certificates", 1)[0]

        # The PDF and the CSV of the record.
        pdf = client.get("/learning-record.pdf").data
        text = pdf_text(pdf, tmp_path)
        assert re.search(rf"{done.title} \d+ \w+ \d{{4}} {done.percent}%", text), text
        for p in event_places:
            assert re.search(rf"{re.escape(p.title)} [\w ]+? {p.attended} \d+ \w+ \d{{4}}",
                             text), (p.key, text)
        rows = list(csv.reader(io.StringIO(client.get("/learning-record.csv").data
                                           .decode("utf-8-sig"))))
        assert ["Course completed", done.title] == rows[[r[0] for r in rows].index(
            "Course completed")][:2]
        assert any(r[0] == "Course completed" and r[5] == f"Attendance {done.percent}%"
                   for r in rows)
        assert sorted(int(r[5].split("; ")[1].split()[0]) for r in rows
                      if r[0] == "Event attended") == sorted(p.attended for p in event_places)
        expected_hours = sum(p.hours() for p in event_places)
        total_row = next(r for r in rows if r[0] == "CPD total")
        assert float(total_row[3]) == round(course_hours + expected_hours, 1)

        with app.app_context():
            # The dashboards: the ICS's and the region's.
            bsol = db.session.scalar(select(Organisation).where(Organisation.code == "BSOL"))
            ics = dashboards.ics_dashboard(bsol, dashboards.ReportFilters())
            person = next(r for r in ics.people.rows if r[0] == "Lee Learner")
            assert person[4:6] == [len(completed), all_attended]
            assert (ics.attendances, ics.completions) == (all_attended, len(completed))
            region = regional.region_dashboard(dashboards.ReportFilters(
                None, date(2026, 10, 1), date(2027, 6, 30)))
            row = next(r for r in region.participation.rows if r[0] == bsol.name)
            assert row[2] == 1 and row[4] == all_attended
            assert row[5] == by_key["network"].attended
            assert row[6] == sum(p.kind == "cohort" for p in completed)

            # The API's completion figures.
            from lms.api import serialisers

            for p in history:
                enrolment = db.session.get(Enrolment, p.enrolment_id)
                (progress,) = attendance_completion.progress_for(enrolment.offering, [enrolment])
                body = serialisers.completion(progress)
                assert (body["attendance_percent"], body["attended"], body["excused"],
                        body["sessions_held"], body["complete"]) == (
                    p.percent, p.attended, p.excused, len(p.held()), p.complete), p.key


def _offering(p: Place) -> int:
    return db.session.get(Enrolment, p.enrolment_id).offering_id


def test_a_register_corrected_after_completion_shows_one_figure_everywhere(
        app, client, login, make_user, make_cohort, tmp_path: Path):
    """"Complete" beside one attendance on a page and another in the PDF: the completion
    stores the figure when it fired, but every page shows the share as it stands."""
    from lms.attendance.models import Completion

    with app.app_context():
        learner_id, faculty_id, history = build_history(make_user, make_cohort)
    done = next(p for p in history if p.key == "done")
    with time_machine.travel(NOW, tick=False):
        with app.app_context():
            faculty = db.session.get(User, faculty_id)
            enrolment = db.session.get(Enrolment, done.enrolment_id)
            second = sorted(enrolment.offering.live_sessions, key=lambda s: s.starts_at)[1]
            att.record_register(faculty, second, {learner_id: (Mark.ABSENT, "Corrected")})
            db.session.commit()
            stored = db.session.scalar(select(Completion.attendance_percent).where(
                Completion.enrolment_id == done.enrolment_id))
            offering_id = enrolment.offering_id
            learner, faculty = db.session.get(User, learner_id), db.session.get(User, faculty_id)
            _ = (learner.session_version, faculty.session_version)  # loaded for ``login``
        assert stored == 100  # what the completion email said
        login(learner)
        progress = text_of(client.get(f"/my-learning/{done.enrolment_id}/progress")
                           .get_data(as_text=True))
        assert "67% of the 3 sessions held" in progress
        record = text_of(client.get("/learning-record").get_data(as_text=True))
        assert f"Course {done.title} Completed" in record and "Attendance 67%" in record
        text = pdf_text(client.get("/learning-record.pdf").data, tmp_path)
        assert re.search(rf"{done.title} \d+ \w+ \d{{4}} 67%", text) and "100%" not in text
        login(faculty)
        page = client.get(f"/faculty/offerings/{offering_id}/completion").get_data(
            as_text=True)
        row = text_of(re.search(r"<tr[^>]*>(?:(?!</tr>).)*Lee Learner.*?</tr>", page,
                                re.S).group(0))
        assert "67% (2 of 3)" in row and "Completed" in row
