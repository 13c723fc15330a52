"""The learning work the page benchmark reaches, added to the generated region: on every
cohort its materials (links, one file, some for one session), one piece of project work
with people's submissions (most marked once the deadline has passed) and a few messages from
faculty; and the benchmark admin's two-step verification (admins must have it), so the HTTP
benchmark can sign in as them through the real form.

``add_learning(generator)`` is called at the end of ``bench.generate.Generator.run``, so the
rows come from the same seeded random numbers and the same bulk inserts. Per cohort the
amounts do not grow with the scale (cohorts have the same size at every scale), so a page
about one cohort costs the same at every scale and only the number of cohorts grows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from lms.accounts.models import User
from lms.courses.models import Cohort
from lms.learning.assignments_models import Assignment, Submission
from lms.learning.materials_models import Material
from lms.messages.models import FacultyMessage
from lms.offerings.models import HOLDS_PLACE, Enrolment, EnrolmentState, OfferingLead, Session

if TYPE_CHECKING:
    from bench.generate import Generator

# The benchmark admin's TOTP secret (base32): throw-away benchmark accounts only, like the
# bench password. ``bench.loadtest`` signs in with a code from it.
ADMIN_TOTP_SECRET = "BENCHADMINTOTPSECRETX234567ABCDE"  # noqa: S105 - benchmark data only

LINKS = [
    ("Pre-reading: {topic}", "https://www.england.nhs.uk/publication/analytics-{n}/"),
    ("Worked example notebook", "https://github.com/nhs-r-community/examples/{n}"),
    ("Recording of last session", "https://teams.microsoft.com/l/recording/{n}"),
]
MESSAGES = [
    ("Welcome to the cohort", "Welcome! The pre-reading is on the materials page. Please "
     "bring a question from your own work to the first session."),
    ("Project work brief published", "The project work brief is now up. Read it before the "
     "second session: **groups of three or four**, one short write-up each."),
    ("Reminder: sessions this week", "A reminder that this week's session starts at the time "
     "in your calendar. The joining link is on the cohort page."),
]
BRIEF = ("Pick one decision your organisation made in the last year with data behind it.\n\n"
         "1. Describe the question and the data used.\n"
         "2. Apply one method from the course to it.\n"
         "3. Say what you would recommend now, and why.\n\n"
         "About **1,500 words**; charts welcome.")
FEEDBACK = ["A clear write-up: the method suits the question.",
            "Good start. Say more about the data's limits before the recommendation.",
            "Well argued; the chart makes the point."]
ANSWER = ("We looked at referral waiting times across our three sites and used statistical "
          "process control to separate a real shift from noise. ") * 6


def add_learning(gen: Generator) -> None:
    """Add materials, project work, submissions and faculty messages to every cohort, and
    turn on the benchmark admin's two-step verification."""
    cohorts = db_rows(select(Cohort.id, Cohort.name).order_by(Cohort.id))
    sessions: dict[int, list[tuple[int, object, object]]] = defaultdict(list)
    for offering_id, session_id, starts, ends in db_rows(
            select(Session.offering_id, Session.id, Session.starts_at, Session.ends_at)
            .where(Session.offering_id.in_(select(Cohort.id)))
            .order_by(Session.offering_id, Session.starts_at, Session.id)):
        sessions[offering_id].append((session_id, starts, ends))
    places: dict[int, list[int]] = defaultdict(list)
    for offering_id, user_id in db_rows(
            select(Enrolment.offering_id, Enrolment.user_id)
            .where(Enrolment.offering_id.in_(select(Cohort.id)),
                   Enrolment.state.in_([*HOLDS_PLACE, EnrolmentState.COMPLETED]))
            .order_by(Enrolment.offering_id, Enrolment.id)):
        places[offering_id].append(user_id)
    leads = dict(db_rows(select(OfferingLead.offering_id, func.min(OfferingLead.user_id))
                         .group_by(OfferingLead.offering_id)))
    rng, now = gen.rng, gen.now
    for cohort_id, name in cohorts:
        runs = sessions.get(cohort_id)
        if not runs:
            continue
        lead = leads.get(cohort_id)
        first_id, first_starts, _ = runs[0]
        created = first_starts - timedelta(days=28)
        for position, (title, url) in enumerate(LINKS):
            on_session = runs[min(position, len(runs) - 1)] if position == 2 else None
            gen.add(Material, id=gen.next_id("learning_material"), offering_id=cohort_id,
                    session_id=on_session[0] if on_session else None, kind="link",
                    title=title.format(topic=name), note="", url=url.format(n=cohort_id),
                    visible_from="after" if on_session else "now", public=False,
                    position=position, added_by_id=lead, created_at=created,
                    updated_at=created)
        material_id = gen.next_id("learning_material")
        gen.add(Material, id=material_id, offering_id=cohort_id, session_id=first_id,
                kind="file", title="Slides for the first session", note="",
                file_key=f"bench-material-{material_id}", filename="session-1-slides.pdf",
                content_type="application/pdf", size=1_200_000 + rng.randrange(400_000),
                visible_from="start", public=False, position=len(LINKS), added_by_id=lead,
                created_at=created, updated_at=created)
        for number, (subject, body) in enumerate(MESSAGES):
            sent = created + timedelta(days=7 * number + 1)
            if sent > now:
                break
            gen.add(FacultyMessage, id=gen.next_id("faculty_message"), offering_id=cohort_id,
                    session_id=None, audience="everyone", subject=subject, body=body,
                    sent_by_id=lead, sent_at=sent, recipient_count=len(places[cohort_id]),
                    switched_off_count=0)
        due = runs[len(runs) // 2][2] + timedelta(days=7)
        assignment_id = gen.next_id("assignment")
        gen.add(Assignment, id=assignment_id, offering_id=cohort_id, title="Project work",
                brief=BRIEF, due_at=due, for_groups=False, counts_to_completion=False,
                created_at=created)
        share = 0.8 if due < now else 0.3
        for user_id in places[cohort_id]:
            # The heavy learner always has work in: the benchmark's assignment page shows
            # their submission at every scale and hour (its files are one more statement).
            if rng.random() >= share and user_id != gen.learner:
                continue
            submitted = min(now, due) - timedelta(hours=rng.randrange(1, 24 * 6))
            marked = due < now and rng.random() < 0.7
            gen.add(Submission, id=gen.next_id("submission"), assignment_id=assignment_id,
                    user_id=user_id, group_id=None, submitted_by_id=user_id, text=ANSWER,
                    submitted_at=submitted, late=False,
                    outcome=rng.choice(["met", "met", "not_yet_met"]) if marked else None,
                    feedback=rng.choice(FEEDBACK) if marked else "", resubmit_by=None,
                    marked_by_id=lead if marked else None,
                    marked_at=due + timedelta(days=3) if marked else None)
    gen.flush(Material, FacultyMessage, Assignment, Submission)
    from lms.extensions import db

    db.session.execute(update(User).where(User.id == gen.admin).values(
        totp_secret=ADMIN_TOTP_SECRET, totp_enabled_at=now - timedelta(days=300)))


def db_rows(statement) -> list[tuple]:
    from lms.extensions import db

    return [tuple(row) for row in db.session.execute(statement)]
