"""Demo events: two years of Midlands Analyst Network huddles (one back, one ahead), the
Evaluation and Knowledge Mobilisation networks, a past and an upcoming INSIGHT festival with
three tracks, and webinars with guest speakers; demo learners are members and booked.

Idempotent (events are found by title) and free of commits: ``lms.demo`` commits once. The
emails that booking through the real services queues are removed at the end, so seeding
does not fill the outbox.
"""

from __future__ import annotations

import random
from datetime import date, time, timedelta

from sqlalchemy import delete, func, select

from lms.accounts.models import Role, User, UserRole
from lms.clock import to_london, utcnow
from lms.errors import DomainError
from lms.events import networks, session_bookings
from lms.events import services as ev
from lms.events.models import (
    Festival,
    FestivalSession,
    FestivalTrack,
    NetworkOccurrence,
    SessionRecording,
    Speaker,
    Webinar,
)
from lms.events.recurrence import RuleInput
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.offerings import services as engine
from lms.offerings.models import (
    Booking,
    Enrolment,
    EnrolmentEvent,
    Offering,
    OfferingLead,
    Session,
)
from lms.offerings.schedule import local_to_utc

ANALYST_NETWORK = "Midlands Analyst Network huddles"
EVALUATION_NETWORK = "Evaluation Network"
KNOWLEDGE_NETWORK = "Knowledge Mobilisation Network"
TEAMS = "https://teams.microsoft.com/l/meetup-join/demo-"
# Each network's strand; webinars take these in turn; the festival spans all four (none).
NETWORK_STRANDS = {ANALYST_NETWORK: "analytical_capability",
                   EVALUATION_NETWORK: "decision_making",
                   KNOWLEDGE_NETWORK: "beyond_numbers"}
WEBINAR_STRANDS = ["analytical_capability", "decision_making", "analytical_leaders",
                   "beyond_numbers"]

HUDDLE_TOPICS = [
    "Forecasting A&E attendances with Prophet", "Reproducible analytical pipelines in R",
    "Population segmentation for ICS planning", "Waiting list modelling with discrete event "
    "simulation", "Communicating uncertainty to boards", "SQL window functions for analysts",
    "Building a Power BI model people trust", "Linking primary and secondary care data",
    "Health inequalities: measuring the gap", "Git for analysts: a gentle start",
    "Bed occupancy and flow: what the queues tell us", "Decision quality in commissioning",
    "Python for NHS analysts", "Synthetic data and information governance",
    "Virtual wards: evaluating early results", "Presenting to non-analysts",
    "Demand and capacity for elective recovery", "Statistical process control charts",
    "Using the NHS Data Model and Dictionary", "Open source in the NHS",
    "Small-area estimates of need", "Discharge delays: finding the levers",
    "Machine learning pitfalls in health data", "Mentoring and career paths for analysts",
    "Scenario planning with system partners", "Cost-effectiveness for local decisions",
]
PRESENTERS = [
    "Priya Patel, Coventry and Warwickshire ICB", "Tom Hughes, The Strategy Unit",
    "Aisha Khan, Birmingham and Solihull ICB", "Owen Davies, NHS England Midlands",
    "Grace Okafor, Nottingham and Nottinghamshire ICB", "Sanjay Mistry, Leicester, "
    "Leicestershire and Rutland ICB", "Laura Evans, The Black Country ICB",
    "Kwame Mensah, Derby and Derbyshire ICB", "Niamh Quinn, Staffordshire and "
    "Stoke-on-Trent ICB", "Hassan Malik, Lincolnshire ICB",
]
EVALUATION_TOPICS = [
    "Theory of change workshops", "Evaluating virtual wards", "Realist evaluation in "
    "practice", "Counterfactuals from routine data", "Process evaluation on a budget",
    "Sharing what did not work",
]
KNOWLEDGE_TOPICS = [
    "Getting evidence used by decision-makers", "Writing a two-page briefing",
    "Knowledge brokers in ICSs", "Storytelling with data", "Co-production with patients",
    "Learning health systems",
]
WEBINARS = [
    # title, days from today, speakers (name, role, organisation, bio)
    ("Decision quality for system leaders", 12, [
        ("Dr Amara Okafor", "Director of Analytics", "NHS England",
         "Leads national work on decision support and analytical capability."),
        ("Professor Martin Vale", "Professor of Decision Science", "University of Warwick",
         "Researches how boards make decisions under uncertainty.")]),
    ("What the NHS Long Term Workforce Plan means for analysts", 26, [
        ("Helen Brooks", "Head of Workforce Intelligence", "NHS England Midlands",
         "Has modelled the Midlands NHS workforce for ten years.")]),
    ("Large language models in NHS analytics: promise and caution", 41, [
        ("Dr Raj Sandhu", "Chief Data Scientist", "The Health Foundation",
         "Works on responsible use of AI in health and care."),
        ("Ellie Francis", "Information Governance Lead", "Nottingham and Nottinghamshire ICB",
         "Advises on data protection for new analytics.")]),
    ("Population health management: lessons from two ICSs", -20, [
        ("Dr Femi Adeyemi", "Consultant in Public Health", "Birmingham and Solihull ICB",
         "Led the Birmingham and Solihull population health programme.")]),
]
FESTIVAL_PROGRAMME = [
    # day, start, minutes, track, title, capacity, speaker
    (0, time(9, 30), 60, 0, "Opening keynote: analytics that changes decisions", None,
     ("Dr Amara Okafor", "Director of Analytics", "NHS England")),
    (0, time(11, 0), 90, 0, "Hands-on: forecasting with R and fable", 30,
     ("Tom Hughes", "Principal Analyst", "The Strategy Unit")),
    (0, time(11, 0), 60, 1, "Leading an analytical team through change", 40,
     ("Laura Evans", "Head of Business Intelligence", "The Black Country ICB")),
    (0, time(11, 0), 60, 2, "Evaluating the virtual wards programme", 40,
     ("Grace Okafor", "Evaluation Lead", "Nottingham and Nottinghamshire ICB")),
    (0, time(14, 0), 60, 1, "Influencing without authority", 25,
     ("Owen Davies", "Deputy Director", "NHS England Midlands")),
    (0, time(14, 0), 90, 0, "Python clinic: from spreadsheets to pipelines", 20,
     ("Xin Chen", "Data Scientist", "Coventry and Warwickshire ICB")),
    (1, time(9, 30), 60, 2, "Counterfactuals from routine data", 40,
     ("Kwame Mensah", "Senior Analyst", "Derby and Derbyshire ICB")),
    (1, time(9, 30), 60, 1, "Coaching conversations for analysts", 15,
     ("Niamh Quinn", "Organisational Development Lead", "Staffordshire and Stoke-on-Trent "
      "ICB")),
    (1, time(11, 0), 60, 0, "Synthetic data you can share", 40,
     ("Hassan Malik", "Information Analyst", "Lincolnshire ICB")),
    (1, time(11, 0), 60, 2, "Making evaluations useful to commissioners", 40,
     ("Sanjay Mistry", "Head of Evaluation", "Leicester, Leicestershire and Rutland ICB")),
    (1, time(14, 0), 60, 0, "Closing panel: the next five years of NHS analytics", None,
     ("Priya Patel", "Chief Analyst", "Coventry and Warwickshire ICB")),
]
FESTIVAL_TRACKS = ["Data science and modelling", "Analytical leadership",
                   "Evaluation and evidence"]


def _faculty() -> User | None:
    return db.session.scalar(select(User).where(User.email == "faculty@example.nhs.uk"))


def _learners() -> list[User]:
    staff = select(UserRole.user_id).where(UserRole.role != Role.LEARNER)
    return list(db.session.scalars(
        select(User).where(User.id.not_in(staff)).order_by(User.id)))


def _exists(title: str) -> bool:
    return db.session.scalar(select(func.count(Offering.id)).where(Offering.title == title)) > 0


def _today() -> date:
    return to_london(utcnow()).date()


def _network(actor: User, title: str, summary: str, first_day: date, start: time,
             minutes: int, rule: RuleInput, topics: list[str], rng: random.Random,
             slug: str) -> Offering:
    series = networks.create_network(actor, networks.NetworkDetails(
        title=title, summary=summary, status="open", first_day=first_day, local_start=start,
        duration_minutes=minutes, rule=rule, join_url=TEAMS + slug,
        strand=NETWORK_STRANDS.get(title, ""),
        description="Each meeting has a short talk from an analyst in the region, then "
                    "questions and discussion. Join once: every meeting is then in your "
                    "calendar.",
    ), allow_past=True)
    rows = {r.session_id: r for r in db.session.scalars(
        select(NetworkOccurrence).where(NetworkOccurrence.series_id == series.id))}
    for index, session in enumerate(series.sessions):
        session.title = topics[index % len(topics)]
        rows[session.id].presenter = PRESENTERS[(index * 3) % len(PRESENTERS)]
    if len(series.sessions) > 30:
        # One meeting moved by a day and one cancelled, as happens.
        moved = series.sessions[len(series.sessions) // 2 + 2]
        moved.starts_at += timedelta(days=1)
        moved.ends_at += timedelta(days=1)
        moved.sequence += 1
        cancelled = series.sessions[len(series.sessions) // 2 + 5]
        cancelled.status = "cancelled"
        cancelled.sequence += 1
    db.session.flush()
    return series


def _join(offering: Offering, people: list[User]) -> int:
    joined = 0
    for person in people:
        try:
            engine.book(person, offering)
            joined += 1
        except DomainError:
            continue
    return joined


def _record_place(offering: Offering, person: User, actor: User) -> Enrolment:
    """A place on something already over (the rules refuse booking the past)."""
    enrolment = Enrolment(offering=offering, user=person, state="enrolled")
    db.session.add(enrolment)
    db.session.add(EnrolmentEvent(enrolment=enrolment, from_state=None, to_state="enrolled",
                                  actor_id=actor.id, reason="Demo data"))
    return enrolment


def _webinars(actor: User, learners: list[User], learner: User | None,
              rng: random.Random) -> int:
    made = 0
    for index, (title, days, speakers) in enumerate(WEBINARS):
        if _exists(title):
            continue
        made += 1
        day = _today() + timedelta(days=days)
        while day.weekday() not in (1, 2, 3):  # Tuesday to Thursday
            day += timedelta(days=1)
        speaker_rows = [ev.SpeakerDetails(*s) for s in speakers]
        if days > 0:
            webinar = ev.create_webinar(actor, ev.WebinarDetails(
                title=title, summary="A lunchtime webinar with guest speakers, open to everyone "
                                    "in health and care analytics.",
                description="Open to everyone working in health and care analytics in the "
                            "Midlands. Bring your questions.",
                status="open", capacity=None if index % 2 else 150,
                session=ev.EventSessionDetails(
                    day, time(12, 30), time(13, 30), join_url=f"{TEAMS}webinar-{index}",
                    # The first is hybrid: a room in Birmingham as well as the link.
                    location="" if index else "Room 2, Birmingham Conference Centre"),
                speakers=speaker_rows, strand=WEBINAR_STRANDS[index % 4]))
            _join(webinar, rng.sample(learners, k=min(25, len(learners))))
            if learner is not None and index != 1:
                _join(webinar, [learner])
            continue
        # A past webinar, with its recording published.
        webinar = Webinar(title=title, summary="A lunchtime webinar with guest speakers.",
                          status="finished", booking_mode="open",
                          strand=WEBINAR_STRANDS[index % 4])
        start = local_to_utc(day, time(12, 30), "start")
        session = Session(starts_at=start, ends_at=start + timedelta(hours=1),
                          join_url=f"{TEAMS}webinar-{index}")
        webinar.sessions.append(session)
        db.session.add(webinar)
        db.session.flush()
        for position, s in enumerate(speaker_rows):
            db.session.add(Speaker(session_id=session.id, position=position, name=s.name,
                                   role=s.role, organisation=s.organisation, bio=s.bio))
        for person in rng.sample(learners, k=min(30, len(learners))) + (
                [learner] if learner else []):
            if not db.session.scalar(select(func.count(Enrolment.id)).where(
                    Enrolment.offering_id == webinar.id, Enrolment.user_id == person.id)):
                _record_place(webinar, person, actor)
        db.session.add(SessionRecording(session_id=session.id,
                                        url="https://www.youtube.com/watch?v=demo-phm",
                                        published_by_id=actor.id))
    db.session.flush()
    return made


def _festival(actor: User, title: str, first_day: date, upcoming: bool,
              learners: list[User], learner: User | None, rng: random.Random) -> None:
    festival = Festival(
        title=title, status="open" if upcoming else "finished", booking_mode="open",
        capacity=400, first_day=first_day, last_day=first_day + timedelta(days=1),
        summary="Two days of talks, workshops and panels for analysts and decision-makers "
                "across the Midlands.",
        description="Register for the festival, then book the sessions you want. Workshops "
                    "have limited places; if one is full, join its waiting list.",
    )
    for position, name in enumerate(FESTIVAL_TRACKS):
        festival.tracks.append(FestivalTrack(name=name, position=position))
    db.session.add(festival)
    db.session.flush()
    sessions = []
    for n, (day, start, minutes, track, talk, capacity, speaker) in enumerate(
            FESTIVAL_PROGRAMME):
        starts = local_to_utc(first_day + timedelta(days=day), start, "start")
        session = Session(offering=festival, title=talk, starts_at=starts,
                          ends_at=starts + timedelta(minutes=minutes), capacity=capacity,
                          location=f"Room {track + 1}, Birmingham Conference Centre",
                          join_url=f"{TEAMS}insight-{first_day.year}-{n}")
        db.session.add(session)
        db.session.flush()
        db.session.add(FestivalSession(session_id=session.id, festival_id=festival.id,
                                       track_id=festival.tracks[track].id,
                                       description="A session of the INSIGHT festival."))
        db.session.add(Speaker(session_id=session.id, position=0, name=speaker[0],
                               role=speaker[1], organisation=speaker[2]))
        sessions.append(session)
    db.session.flush()
    people = rng.sample(learners, k=min(60, len(learners)))
    if learner is not None:
        people = [learner, *[p for p in people if p.id != learner.id]]
    for index, person in enumerate(people):
        if upcoming:
            _join(festival, [person])
            for session in rng.sample(sessions, k=3) if person is not learner else [
                    sessions[0], sessions[2], sessions[6]]:
                try:
                    session_bookings.book_session(person, session)
                except DomainError:
                    continue
        else:
            _record_place(festival, person, actor)
            db.session.flush()
            for session in (sessions[index % len(sessions)], sessions[0]):
                if not db.session.scalar(select(func.count(Booking.id)).where(
                        Booking.session_id == session.id, Booking.user_id == person.id)):
                    db.session.add(Booking(session=session, user=person, state="booked"))
    db.session.flush()


def seed(rng: random.Random | None = None) -> dict[str, int]:
    """Idempotent: events that exist (by title) are left alone."""
    rng = rng or random.Random(2028)
    actor = _faculty()
    if actor is None:
        return {"events": 0}
    first_outbox = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    learners = _learners()
    learner = db.session.scalar(select(User).where(User.email == "learner@example.nhs.uk"))
    made = 0
    today = _today()
    if not _exists(ANALYST_NETWORK):
        # Fortnightly on Wednesdays, a year back and a year on, with a huddle this week
        # (today, or on one of the next six days).
        first = today + timedelta(days=(2 - today.weekday()) % 7) - timedelta(weeks=52)
        series = _network(actor, ANALYST_NETWORK,
                          "Fortnightly lunchtime huddles for analysts across the Midlands: a "
                          "short talk, then discussion.", first, time(12, 30), 60,
                          RuleInput("WEEKLY", 2, ["WE"], None, "count", 52, None),
                          HUDDLE_TOPICS, rng, "huddle")
        # Fiona Faculty runs the huddles, so her home has this week's meeting on it.
        series.lead_rows.append(OfferingLead(user_id=actor.id))
        members = learners[: max(1, len(learners) * 2 // 3)]
        if learner is not None and learner not in members:
            members.append(learner)
        _join(series, members)
        made += 1
    if not _exists(EVALUATION_NETWORK):
        series = _network(actor, EVALUATION_NETWORK,
                          "Every second month: evaluators and commissioners share methods "
                          "and findings.", today - timedelta(days=360), time(14, 0), 90,
                          RuleInput("MONTHLY", 2, ["TU"], 2, "count", 12, None),
                          EVALUATION_TOPICS, rng, "evaluation")
        _join(series, rng.sample(learners, k=min(40, len(learners))))
        made += 1
    if not _exists(KNOWLEDGE_NETWORK):
        series = _network(actor, KNOWLEDGE_NETWORK,
                          "Every second month: getting evidence and analysis used in "
                          "decisions.", today - timedelta(days=330), time(15, 0), 60,
                          RuleInput("MONTHLY", 2, ["TH"], -1, "count", 12, None),
                          KNOWLEDGE_TOPICS, rng, "knowledge")
        _join(series, rng.sample(learners, k=min(30, len(learners))))
        made += 1
    made += _webinars(actor, learners, learner, rng)
    past_title = f"INSIGHT festival {today.year - 1}"
    if not _exists(past_title):
        _festival(actor, past_title, _weekday(date(today.year - 1, 6, 10)), False, learners,
                  learner, rng)
        made += 1
    start = _weekday(today + timedelta(days=75))
    next_title = f"INSIGHT festival {start.year}"
    if not _exists(next_title):
        _festival(actor, next_title, start, True, learners, learner, rng)
        made += 1
    # The booking emails were written by the real services; demo data sends none.
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > first_outbox))
    db.session.flush()
    return {"events": made}


def _weekday(day: date) -> date:
    """The next Tuesday on or after ``day`` (festivals run Tuesday and Wednesday)."""
    while day.weekday() != 1:
        day += timedelta(days=1)
    return day

