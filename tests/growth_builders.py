"""More of everything the lists show, written straight into the database: the second size of
the query-count test (``tests/test_lazy_loads.py``). Call inside an app context; flushes."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

from sqlalchemy import select

from lms.accounts.models import OrganisationChange
from lms.attendance.models import Attendance, Completion, Mark, Source
from lms.clock import utcnow
from lms.events.models import (
    Festival,
    FestivalSession,
    FestivalTrack,
    NetworkOccurrence,
    NetworkSeries,
    Speaker,
    Webinar,
)
from lms.extensions import db
from lms.offerings.models import Booking, Enrolment, Offering, Session, SessionStatus
from tests.catalogue_builders import cohort, course, person
from tests.conftest import People, organisation


def grow(people: People, n: int = 3) -> dict[str, int]:
    """``n`` more people in each of the two ICSs of the table (Birmingham and Solihull, the
    Black Country), each holding a place on every offering there is, marked at every session
    held and booked on every festival session, the Black Country's asking to move to
    Birmingham and Solihull; and, for the learner, ``n`` more cohorts (one session held and
    attended, one to come; completed) and ``n`` more webinars booked; and ``n`` more sessions
    of every cohort, network series (meetings) and festival (in its first track, with a
    speaker). Returns how many of some of them."""
    now = utcnow()
    offerings = list(db.session.scalars(select(Offering)))
    held = list(db.session.scalars(select(Session).where(
        Session.starts_at < now, Session.status == SessionStatus.SCHEDULED)))
    festival_sessions = list(db.session.scalars(select(FestivalSession.session_id)))
    newcomers = [person(code) for code in ("BSOL", "BC") for _ in range(n)]
    made = {"people": len(newcomers)}
    for someone in newcomers:
        for offering in offerings:
            db.session.add(Enrolment(offering_id=offering.id, user_id=someone.id,
                                     state="enrolled"))
        for session in held:
            db.session.add(Attendance(session_id=session.id, user_id=someone.id,
                                      status=Mark.PRESENT, source=Source.REGISTER))
        for session_id in festival_sessions:
            db.session.add(Booking(session_id=session_id, user_id=someone.id, state="booked"))
        if someone.organisation.code == "BC":
            db.session.add(OrganisationChange(
                user_id=someone.id, from_organisation_id=someone.organisation_id,
                to_organisation_id=organisation("BSOL").id))
    for offering in offerings:
        _more_sessions(offering, n, now)
    for k in range(n):
        made_cohort = cohort(course(), status="open", capacity=None,
                             starts=[now - timedelta(days=7 + k), now + timedelta(days=20 + k)])
        place = Enrolment(offering_id=made_cohort.id, user_id=people.learner.id,
                          state="completed")
        db.session.add(place)
        db.session.flush()
        db.session.add(Attendance(session_id=made_cohort.sessions[0].id,
                                  user_id=people.learner.id, status=Mark.PRESENT,
                                  source=Source.REGISTER))
        db.session.add(Completion(enrolment_id=place.id, attendance_percent=100))
        start = now + timedelta(days=10 + k, hours=k)
        webinar = Webinar(title=f"Growth webinar {k}", summary="More of the same",
                          status="open", booking_mode="open", published=True,
                          sessions=[Session(title="Webinar", starts_at=start,
                                            ends_at=start + timedelta(hours=1),
                                            join_url="https://teams.example.com/l/grow")])
        db.session.add(webinar)
        db.session.flush()
        db.session.add(Enrolment(offering_id=webinar.id, user_id=people.learner.id,
                                 state="enrolled"))
    db.session.flush()
    made["offerings"] = len(offerings) + 2 * n
    return made


_moment = count(1)


def _more_sessions(offering: Offering, n: int, now) -> None:
    """``n`` more sessions of an offering, in the weeks to come (a webinar has one)."""
    if isinstance(offering, Webinar):
        return
    track = (db.session.scalar(select(FestivalTrack.id).where(
        FestivalTrack.festival_id == offering.id).order_by(FestivalTrack.position).limit(1))
        if isinstance(offering, Festival) else None)
    if isinstance(offering, Festival) and track is None:
        return
    for _ in range(n):
        start = now + timedelta(days=40, hours=next(_moment))
        session = Session(offering_id=offering.id, title="One more", starts_at=start,
                          ends_at=start + timedelta(hours=1), location="Room 2",
                          join_url="https://teams.example.com/l/more")
        db.session.add(session)
        db.session.flush()
        if isinstance(offering, NetworkSeries):
            db.session.add(NetworkOccurrence(session_id=session.id, series_id=offering.id,
                                             rule_starts_at=start, presenter="Pat Presenter"))
        elif isinstance(offering, Festival):
            db.session.add(FestivalSession(session_id=session.id, festival_id=offering.id,
                                           track_id=track, description="More"))
            db.session.add(Speaker(session_id=session.id, name="Sam Speaker"))
