"""The rules of the competency framework, course mapping and evidence.

Services validate, raise domain errors and flush; views commit once.

**The derived level.** A person's current level on a competency is the highest level in
their course-completion evidence and faculty ratings (``derive_level``). Self-assessments
never raise it: they are shown beside it, the latest one counting. Nothing stores the current
level; the learning record derives it from the evidence rows in Python, and the dashboards
derive it in SQL with ``current_levels_select``, which is the same rule as a ``MAX ... GROUP
BY``. A test holds the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import defaultload

from lms.accounts.models import User
from lms.attendance.models import Completion
from lms.clock import utcnow
from lms.competencies.framework import COURSE_MAPPINGS, FRAMEWORK, Seed
from lms.competencies.models import (
    LEVEL_LABELS,
    Competency,
    CompetencyEvidence,
    CourseCompetency,
    EvidenceSource,
    Level,
)
from lms.courses.models import Course, Strand
from lms.errors import DomainError, ErrorCollector, NotAllowed, NotFound
from lms.extensions import db

NAME_LIMIT = 120
DESCRIPTION_LIMIT = 2000
BEHAVIOURS_LIMIT = 2000
NOTE_LIMIT = 2000
LEVEL_MESSAGE = "Choose a level: Aware, Working, Practitioner or Expert"
# Evidence that counts towards the current level; self-assessments are shown separately.
COUNTED_SOURCES = (EvidenceSource.COURSE, EvidenceSource.FACULTY)


class CompetencyRetired(DomainError):
    """Evidence or a course mapping for a competency that has been retired."""


# ---------------------------------------------------------------------------- permissions


def can_manage_framework(user) -> bool:
    """Faculty and admins edit the framework and the courses' mappings."""
    return bool(user.is_authenticated and (user.is_faculty or user.is_admin))


def can_rate(user) -> bool:
    """Faculty and admins rate people on competencies."""
    return can_manage_framework(user)


# ---------------------------------------------------------------------------- the scale


def parse_level(raw: int | str | None, field: str = "level") -> int:
    """A level on the scale (1 Aware … 4 Expert), or ``DomainError`` on ``field``."""
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise DomainError(LEVEL_MESSAGE, field) from None
    if value not in {level.value for level in Level}:
        raise DomainError(LEVEL_MESSAGE, field)
    return value


def level_label(level: int | None) -> str:
    """"Practitioner" for 3; "Not yet" for no level."""
    return LEVEL_LABELS[Level(level)] if level else "Not yet"


def derive_level(evidence: Iterable[tuple[str, int]]) -> int | None:
    """The current level from (source, level) pairs: the highest level from course
    completions and faculty ratings; self-assessments do not count. None if there is none."""
    counted = [level for source, level in evidence if source in COUNTED_SOURCES]
    return max(counted) if counted else None


def current_levels_select() -> Select:
    """``(user_id, competency_id, level)`` for every person with counted evidence: the rule of
    ``derive_level`` in SQL, for dashboards to join or filter."""
    return (
        select(CompetencyEvidence.user_id, CompetencyEvidence.competency_id,
               func.max(CompetencyEvidence.level).label("level"))
        .where(CompetencyEvidence.source.in_(COUNTED_SOURCES))
        .group_by(CompetencyEvidence.user_id, CompetencyEvidence.competency_id)
    )


# ---------------------------------------------------------------------------- the framework


def _domain_order():
    return {strand.value: index for index, strand in enumerate(Strand)}


def active_competencies() -> list[Competency]:
    """Competencies not retired, by domain then name."""
    order = _domain_order()
    found = db.session.scalars(select(Competency).where(Competency.retired_at.is_(None))
                               .order_by(Competency.name)).all()
    return sorted(found, key=lambda c: order[c.domain])


def get_competency(competency_id: int) -> Competency:
    """A competency, retired or not, or ``NotFound``."""
    competency = db.session.get(Competency, competency_id)
    if competency is None:
        raise NotFound("No such competency")
    return competency


@dataclass
class CompetencyDetails:
    """A competency as the form gives it."""

    name: str | None = ""
    domain: str | None = ""
    description: str | None = ""
    aware: str | None = ""
    working: str | None = ""
    practitioner: str | None = ""
    expert: str | None = ""


def details_of(competency: Competency) -> CompetencyDetails:
    """The form's starting values for a competency."""
    return CompetencyDetails(
        competency.name, competency.domain, competency.description,
        competency.behaviours_aware, competency.behaviours_working,
        competency.behaviours_practitioner, competency.behaviours_expert,
    )


def _text(raw: str | None, field: str, label: str, limit: int) -> str:
    text = "\n".join(" ".join(line.split()) for line in (raw or "").strip().splitlines())
    if not text:
        raise DomainError(f"Enter {label}", field)
    if len(text) > limit:
        raise DomainError(f"{label[0].upper()}{label[1:]} must be {limit:,} characters or "
                          f"fewer", field)
    return text


def _name(raw: str | None, competency: Competency | None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise DomainError("Enter the competency's name", "name")
    if len(name) > NAME_LIMIT:
        raise DomainError(f"The name must be {NAME_LIMIT} characters or fewer", "name")
    clash = db.session.scalar(select(Competency.id).where(
        func.lower(Competency.name) == name.lower()))
    if clash is not None and (competency is None or clash != competency.id):
        raise DomainError("There is already a competency with this name", "name")
    return name


def _domain(raw: str | None) -> str:
    if raw not in {s.value for s in Strand}:
        raise DomainError("Choose the strand this competency belongs to", "domain")
    return raw


def _checked(details: CompetencyDetails, competency: Competency | None) -> dict:
    errors = ErrorCollector()
    values = {
        "name": errors.check(_name, details.name, competency),
        "domain": errors.check(_domain, details.domain),
        "description": errors.check(_text, details.description, "description",
                                    "a description", DESCRIPTION_LIMIT),
    }
    for level in Level:
        key = level.name.lower()
        values[f"behaviours_{key}"] = errors.check(
            _text, getattr(details, key), key,
            f"what a person at {LEVEL_LABELS[level]} level does", BEHAVIOURS_LIMIT)
    errors.raise_any()
    return values


def create_competency(details: CompetencyDetails) -> Competency:
    """Add a competency to the framework."""
    competency = Competency(**_checked(details, None))
    db.session.add(competency)
    db.session.flush()
    return competency


def update_competency(competency: Competency, details: CompetencyDetails) -> None:
    """Change a competency's name, strand, description or behaviours. Evidence already
    recorded keeps pointing at it."""
    for key, value in _checked(details, competency).items():
        setattr(competency, key, value)
    competency.updated_at = utcnow()
    db.session.flush()


def in_use(competency: Competency) -> bool:
    """Whether any course builds it or anyone has evidence of it."""
    return bool(db.session.scalar(select(
        exists().where(CourseCompetency.competency_id == competency.id)
        | exists().where(CompetencyEvidence.competency_id == competency.id)
    )))


def retire_competency(competency: Competency) -> None:
    """Take a competency out of use: no new evidence or course mappings; its evidence stays."""
    if competency.retired_at is None:
        competency.retired_at = utcnow()
        db.session.flush()


def restore_competency(competency: Competency) -> None:
    """Bring a retired competency back into use."""
    competency.retired_at = None
    db.session.flush()


def delete_competency(competency: Competency) -> None:
    """Delete a competency nothing uses yet (a mistake); one in use can only be retired."""
    if in_use(competency):
        raise DomainError(f"{competency.name} is in use by a course or in people's records, "
                          "so it cannot be deleted. Retire it instead")
    db.session.delete(competency)
    db.session.flush()


def ensure_framework(seeds: list[Seed] | None = None) -> int:
    """Add the seeded competencies whose code is missing (idempotent; keeps edits). Returns
    how many were added."""
    seeds = FRAMEWORK if seeds is None else seeds
    have = set(db.session.scalars(select(Competency.code).where(Competency.code.is_not(None))))
    names = {n.lower() for n in db.session.scalars(select(Competency.name))}
    added = 0
    for seed in seeds:
        if seed.code in have or seed.name.lower() in names:
            continue
        db.session.add(Competency(
            code=seed.code, name=seed.name, domain=seed.domain.value,
            description=seed.description, behaviours_aware=seed.aware,
            behaviours_working=seed.working, behaviours_practitioner=seed.practitioner,
            behaviours_expert=seed.expert,
        ))
        added += 1
    db.session.flush()
    return added


# ---------------------------------------------------------------------------- course mapping


def course_levels(course_id: int) -> dict[int, int]:
    """The competencies a course builds, as competency id -> level."""
    return dict(db.session.execute(
        select(CourseCompetency.competency_id, CourseCompetency.level)
        .where(CourseCompetency.course_id == course_id)).tuples().all())


def course_mapping(course_id: int) -> list[CourseCompetency]:
    """What a course builds, by competency name."""
    return list(db.session.scalars(
        select(CourseCompetency).join(CourseCompetency.competency)
        .where(CourseCompetency.course_id == course_id).order_by(Competency.name)))


def set_course_levels(course: Course, levels: dict[int, int | str | None]) -> None:
    """Say which competencies a course builds and to what level: ``levels`` maps competency
    ids to a level, or to None/"" for "does not build it". Competencies not in ``levels`` are
    left as they are. All or nothing; ``Course.competency_ids`` is kept in step."""
    errors = ErrorCollector()
    wanted: dict[int, int | None] = {}
    competencies = {c.id: c for c in db.session.scalars(
        select(Competency).where(Competency.id.in_(list(levels))))} if levels else {}
    current = {row.competency_id: row for row in db.session.scalars(
        select(CourseCompetency).where(CourseCompetency.course_id == course.id))}
    for competency_id, raw in levels.items():
        field = f"level_{competency_id}"
        competency = competencies.get(competency_id)
        if competency is None:
            raise NotFound("No such competency")
        if raw in (None, "", 0, "0"):
            wanted[competency_id] = None
            continue
        level = errors.check(parse_level, raw, field)
        if level is None:
            continue
        existing = current.get(competency_id)
        if competency.is_retired and (existing is None or existing.level != level):
            errors.errors.append((field, f"{competency.name} is retired, so courses can no "
                                         "longer be mapped to it"))
            continue
        wanted[competency_id] = level
    errors.raise_any()
    for competency_id, level in wanted.items():
        row = current.get(competency_id)
        if level is None and row is not None:
            db.session.delete(row)
            del current[competency_id]
        elif level is not None and row is None:
            current[competency_id] = CourseCompetency(course_id=course.id,
                                                      competency_id=competency_id, level=level)
            db.session.add(current[competency_id])
        elif level is not None:
            row.level = level
    course.competency_ids = sorted(current)
    db.session.flush()


def courses_building(competency_id: int) -> list[tuple[Course, int]]:
    """The courses that build a competency, with the level, by title."""
    return [(course, level) for course, level in db.session.execute(
        select(Course, CourseCompetency.level)
        .join(CourseCompetency, CourseCompetency.course_id == Course.id)
        .where(CourseCompetency.competency_id == competency_id).order_by(Course.title))]


# ---------------------------------------------------------------------------- evidence


def record_course_evidence(completion: Completion) -> list[CompetencyEvidence]:
    """The completion hook: evidence at the course's level for each competency the course
    builds (retired ones excepted), once per completion and competency."""
    enrolment = completion.enrolment
    offering = enrolment.offering
    course_id = getattr(offering, "course_id", None)
    if course_id is None:
        return []
    mapped = db.session.execute(
        select(CourseCompetency.competency_id, CourseCompetency.level)
        .join(Competency, Competency.id == CourseCompetency.competency_id)
        .where(CourseCompetency.course_id == course_id, Competency.retired_at.is_(None))
    ).tuples().all()
    if not mapped:
        return []
    done = set(db.session.scalars(select(CompetencyEvidence.competency_id).where(
        CompetencyEvidence.completion_id == completion.id)))
    when = completion.completed_at or utcnow()
    added = [
        CompetencyEvidence(user_id=enrolment.user_id, competency_id=competency_id, level=level,
                           source=EvidenceSource.COURSE, completion_id=completion.id,
                           course_id=course_id, note=f"Completed {offering.title}",
                           recorded_at=when)
        for competency_id, level in mapped if competency_id not in done
    ]
    db.session.add_all(added)
    db.session.flush()
    return added


def record_missing_course_evidence() -> int:
    """Add course evidence for completions that have none yet (for data that existed before
    a course was mapped, or the demo). Returns how many evidence rows were added."""
    with_evidence = select(CompetencyEvidence.completion_id).where(
        CompetencyEvidence.completion_id.is_not(None))
    completions = db.session.scalars(
        select(Completion).where(Completion.id.not_in(with_evidence)).order_by(Completion.id))
    return sum(len(record_course_evidence(c)) for c in completions)


def _evidence_competency(raw_id: int | str | None) -> Competency:
    try:
        competency_id = int(str(raw_id))
    except (TypeError, ValueError):
        raise DomainError("Choose a competency", "competency") from None
    competency = db.session.get(Competency, competency_id)
    if competency is None:
        raise DomainError("Choose a competency", "competency")
    if competency.is_retired:
        raise CompetencyRetired(f"{competency.name} has been retired, so evidence can no "
                                "longer be recorded for it", "competency")
    return competency


def _note(raw: str | None, missing: str) -> str:
    note = (raw or "").strip()
    if not note:
        raise DomainError(missing, "note")
    if len(note) > NOTE_LIMIT:
        raise DomainError(f"The note must be {NOTE_LIMIT:,} characters or fewer", "note")
    return note


def _evidence(person: User, source: EvidenceSource, actor: User, competency_id, level,
              note, missing_note: str) -> CompetencyEvidence:
    errors = ErrorCollector()
    competency = errors.check(_evidence_competency, competency_id)
    value = errors.check(parse_level, level)
    text = errors.check(_note, note, missing_note)
    errors.raise_any()
    row = CompetencyEvidence(user_id=person.id, competency_id=competency.id, level=value,
                             source=source, note=text, recorded_by_id=actor.id,
                             recorded_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def rate(actor: User, person: User, competency_id: int | str | None, level: int | str | None,
         note: str | None) -> CompetencyEvidence:
    """A faculty member's rating of a person on a competency, with the reason."""
    if not can_rate(actor):
        raise NotAllowed("Only faculty can rate people on competencies")
    if actor.id == person.id:
        raise DomainError("You cannot rate yourself. Add a self-assessment from your "
                          "learning record instead")
    return _evidence(person, EvidenceSource.FACULTY, actor, competency_id, level, note,
                     "Say why you give this rating")


def self_assess(person: User, competency_id: int | str | None, level: int | str | None,
                note: str | None) -> CompetencyEvidence:
    """A person's own assessment of their level, with what shows it. It is shown beside the
    derived level and never raises it."""
    return _evidence(person, EvidenceSource.SELF, person, competency_id, level, note,
                     "Say what you have done that shows this level")


def evidence_of(user_id: int) -> list[CompetencyEvidence]:
    """Everything recorded about a person's competencies, newest first. One query: the
    recorders are joined for their names, without their roles (a selectin of roles ran only
    when someone other than the viewer had recorded evidence, so the count followed the data)."""
    return list(db.session.scalars(
        select(CompetencyEvidence)
        .options(defaultload(CompetencyEvidence.recorded_by).lazyload(User.role_rows))
        .where(CompetencyEvidence.user_id == user_id)
        .order_by(CompetencyEvidence.recorded_at.desc(), CompetencyEvidence.id.desc())))


def current_levels(user_id: int) -> dict[int, int]:
    """One person's derived level per competency (from SQL; the same rule as
    ``derive_level``)."""
    stmt = current_levels_select().where(CompetencyEvidence.user_id == user_id)
    return {competency_id: level for _, competency_id, level in db.session.execute(stmt)}


# ---------------------------------------------------------------------------- demo mappings


def map_courses_by_title(mappings: dict[str, list[tuple[str, int]]] | None = None) -> int:
    """Map courses found by title to competencies found by code, adding only missing pairs
    (idempotent; titles or codes not found are skipped). Returns how many were added."""
    mappings = COURSE_MAPPINGS if mappings is None else mappings
    courses = {c.title: c for c in db.session.scalars(
        select(Course).where(Course.title.in_(list(mappings))))}
    codes = {c.code: c for c in db.session.scalars(
        select(Competency).where(Competency.code.is_not(None)))}
    added = 0
    for title, pairs in mappings.items():
        course = courses.get(title)
        if course is None:
            continue
        have = course_levels(course.id)
        levels: dict[int, int | str | None] = {}
        for code, level in pairs:
            competency = codes.get(code)
            if competency is None or competency.id in have or competency.is_retired:
                continue
            levels[competency.id] = level
        if levels:
            set_course_levels(course, levels)
            added += len(levels)
    return added
