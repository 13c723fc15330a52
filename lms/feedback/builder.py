"""The survey builder: templates, surveys made from them or from scratch, their settings
(what they are about, anonymity, when they open and close) and their questions.

Services validate everything before they change anything, raise ``DomainError``, flush, and
never commit. Faculty and admins build surveys (``services.can_manage_surveys``).

Rules:

- A survey belongs to an offering, or to one of its sessions, and opens and closes at set
  times, typed as UK clock times: a time the clocks skip in spring is refused, one they pass
  twice in autumn is the first (BST) one.
- Questions change only while nobody can have seen them: before the survey opens and before
  anyone has saved or sent answers. Templates can always change; surveys hold copies, and
  remember the template question each came from, so cohorts can be compared.
- Anonymity and the session a survey is about are fixed once it opens: people were told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import exists, func, select

from lms.accounts.models import User
from lms.clock import LONDON, to_london, utcnow
from lms.errors import ALLOWED, Decision, DomainError, ErrorCollector
from lms.extensions import db
from lms.feedback.models import (
    CHOICE_KINDS,
    QuestionKind,
    Survey,
    SurveyDraft,
    SurveyQuestion,
    SurveyRespondent,
    SurveyResponse,
)
from lms.offerings.models import Offering, Session

MAX_QUESTIONS = 50
MAX_CHOICES = 20
STANDARD_TEMPLATE_CODE = "network-evaluation"


class SurveyLocked(DomainError):
    """A change to questions people may already have seen or answered."""


# ---------------------------------------------------------------------------- state


def _has_activity(survey: Survey) -> bool:
    """Whether anyone has sent or saved answers to the survey."""
    return bool(db.session.scalar(select(
        exists().where(SurveyRespondent.survey_id == survey.id)
        | exists().where(SurveyDraft.survey_id == survey.id)
        | exists().where(SurveyResponse.survey_id == survey.id)
    )))


def questions_locked(survey: Survey, now: datetime | None = None) -> bool:
    """Questions are fixed once a survey has opened or anyone has answered it."""
    if survey.is_template:
        return False
    if survey.opens_at is not None and survey.opens_at <= (now or utcnow()):
        return True
    return _has_activity(survey)


def _check_editable(survey: Survey) -> None:
    if survey.is_template:
        return
    if _has_activity(survey):
        raise SurveyLocked("People have started answering this survey, so its questions "
                           "can no longer change")
    if survey.opens_at is not None and survey.opens_at <= utcnow():
        raise SurveyLocked("This survey has opened, so its questions can no longer change")


# ---------------------------------------------------------------------------- local time


def london_to_utc(day: date, at: time, field_name: str) -> datetime:
    """The UTC moment of ``at`` on ``day`` on clocks in Europe/London.

    A time skipped when the clocks go forward raises ``DomainError`` on ``field_name``; a time
    that happens twice when they go back is taken as the first (British Summer Time) one.
    """
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=LONDON)
    moment = wall.astimezone(UTC)
    if moment.astimezone(LONDON).replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise DomainError(
            f"{at:%H:%M} on {day:%-d %B %Y} does not exist in the UK: the clocks go forward an "
            "hour that night. Choose another time.", field_name)
    return moment


def london_day_and_time(moment: datetime | None) -> tuple[date | None, time | None]:
    """The London date and clock time of a UTC moment, to fill in a form."""
    if moment is None:
        return None, None
    local = to_london(moment)
    return local.date(), local.time().replace(tzinfo=None, fold=0)


# ---------------------------------------------------------------------------- building


def _text(raw: str | None, label: str, field_name: str, limit: int, *,
          required: bool = True, one_line: bool = True) -> str:
    value = " ".join((raw or "").split()) if one_line else (raw or "").strip()
    if required and not value:
        raise DomainError(f"Enter {label}", field_name)
    if len(value) > limit:
        raise DomainError(f"{label[0].upper()}{label[1:]} must be {limit:,} characters or "
                          "fewer", field_name)
    return value


def _copy_questions(source: Survey, target: Survey, *, link_to_source: bool) -> None:
    for question in source.questions:
        target.questions.append(SurveyQuestion(
            position=question.position, kind=question.kind, text=question.text,
            hint=question.hint, required=question.required, choices=list(question.choices),
            template_question_id=(question.template_question_id or question.id)
            if link_to_source else None,
        ))


def create_survey(actor: User | None, offering: Offering, start_from: str | None,
                  title: str | None = None) -> Survey:
    """A new, unscheduled survey for ``offering``: blank (``start_from`` is ``"blank"``) or
    with a copy of the questions of the template whose id ``start_from`` gives, remembering
    the template so cohorts can be compared."""
    template = None
    if start_from != "blank":
        template_id = int(start_from) if (start_from or "").isdigit() else 0
        template = db.session.get(Survey, template_id)
        if template is None or not template.is_template:
            raise DomainError("Choose a template or a blank survey", "start_from")
    default = template.title if template else f"Feedback: {offering.title}"
    title = _text(title, "a title", "title", 200, required=False) or default[:200]
    survey = Survey(
        title=title, intro=template.intro if template else "",
        anonymous=template.anonymous if template else True,
        offering_id=offering.id, template_id=template.id if template else None,
        created_by_id=actor.id if actor else None,
    )
    if template is not None:
        _copy_questions(template, survey, link_to_source=True)
    db.session.add(survey)
    db.session.flush()
    return survey


def create_template(actor: User, title: str, intro: str = "", anonymous: bool = True) -> Survey:
    """A new, empty template."""
    errors = ErrorCollector()
    title = errors.check(_text, title, "a title", "title", 200)
    intro = errors.check(_text, intro, "the introduction", "intro", 2000, required=False,
                         one_line=False)
    if title:
        errors.check(_check_template_title_free, title)
    errors.raise_any()
    template = Survey(title=title, intro=intro, anonymous=anonymous, is_template=True,
                      created_by_id=actor.id)
    db.session.add(template)
    db.session.flush()
    return template


def _check_template_title_free(title: str, field_name: str = "title",
                               ignore_id: int | None = None) -> None:
    clash = db.session.scalar(select(Survey.id).where(
        Survey.is_template.is_(True), func.lower(Survey.title) == title.lower(),
        Survey.id != (ignore_id or 0)))
    if clash is not None:
        raise DomainError("There is already a template with that name", field_name)


def save_as_template(actor: User, survey: Survey, title: str) -> Survey:
    """A new template with a copy of ``survey``'s questions."""
    title = _text(title, "a name for the template", "title", 200)
    _check_template_title_free(title)
    if not survey.questions:
        raise DomainError("Add at least one question before saving this as a template")
    template = Survey(title=title, intro=survey.intro, anonymous=survey.anonymous,
                      is_template=True, created_by_id=actor.id)
    _copy_questions(survey, template, link_to_source=False)
    db.session.add(template)
    db.session.flush()
    return template


@dataclass
class SurveySettings:
    """A survey's settings as a form gives them; times are UK clock times."""

    title: str | None
    intro: str | None = ""
    anonymous: bool = True
    # A session's id (as text from a form, or a number), or empty for the whole offering.
    session_id: str | int | None = None
    opens_day: date | None = None
    opens_time: time | None = None
    closes_day: date | None = None
    closes_time: time | None = None


def settings_of(survey: Survey) -> SurveySettings:
    """A survey's current settings, in UK clock times (to fill in the form)."""
    opens_day, opens_time = london_day_and_time(survey.opens_at)
    closes_day, closes_time = london_day_and_time(survey.closes_at)
    return SurveySettings(survey.title, survey.intro, survey.anonymous, survey.session_id,
                          opens_day, opens_time, closes_day, closes_time)


def _moment(day: date | None, at: time | None, what: str, prefix: str) -> datetime | None:
    if day is None and at is None:
        return None
    if day is None:
        raise DomainError(f"Enter the date the survey {what}", f"{prefix}_day")
    if at is None:
        raise DomainError(f"Enter the time the survey {what}", f"{prefix}_time")
    return london_to_utc(day, at, f"{prefix}_time")


def change_settings(survey: Survey, settings: SurveySettings) -> None:
    """Title, introduction and anonymity; for a survey also the session it is about and when
    it opens and closes. Anonymity and the session are fixed once the survey has opened or
    anyone has answered; times may move, but a survey closes after it opens."""
    errors = ErrorCollector()
    title = errors.check(_text, settings.title, "a title", "title", 200)
    intro = errors.check(_text, settings.intro, "the introduction", "intro", 2000,
                         required=False, one_line=False)
    if survey.is_template and title:
        errors.check(_check_template_title_free, title, ignore_id=survey.id)
    opens_at = closes_at = session_id = None
    if not survey.is_template:
        session_id = errors.check(_check_session, survey, settings.session_id)
        opens_at = errors.check(_moment, settings.opens_day, settings.opens_time, "opens",
                                "opens")
        closes_at = errors.check(_moment, settings.closes_day, settings.closes_time,
                                 "closes", "closes")
        # A survey is scheduled with both times, or left unscheduled with neither.
        opens_given = settings.opens_day is not None or settings.opens_time is not None
        closes_given = settings.closes_day is not None or settings.closes_time is not None
        if opens_given and not closes_given:
            errors.errors.append(("closes_day", "Enter when the survey closes"))
        elif closes_given and not opens_given:
            errors.errors.append(("opens_day", "Enter when the survey opens"))
        if opens_at and closes_at and closes_at <= opens_at:
            errors.errors.append(("closes_day", "The survey must close after it opens"))
    fixed = not survey.is_template and (
        (survey.opens_at is not None and survey.opens_at <= utcnow()) or _has_activity(survey))
    if fixed and settings.anonymous != survey.anonymous:
        errors.errors.append((
            "anonymous", "This survey has opened, so whether it is anonymous can no longer "
            "change: people have been told"))
    if fixed and session_id != survey.session_id:
        errors.errors.append((
            "session_id", "This survey has opened, so the session it is about can no longer "
            "change"))
    errors.raise_any()
    survey.title, survey.intro, survey.anonymous = title, intro, settings.anonymous
    if not survey.is_template:
        survey.session_id, survey.opens_at, survey.closes_at = session_id, opens_at, closes_at
    db.session.flush()


def _check_session(survey: Survey, session_id: str | int | None) -> int | None:
    if session_id is None or session_id == "":
        return None
    number = int(session_id) if str(session_id).isdigit() else 0
    session = db.session.get(Session, number)
    if session is None or session.offering_id != survey.offering_id:
        raise DomainError("Choose one of this offering's sessions", "session_id")
    return session.id


def may_delete(survey: Survey) -> Decision:
    """Whether a survey or template may be deleted: one nobody has answered, or a template no
    survey was made from (never the standard ones). The survey page offers "Delete" only
    when it may, and otherwise says why; ``delete_survey`` enforces it."""
    if survey.code:
        return Decision(False, "The standard templates cannot be deleted")
    if survey.is_template:
        used = db.session.scalar(select(exists().where(Survey.template_id == survey.id)))
        if used:
            return Decision(False, "Surveys have been made from this template, so it cannot "
                                   "be deleted: their results are compared through it")
    elif _has_activity(survey):
        return Decision(False, "People have answered this survey, so it cannot be deleted")
    return ALLOWED


def delete_survey(survey: Survey) -> None:
    """Delete a survey or template, when ``may_delete`` allows it."""
    may_delete(survey).enforce()
    db.session.delete(survey)
    db.session.flush()


# ---------------------------------------------------------------------------- questions


@dataclass
class QuestionDetails:
    """A question as a form gives it. ``choices`` is one option per line."""

    kind: str | None
    text: str | None
    hint: str | None = ""
    required: bool = True
    choices: str | None = ""


def _check_question(details: QuestionDetails) -> tuple[str, str, str, list[str]]:
    errors = ErrorCollector()
    kind = details.kind if details.kind in set(QuestionKind) else None
    if kind is None:
        errors.errors.append(("kind", "Choose the kind of question"))
    text = errors.check(_text, details.text, "the question", "text", 500)
    hint = errors.check(_text, details.hint, "the hint", "hint", 500, required=False)
    choices: list[str] = []
    if kind in CHOICE_KINDS:
        choices = [" ".join(line.split()) for line in (details.choices or "").splitlines()]
        choices = [c for c in choices if c]
        if len(choices) < 2:
            errors.errors.append(("choices", "Enter at least 2 options, one on each line"))
        elif len(choices) > MAX_CHOICES:
            errors.errors.append(("choices", f"Enter {MAX_CHOICES} options or fewer"))
        elif any(len(c) > 200 for c in choices):
            errors.errors.append(("choices", "Each option must be 200 characters or fewer"))
        elif len({c.lower() for c in choices}) != len(choices):
            errors.errors.append(("choices", "Each option must be different"))
    errors.raise_any()
    return kind, text, hint, choices


def add_question(survey: Survey, details: QuestionDetails) -> SurveyQuestion:
    """Add a question at the end of the survey."""
    _check_editable(survey)
    if len(survey.questions) >= MAX_QUESTIONS:
        raise DomainError(f"A survey can have at most {MAX_QUESTIONS} questions")
    kind, text, hint, choices = _check_question(details)
    position = max((q.position for q in survey.questions), default=0) + 1
    question = SurveyQuestion(position=position, kind=kind, text=text, hint=hint,
                              required=details.required, choices=choices)
    survey.questions.append(question)
    db.session.flush()
    return question


def change_question(question: SurveyQuestion, details: QuestionDetails) -> None:
    """Change a question's wording, kind, options or whether it must be answered."""
    _check_editable(question.survey)
    kind, text, hint, choices = _check_question(details)
    question.kind, question.text, question.hint = kind, text, hint
    question.required, question.choices = details.required, choices
    db.session.flush()


def move_question(question: SurveyQuestion, direction: str) -> None:
    """Swap a question with the one above (``"up"``) or below (``"down"``) it."""
    survey = question.survey
    _check_editable(survey)
    ordered = sorted(survey.questions, key=lambda q: q.position)
    index = ordered.index(question)
    other_index = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other_index < len(ordered):
        raise DomainError("That question cannot move further " + (
            "up" if direction == "up" else "down"))
    other = ordered[other_index]
    mine, theirs = question.position, other.position
    # Positions are unique, so park one question past the end during the swap.
    question.position = ordered[-1].position + 1
    db.session.flush()
    other.position = mine
    db.session.flush()
    question.position = theirs
    db.session.flush()
    survey.questions.sort(key=lambda q: q.position)


def remove_question(question: SurveyQuestion) -> None:
    """Remove a question and close the gap it leaves."""
    survey = question.survey
    _check_editable(survey)
    survey.questions.remove(question)
    db.session.flush()
    for number, remaining in enumerate(sorted(survey.questions, key=lambda q: q.position), 1):
        if remaining.position != number:
            remaining.position = number
            db.session.flush()


# ---------------------------------------------------------------------------- the standard form

NETWORK_EVALUATION = {
    "title": "Network evaluation form",
    "intro": "Your answers help the Midlands Decision Support Network improve its courses "
             "and events. The form takes about five minutes.",
    "questions": [
        (QuestionKind.AGREEMENT, "The session met its stated objectives", "", True, []),
        (QuestionKind.AGREEMENT, "The content was relevant to my role", "", True, []),
        (QuestionKind.AGREEMENT, "The facilitators and speakers were knowledgeable and "
                                 "engaging", "", True, []),
        (QuestionKind.AGREEMENT, "I will use what I learned in my work", "", True, []),
        (QuestionKind.RATING, "How likely are you to recommend this to a colleague?",
         "0 means not at all likely, 10 means extremely likely", True, []),
        (QuestionKind.SINGLE_CHOICE, "How did you take part?", "", False,
         ["Online", "In person", "A recording afterwards"]),
        (QuestionKind.MULTIPLE_CHOICE, "Which parts were most useful?", "Select all that apply",
         False, ["Presentations", "Group discussion", "Practical exercises", "Case studies",
                 "Resources and reading"]),
        (QuestionKind.SHORT_TEXT, "In a few words, what will you take away?", "", False, []),
        (QuestionKind.LONG_TEXT, "What could we do better?", "", False, []),
        (QuestionKind.LONG_TEXT, "Is there anything else you would like to tell us?", "",
         False, []),
    ],
}


def ensure_standard_templates() -> int:
    """Add the standard "Network evaluation form" template if missing (idempotent; safe in
    production). Returns how many templates were added."""
    if db.session.scalar(select(Survey.id).where(Survey.code == STANDARD_TEMPLATE_CODE)):
        return 0
    form = NETWORK_EVALUATION
    template = Survey(title=form["title"], intro=form["intro"], anonymous=True,
                      is_template=True, code=STANDARD_TEMPLATE_CODE)
    for position, (kind, text, hint, required, choices) in enumerate(form["questions"], 1):
        template.questions.append(SurveyQuestion(position=position, kind=kind, text=text,
                                                 hint=hint, required=required,
                                                 choices=list(choices)))
    db.session.add(template)
    db.session.flush()
    return 1
