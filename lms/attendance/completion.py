"""Completion: each place measured against its offering's completion rule (attendance,
feedback, sign-off), completion fired once when the rule is met (the ``Completed`` event for
the certificate and competency listeners), and warnings to people falling behind.

Services validate, raise domain errors and flush; views and jobs commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from lms.accounts.models import User
from lms.attendance import standing
from lms.attendance.models import AttendanceWarning, Completion, SignOff
from lms.attendance.standing import Share
from lms.clock import utcnow
from lms.errors import DomainError, NotAllowed, NotFound
from lms.extensions import db
from lms.listeners import notify
from lms.notifications.services import link, queue_email
from lms.offerings.models import (
    HOLDS_PLACE,
    Enrolment,
    EnrolmentEvent,
    EnrolmentState,
    Offering,
    Session,
)
from lms.offerings.policy import can_manage

if TYPE_CHECKING:
    from lms.feedback.services import FeedbackGiven

MAX_WARNINGS = 2


def _holders(offering_id: int) -> list[Enrolment]:
    return holders_of([offering_id])


def holders_of(offering_ids: list[int], *, offerings_loaded: bool = False) -> list[Enrolment]:
    """The places held on these offerings, in one query, by name. ``offerings_loaded``: the
    caller holds the offerings (with what it needs of them), so each place finds its
    offering in the session instead of joining it and loading its collections again."""
    stmt = (select(Enrolment).join(User, Enrolment.user_id == User.id)
            .where(Enrolment.offering_id.in_(offering_ids), Enrolment.state.in_(HOLDS_PLACE))
            .order_by(User.full_name))
    if offerings_loaded:
        stmt = stmt.options(lazyload(Enrolment.offering))
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class CompletionRule:
    min_attendance_percent: int = 50
    requires_feedback: bool = False
    requires_signoff: bool = False
    # Every assignment set to count towards completion must be met (``lms.learning``).
    requires_assignments: bool = False
    # Courses warn people falling behind; a network's huddles, a webinar or a festival are
    # drop-in, so nobody is told off for missing some.
    warns: bool = False

    def attendance_ok(self, share: Share) -> bool:
        """Whether a place's attendance meets the rule (not before a session is held)."""
        return share.percent is not None and share.percent >= self.min_attendance_percent

    def below(self, share: Share) -> bool:
        """Whether a place's attendance is below the rule (sessions held, not enough)."""
        return share.percent is not None and not self.attendance_ok(share)


def rule_for(offering: Offering) -> CompletionRule:
    """A course's cohorts use the course's rule (and warn); other offerings need half the
    sessions and send no warnings."""
    course = getattr(offering, "course", None)
    if course is not None:
        return CompletionRule(course.min_attendance_percent, course.requires_feedback,
                              course.requires_signoff, warns=True)
    return CompletionRule()


@dataclass
class Progress:
    """A place against its offering's completion rule. The attendance figures are the
    ``standing.Share`` every page reads."""

    enrolment: Enrolment
    rule: CompletionRule
    share: Share
    feedback_given: bool
    signed_off: bool
    completed: Completion | None
    assignments_met: bool = False

    @property
    def held(self) -> int:
        return self.share.held

    @property
    def total(self) -> int:
        return self.share.total

    @property
    def attended(self) -> int:
        return self.share.attended

    @property
    def excused(self) -> int:
        return self.share.excused

    @property
    def marks(self) -> Mapping[int, str]:
        """Session id -> status, at the sessions held."""
        return self.share.marks

    @property
    def percent(self) -> int | None:
        return self.share.percent

    @property
    def attendance_ok(self) -> bool:
        return self.rule.attendance_ok(self.share)

    @property
    def all_held(self) -> bool:
        return self.total > 0 and self.held == self.total

    @property
    def complete(self) -> bool:
        return (self.all_held and self.attendance_ok
                and (self.feedback_given or not self.rule.requires_feedback)
                and (self.signed_off or not self.rule.requires_signoff)
                and (self.assignments_met or not self.rule.requires_assignments))

    @property
    def below_threshold(self) -> bool:
        return self.rule.below(self.share)


def _answered(offering_ids: set[int]) -> set[tuple[int, int]]:
    """(person, offering) for everyone who has answered a survey of one of these offerings
    (``feedback.services.answered_user_ids`` for many offerings at once, one query)."""
    from lms.feedback.models import Survey, SurveyRespondent

    return set(db.session.execute(
        select(SurveyRespondent.user_id, Survey.offering_id).distinct()
        .join(Survey, Survey.id == SurveyRespondent.survey_id)
        .where(Survey.offering_id.in_(offering_ids))).tuples())


WorkRequirement = Callable[[set[tuple[int, int]]], tuple[set[int], set[tuple[int, int]]]]
_WORK = "lms.attendance.work_requirement"


def set_work_requirement(app: Flask, answer: WorkRequirement) -> None:
    """The project-work feature's answer to "which of these offerings have work counting
    towards completion, and which (offering, person) places have met it all?" (from its
    ``init_app``; without one, no offering requires work)."""
    app.extensions[_WORK] = answer


def _assignments_met(places: set[tuple[int, int]]
                     ) -> tuple[set[int], set[tuple[int, int]]]:
    answer = current_app.extensions.get(_WORK)
    return answer(places) if answer is not None else (set(), set())


def progress_for(offering: Offering, enrolments: list[Enrolment] | None = None,
                 now: datetime | None = None) -> list[Progress]:
    """Each person's progress against the rule, in a fixed number of queries."""
    enrolments = enrolments if enrolments is not None else list(_holders(offering.id))
    found = progress_of_places(enrolments, now)
    return [found[e.id] for e in enrolments]


def progress_of_places(enrolments: list[Enrolment], now: datetime | None = None
                       ) -> dict[int, Progress]:
    """``progress_for`` for places on any number of offerings (a person's home, say), by
    enrolment id, in a fixed number of queries: each offering's rule is read from the
    offering already loaded with its enrolment."""
    if not enrolments:
        return {}
    figures = standing.shares(enrolments, now)
    enrolment_ids = [e.id for e in enrolments]
    signed = set(db.session.scalars(select(SignOff.enrolment_id).where(
        SignOff.enrolment_id.in_(enrolment_ids))))
    done = standing.completions(enrolment_ids)
    rules = {e.offering_id: rule_for(e.offering) for e in enrolments}
    counting, met = _assignments_met({(e.offering_id, e.user_id) for e in enrolments})
    rules = {oid: replace(rule, requires_assignments=oid in counting)
             for oid, rule in rules.items()}
    asking = {oid for oid, rule in rules.items() if rule.requires_feedback}
    answered = _answered(asking) if asking else set()
    return {e.id: Progress(enrolment=e, rule=rules[e.offering_id], share=figures[e.id],
                           feedback_given=(e.user_id, e.offering_id) in answered,
                           signed_off=e.id in signed, completed=done.get(e.id),
                           assignments_met=(e.offering_id, e.user_id) in met)
            for e in enrolments}


def falling_behind(offerings: Iterable[Offering], now: datetime | None = None
                   ) -> dict[int, int]:
    """How many places on each of these offerings are below the attendance their rule needs
    and not completed (``Progress.below_threshold`` and no completion), counted only where
    the rule warns (a course's cohorts); offerings with none are left out. Counted in the
    database (``standing.tallied``) in one query: no place is loaded, so the cost does not
    follow the number of people."""
    rules = {offering.id: rule_for(offering) for offering in offerings}
    warned = [offering_id for offering_id, rule in rules.items() if rule.warns]
    if not warned:
        return {}
    places = (select(Enrolment.id.label("id"), Enrolment.user_id.label("user_id"),
                     Enrolment.offering_id.label("offering_id"),
                     Enrolment.offering_id.label("group"))
              .where(Enrolment.offering_id.in_(warned), Enrolment.state.in_(HOLDS_PLACE))
              .cte())
    behind: dict[int, int] = {}
    for tally in standing.tallied(places, now, offering_ids=warned):
        if not tally.completed and rules[tally.group].below(tally.share):
            behind[tally.group] = behind.get(tally.group, 0) + tally.places
    return behind


@dataclass(frozen=True)
class Completed:
    """Someone has completed an offering: ``completion`` is flushed, and listeners (the
    certificate, competency evidence) write in the completing transaction."""

    completion: Completion


def refresh_completion(offering: Offering) -> list[Completion]:
    """Fire completion once for everyone who has reached it, and warn (a capped number of
    times) those whose attendance has fallen below the rule. Returns new completions."""
    fired: list[Completion] = []
    progress = progress_for(offering)
    # The warnings already sent, in one query (not one per person).
    warned = {w.enrolment_id: w for w in db.session.scalars(
        select(AttendanceWarning).where(AttendanceWarning.enrolment_id.in_(
            [p.enrolment.id for p in progress if p.below_threshold])))}
    for p in progress:
        if p.completed is None and p.complete and p.enrolment.state == EnrolmentState.ENROLLED:
            fired.append(_complete(p))
        elif p.rule.warns and p.below_threshold and p.completed is None and p.held >= 1:
            with db.session.no_autoflush:
                _warn(p, warned.get(p.enrolment.id))
    db.session.flush()
    return fired


def _complete(p: Progress) -> Completion:
    enrolment = p.enrolment
    completion = Completion(enrolment_id=enrolment.id, attendance_percent=p.percent or 0)
    db.session.add(completion)
    db.session.add(EnrolmentEvent(enrolment_id=enrolment.id, from_state=enrolment.state,
                                  to_state=EnrolmentState.COMPLETED,
                                  reason="Completion rule met"))
    enrolment.state = EnrolmentState.COMPLETED
    db.session.flush()
    queue_email(enrolment.user.email, f"You have completed {enrolment.offering.title}",
                "attendance/completed", person=enrolment.user, offering=enrolment.offering,
                percent=p.percent, my_learning_url=link("offerings.my_learning"))
    notify(Completed(completion))
    return completion


def _warn(p: Progress, warning: AttendanceWarning | None) -> None:
    """Warn a person below the threshold, unless warned enough or since the last session
    held. ``warning``: their warning row, if they have one."""
    if warning is None:
        warning = AttendanceWarning(enrolment_id=p.enrolment.id, sent=0, sessions_held=0)
        db.session.add(warning)
    if warning.sent >= MAX_WARNINGS or warning.sessions_held >= p.held:
        return
    warning.sent += 1
    warning.sessions_held = p.held
    warning.last_sent_at = utcnow()
    queue_email(p.enrolment.user.email,
                f"Your attendance on {p.enrolment.offering.title}",
                "attendance/below_threshold", flush=False, person=p.enrolment.user,
                offering=p.enrolment.offering, percent=p.percent,
                needed=p.rule.min_attendance_percent, held=p.held,
                my_learning_url=link("offerings.my_learning"))


def sign_off(actor: User, enrolment: Enrolment, note: str = "") -> None:
    """Faculty sign a person off (where the rule needs it); completion may then fire."""
    if not can_manage(actor, enrolment.offering):
        raise NotAllowed("Only faculty can sign people off")
    if enrolment.state not in (EnrolmentState.ENROLLED, EnrolmentState.COMPLETED):
        raise DomainError("Only people with a place can be signed off")
    if db.session.get(SignOff, enrolment.id) is None:
        db.session.add(SignOff(enrolment_id=enrolment.id, signed_off_by_id=actor.id,
                               note=" ".join((note or "").split())[:1000]))
        db.session.flush()
    refresh_completion(enrolment.offering)


def my_progress(user: User, enrolment_id: int) -> Progress:
    """A person's own progress on one of their enrolments (404 for anyone else's)."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.user_id != user.id:
        raise NotFound("No such booking")
    return progress_for(enrolment.offering, [enrolment])[0]


def offerings_just_held(now: datetime) -> list[int]:
    """The completion job's list: offerings with a session that ended in the last two days."""
    return list(db.session.scalars(
        select(Session.offering_id).where(Session.ends_at <= now,
                                          Session.ends_at > now - timedelta(days=2)).distinct()
    ))



def complete_on_feedback(event: FeedbackGiven) -> None:
    """Giving feedback may be the last thing someone needed to complete (a listener,
    connected by the attendance feature's ``init_app``)."""
    offering = db.session.get(Offering, event.offering_id)
    if offering is not None:
        refresh_completion(offering)
