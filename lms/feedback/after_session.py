"""The "please give feedback" email after a session that has a survey open to answers.

The events reminder sweep (``lms.events.reminders``) sends it, exactly once per session and
person, to everyone who had a place, a few minutes after the session ends; this module only
says for which sessions (``sessions_with``), who has already answered (``answered``: not
asked again) and which survey the email links to. ``install(app)`` adds it to the app's
sweep; the feedback feature's ``init_app`` calls it, so every process that runs the sweep
(the scheduler, ``make run``, tests) has it. ``Offering.after_session_emails`` turns it off
per offering.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy import and_, exists, or_, select

from lms.clock import when_text
from lms.extensions import db
from lms.feedback.models import Survey, SurveyRespondent
from lms.notifications.services import link
from lms.offerings import calendar
from lms.offerings.models import Session

KIND = "feedback"


def _survey_for_session(now: datetime):
    """Surveys open to answers at ``now`` that belong to the correlated ``Session``: its own,
    or its offering's (one not attached to another session)."""
    return and_(
        Survey.is_template.is_(False),
        Survey.opens_at <= now, Survey.closes_at > now,
        or_(Survey.session_id == Session.id,
            and_(Survey.session_id.is_(None), Survey.offering_id == Session.offering_id)),
    )


def sessions_with(session_ids: list[int], now: datetime) -> set[int]:
    """Which of these sessions have a survey open to answers at ``now`` (one query)."""
    if not session_ids:
        return set()
    return set(db.session.scalars(
        select(Session.id).where(Session.id.in_(session_ids),
                                 exists().where(_survey_for_session(now)))
    ))


def answered(session_ids: list[int], now: datetime) -> set[tuple[int, int]]:
    """(session, person) for people who have already answered a survey the email would
    ask about (one query): they are not asked again."""
    if not session_ids:
        return set()
    return {(sid, uid) for sid, uid in db.session.execute(
        select(Session.id, SurveyRespondent.user_id)
        .join(Survey, _survey_for_session(now))
        .join(SurveyRespondent, SurveyRespondent.survey_id == Survey.id)
        .where(Session.id.in_(session_ids)))}


def open_survey_for(session: Session, now: datetime) -> Survey | None:
    """The survey to ask about: the session's own if it has one open, else its offering's;
    of several, the one closing first."""
    return db.session.scalar(
        select(Survey).join(Session, Session.id == session.id)
        .where(_survey_for_session(now))
        .order_by(Survey.session_id.is_(None), Survey.closes_at, Survey.id)
        .limit(1)
    )


def subject(session: Session) -> str:
    return f"Please give feedback: {calendar.summary_of(session.offering.title, session.title)}"


def context(session: Session, now: datetime) -> dict:
    survey = open_survey_for(session, now)
    if survey is None:  # closed between the sweep's check and this batch: link to the list
        return {"survey": None, "answer_url": link("feedback.my_surveys"), "closes": None}
    return {"survey": survey, "answer_url": link("feedback.answer", id=survey.id),
            "closes": when_text(survey.closes_at)}


def install(app: Flask) -> None:
    """Add the sender to ``app``'s reminder sweep (replacing any earlier one)."""
    from lms.events.reminders import AfterSessionSender, add_after_session
    from lms.notifications.preferences import EmailKind

    add_after_session(app, AfterSessionSender(
        kind=KIND, sessions_with=sessions_with, template="feedback/after_session",
        subject=subject, context=context, skip=answered,
        optional=EmailKind.FEEDBACK_REMINDERS,
    ))
