"""Project work: faculty set assignments on a cohort; learners (or their group) submit text
and files before the deadline or their extension, replacing it until it is marked; faculty
return feedback and an outcome, one by one or in bulk. A "met" outcome records competency
evidence and may complete the course (``met_everything`` is the completion rule's question).

Services validate, raise domain errors and flush; views and jobs commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from lms.accounts.models import User
from lms.clock import LONDON, date_text, utcnow, when_text
from lms.errors import DomainError, ErrorCollector, InvalidInput, NotAllowed, NotFound
from lms.extensions import db
from lms.learning.assignments_models import (
    Assignment,
    AssignmentCompetency,
    AssignmentExtension,
    GroupMember,
    Outcome,
    Submission,
    SubmissionFile,
)
from lms.learning.storage import (
    check_upload,
    discard_after_commit,
    max_upload_bytes,
    safe_filename,
    store_upload,
)
from lms.notifications.services import link, queue_email
from lms.offerings.models import Enrolment, EnrolmentState, Offering
from lms.offerings.policy import can_manage

# People who are on the cohort for project work: a place taken up (or completed).
ON_COHORT = (EnrolmentState.ENROLLED, EnrolmentState.COMPLETED)
# Kinds as lms.learning.storage names them (a .txt or .md file is "text", .py "python").
SUBMISSION_KINDS = frozenset({"pdf", "docx", "xlsx", "pptx", "csv", "text", "r", "python",
                              "zip", "png", "jpeg"})
MAX_FILES = 5
TITLE_LIMIT = 200
TEXT_LIMIT = 50_000
DEFAULT_DUE_TIME = time(17, 0)


# ---------------------------------------------------------------------------- who may


def on_cohort(user, offering_id: int) -> bool:
    """Whether ``user`` holds a place taken up on the offering."""
    if not user.is_authenticated:
        return False
    return db.session.scalar(select(Enrolment.id).where(
        Enrolment.offering_id == offering_id, Enrolment.user_id == user.id,
        Enrolment.state.in_(ON_COHORT))) is not None


def may_see(user, assignment: Assignment) -> bool:
    """Faculty, and people on the cohort, see an assignment."""
    return can_manage(user, assignment.offering) or on_cohort(user, assignment.offering_id)


def get_assignment(user, assignment_id: int) -> Assignment:
    """An assignment ``user`` may see (404 otherwise)."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or not may_see(user, assignment):
        raise NotFound("No such assignment")
    return assignment


def managed_assignment(user, assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("No such assignment")
    if not can_manage(user, assignment.offering):
        raise NotAllowed("Only faculty can manage assignments")
    return assignment


def group_of(user_id: int, offering_id: int) -> int | None:
    """The id of the person's project group on the cohort, if they are in one."""
    return db.session.scalar(select(GroupMember.group_id).where(
        GroupMember.user_id == user_id, GroupMember.offering_id == offering_id))


def own_submission(user, assignment: Assignment) -> Submission | None:
    """The submission ``user`` sees as theirs: their own, or their group's."""
    if assignment.for_groups:
        group_id = group_of(user.id, assignment.offering_id)
        if group_id is None:
            return None
        where = Submission.group_id == group_id
    else:
        where = Submission.user_id == user.id
    return db.session.scalar(select(Submission).where(
        Submission.assignment_id == assignment.id, where))


def get_submission(user, submission_id: int) -> Submission:
    """A submission: faculty see any; a learner only their own or their group's (404 for
    anyone else's, including another group's)."""
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        raise NotFound("No such submission")
    if can_manage(user, submission.assignment.offering):
        return submission
    if not user.is_authenticated:
        raise NotFound("No such submission")
    if submission.user_id == user.id:
        return submission
    if submission.group_id is not None and submission.group_id == group_of(
            user.id, submission.assignment.offering_id):
        return submission
    raise NotFound("No such submission")


# ---------------------------------------------------------------------------- setting work


@dataclass
class AssignmentDetails:
    title: str | None = ""
    brief: str | None = ""
    due_day: date | None = None
    due_time: time | None = None
    for_groups: bool = False
    counts_to_completion: bool = False
    # Competency id -> level (1-4); an empty level leaves the competency out.
    competencies: dict[int, int | str | None] = field(default_factory=dict)


def london_moment(day: date, at: time) -> datetime:
    """A London wall-clock day and time, in UTC."""
    return datetime.combine(day, at).replace(tzinfo=LONDON).astimezone(UTC)


def _checked(details: AssignmentDetails) -> tuple[str, str, datetime, dict[int, int]]:
    from lms.competencies.services import get_competency, parse_level

    errors = ErrorCollector()
    title = " ".join((details.title or "").split())
    if not title:
        errors.errors.append(("title", "Enter a title"))
    elif len(title) > TITLE_LIMIT:
        errors.errors.append(("title", f"The title must be {TITLE_LIMIT} characters or fewer"))
    brief = (details.brief or "").strip()
    if not brief:
        errors.errors.append(("brief", "Enter the brief: what learners are asked to do"))
    elif len(brief) > TEXT_LIMIT:
        errors.errors.append(("brief", f"The brief must be {TEXT_LIMIT:,} characters or fewer"))
    due = None
    if details.due_day is None:
        errors.errors.append(("due_day", "Enter the date it is due, like 29/3/2027"))
    else:
        due = london_moment(details.due_day, details.due_time or DEFAULT_DUE_TIME)
    levels: dict[int, int] = {}
    for competency_id, raw in details.competencies.items():
        if raw in (None, "", 0, "0"):
            continue
        competency = errors.check(get_competency, competency_id)
        level = errors.check(parse_level, raw, "competencies")
        if competency is not None and level is not None:
            if competency.is_retired:
                errors.errors.append(("competencies", f"{competency.name} is retired"))
            levels[competency.id] = level
    errors.raise_any()
    return title, brief, due, levels


def _set_levels(assignment: Assignment, levels: dict[int, int]) -> None:
    assignment.competency_rows = [
        AssignmentCompetency(competency_id=cid, level=level) for cid, level in levels.items()]


def set_assignment(actor: User, offering: Offering, details: AssignmentDetails) -> Assignment:
    """Set a new assignment on a cohort."""
    if not can_manage(actor, offering):
        raise NotAllowed("Only faculty can set assignments")
    title, brief, due, levels = _checked(details)
    assignment = Assignment(offering_id=offering.id, title=title, brief=brief, due_at=due,
                            for_groups=bool(details.for_groups),
                            counts_to_completion=bool(details.counts_to_completion))
    db.session.add(assignment)
    _set_levels(assignment, levels)
    db.session.flush()
    return assignment


def update_assignment(actor: User, assignment: Assignment, details: AssignmentDetails) -> None:
    """Change an assignment. Whether it is for groups is fixed once work has come in."""
    if not can_manage(actor, assignment.offering):
        raise NotAllowed("Only faculty can change assignments")
    title, brief, due, levels = _checked(details)
    has_work = db.session.scalar(select(Submission.id).where(
        Submission.assignment_id == assignment.id).limit(1)) is not None
    if has_work and bool(details.for_groups) != assignment.for_groups:
        raise DomainError("Work has been submitted, so it can no longer change between "
                          "individual and group work", "for_groups")
    assignment.title, assignment.brief, assignment.due_at = title, brief, due
    assignment.counts_to_completion = bool(details.counts_to_completion)
    assignment.for_groups = bool(details.for_groups)
    _set_levels(assignment, levels)
    db.session.flush()


def grant_extension(actor: User, assignment: Assignment, person_id: int | str | None,
                    day: date | None, at: time | None = None) -> AssignmentExtension:
    """A later deadline for one person on the cohort (replacing any earlier extension)."""
    if not can_manage(actor, assignment.offering):
        raise NotAllowed("Only faculty can grant extensions")
    errors = ErrorCollector()
    raw = str(person_id or "")
    person = db.session.get(User, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if person is None or not on_cohort(person, assignment.offering_id):
        errors.errors.append(("person", "Choose someone on this cohort"))
    if day is None:
        errors.errors.append(("due_day", "Enter the new date it is due, like 29/3/2027"))
    errors.raise_any()
    due = london_moment(day, at or DEFAULT_DUE_TIME)
    if due <= assignment.due_at:
        raise DomainError(f"An extension must be after the deadline, "
                          f"{when_text(assignment.due_at)}", "due_day")
    row = db.session.get(AssignmentExtension, (assignment.id, person.id))
    if row is None:
        row = AssignmentExtension(assignment_id=assignment.id, user_id=person.id, due_at=due)
        db.session.add(row)
    row.due_at, row.granted_by_id, row.granted_at = due, actor.id, utcnow()
    db.session.flush()
    return row


def deadline_for(user_id: int, assignment: Assignment,
                 submission: Submission | None = None) -> datetime:
    """When the person's (or their group's) work is due: the resubmission date after "not
    yet met", else their extension, else the assignment's deadline."""
    if submission is not None and submission.outcome == Outcome.NOT_YET_MET \
            and submission.resubmit_by is not None:
        return submission.resubmit_by
    members = [user_id]
    if assignment.for_groups:
        group_id = group_of(user_id, assignment.offering_id)
        if group_id is not None:
            members = list(db.session.scalars(select(GroupMember.user_id).where(
                GroupMember.group_id == group_id)))
    extended = db.session.scalars(select(AssignmentExtension.due_at).where(
        AssignmentExtension.assignment_id == assignment.id,
        AssignmentExtension.user_id.in_(members)))
    return max([assignment.due_at, *extended])


# ---------------------------------------------------------------------------- submitting


def may_submit(user, assignment: Assignment, submission: Submission | None,
               now: datetime | None = None, *, placed: bool | None = None,
               due: datetime | None = None) -> tuple[bool, str]:
    """Whether ``user`` may (re)submit now, and why not (shown where the form would be).
    ``placed`` (``on_cohort``) and ``due`` (``deadline_for``): when the caller knows them
    already, so a page asks neither twice."""
    now = now or utcnow()
    if not (on_cohort(user, assignment.offering_id) if placed is None else placed):
        return False, "Only people with a place on this cohort can submit work"
    if assignment.for_groups and group_of(user.id, assignment.offering_id) is None:
        return False, "This is group work and you are not in a group yet. Ask the faculty."
    if submission is not None and submission.outcome == Outcome.MET:
        return False, "Your work has been marked as met, so it can no longer be replaced"
    due = due or deadline_for(user.id, assignment, submission)
    if now > due:
        return False, (f"The deadline was {when_text(due)}. Ask the faculty for an "
                       "extension if you need more time.")
    return True, ""


def _uploads(files: Iterable[FileStorage]) -> list[tuple[FileStorage, str]]:
    chosen = [f for f in files if f and f.filename]
    if len(chosen) > MAX_FILES:
        raise DomainError(f"Attach at most {MAX_FILES} files", "files")
    errors = ErrorCollector()
    checked = []
    for upload in chosen:
        kind = errors.check(check_upload, upload.filename, upload.stream, SUBMISSION_KINDS,
                            max_upload_bytes(), "files")
        if kind is not None:
            checked.append((upload, kind[1]))  # (kind, content type)
    errors.raise_any()
    return checked


def submit(user: User, assignment: Assignment, text: str | None,
           files: Iterable[FileStorage] = (), now: datetime | None = None) -> Submission:
    """Submit (or replace) work: text and/or files. Files are checked before anything is
    stored; if the store fails, what was stored is removed and nothing is saved."""
    now = now or utcnow()
    submission = own_submission(user, assignment)
    allowed, reason = may_submit(user, assignment, submission, now)
    if not allowed:
        raise DomainError(reason)
    text = (text or "").strip()
    if len(text) > TEXT_LIMIT:
        raise DomainError(f"Your text must be {TEXT_LIMIT:,} characters or fewer", "text")
    uploads = _uploads(files)
    if not text and not uploads:
        raise InvalidInput([("text", "Write your work here, or attach a file"),
                            ("files", "Attach a file, or write your work in the box")])
    stored: list[SubmissionFile] = []
    for upload, content_type in uploads:  # each file is deleted again unless this commits
        key, size = store_upload(f"submissions/{assignment.id}", upload.stream, content_type)
        stored.append(SubmissionFile(filename=safe_filename(upload.filename),
                                     content_type=content_type, size=size, storage_key=key))
    if submission is None:
        submission = Submission(assignment_id=assignment.id)
        if assignment.for_groups:
            submission.group_id = group_of(user.id, assignment.offering_id)
        else:
            submission.user_id = user.id
        db.session.add(submission)
    old_keys = [f.storage_key for f in submission.files]
    submission.files = stored
    submission.text, submission.submitted_by_id, submission.submitted_at = text, user.id, now
    submission.late = now > assignment.due_at
    submission.outcome = submission.resubmit_by = submission.marked_at = None
    db.session.flush()
    for key in old_keys:  # kept until the replacement commits
        discard_after_commit(key)
    return submission


# ---------------------------------------------------------------------------- marking


def members_of(submission: Submission) -> list[User]:
    """Whose work it is: the person, or every member of the group."""
    if submission.group_id is None:
        return [db.session.get(User, submission.user_id)]
    return [m.user for m in submission.group.members]


def mark(actor: User, submissions: list[Submission], outcome: str | None, feedback: str | None,
         resubmit_day: date | None = None) -> int:
    """Return written feedback and an outcome on one or several submissions (bulk: the same
    words and outcome for each). "Met" records evidence at each mapped competency's level and
    may complete the course; "not yet met" needs a date to resubmit by. Everyone whose work
    it is gets an email. Returns how many were marked."""
    from lms.competencies.services import rate

    if not submissions:
        raise DomainError("Choose at least one submission", "submissions")
    for submission in submissions:
        if not can_manage(actor, submission.assignment.offering):
            raise NotAllowed("Only faculty can mark work")
    errors = ErrorCollector()
    if outcome not in (Outcome.MET, Outcome.NOT_YET_MET):
        errors.errors.append(("outcome", "Choose met or not yet met"))
    words = (feedback or "").strip()
    if not words:
        errors.errors.append(("feedback", "Write your feedback"))
    elif len(words) > TEXT_LIMIT:
        errors.errors.append(("feedback", f"Feedback must be {TEXT_LIMIT:,} characters or fewer"))
    resubmit_by = None
    if outcome == Outcome.NOT_YET_MET:
        if resubmit_day is None:
            errors.errors.append(("resubmit_day", "Enter the date to resubmit by"))
        else:
            resubmit_by = london_moment(resubmit_day, DEFAULT_DUE_TIME)
            if resubmit_by <= utcnow():
                errors.errors.append(("resubmit_day", "The date to resubmit by must be in "
                                                      "the future"))
    errors.raise_any()
    offerings: dict[int, Offering] = {}
    now = utcnow()
    for submission in submissions:
        if submission.outcome == Outcome.MET:
            raise DomainError(f"Work for {submission.assignment.title} is already marked as "
                              "met", "submissions")
        assignment = submission.assignment
        submission.outcome, submission.feedback = outcome, words
        submission.resubmit_by, submission.marked_by_id, submission.marked_at = (
            resubmit_by, actor.id, now)
        people = members_of(submission)
        for person in people:
            if outcome == Outcome.MET:
                for row in assignment.competency_rows:
                    rate(actor, person, row.competency_id, row.level,
                         f"Assignment met: {assignment.title}")
            queue_email(person.email, f"Feedback on {assignment.title}",
                        "learning/feedback_returned", flush=False, person=person,
                        assignment=assignment, outcome_label=submission.outcome_label,
                        resubmit_by=date_text(resubmit_by) if resubmit_by else None,
                        url=link("assignments.assignment", id=assignment.id))
        if assignment.counts_to_completion and outcome == Outcome.MET:
            offerings[assignment.offering_id] = assignment.offering
    db.session.flush()
    if offerings:
        from lms.attendance.completion import refresh_completion

        for offering in offerings.values():
            refresh_completion(offering)
    return len(submissions)


def submissions_to_mark(actor: User, offering: Offering, ids: Iterable[int | str]
                        ) -> list[Submission]:
    """The chosen submissions of the cohort's assignments (others are ignored)."""
    if not can_manage(actor, offering):
        raise NotAllowed("Only faculty can mark work")
    wanted = {int(i) for i in ids or () if str(i).isdigit() and len(str(i)) < 10}
    if not wanted:
        return []
    return list(db.session.scalars(
        select(Submission).join(Assignment, Submission.assignment_id == Assignment.id)
        .where(Submission.id.in_(wanted), Assignment.offering_id == offering.id)
        .order_by(Submission.id)))


# ---------------------------------------------------------------------------- completion


def met_everything(places: Iterable[tuple[int, int]]
                   ) -> tuple[set[int], set[tuple[int, int]]]:
    """The completion rule's question for (offering, person) places on any number of
    offerings: which offerings have assignments that count towards completion, and which
    places have met every one of their offering's (their own work or their group's)? Three
    queries, however many people and offerings."""
    places = set(places)
    counting: dict[int, set[int]] = {}
    for assignment_id, offering_id in db.session.execute(
            select(Assignment.id, Assignment.offering_id).where(
                Assignment.offering_id.in_({o for o, _ in places}),
                Assignment.counts_to_completion.is_(True))):
        counting.setdefault(offering_id, set()).add(assignment_id)
    if not counting:
        return set(), set()
    places = {(o, u) for o, u in places if o in counting}
    # (A Result has .keys(), so dict() would read it as a mapping: list it first.)
    groups = {(o, u): g for o, u, g in list(db.session.execute(
        select(GroupMember.offering_id, GroupMember.user_id, GroupMember.group_id).where(
            GroupMember.offering_id.in_(counting),
            GroupMember.user_id.in_({u for _, u in places}))))}
    met: dict[int, set[int]] = {}
    by_group: dict[int, set[int]] = {}
    for assignment_id, user_id, group_id in db.session.execute(
            select(Submission.assignment_id, Submission.user_id, Submission.group_id).where(
                Submission.assignment_id.in_(set().union(*counting.values())),
                Submission.outcome == Outcome.MET)):
        if user_id is not None:
            met.setdefault(user_id, set()).add(assignment_id)
        else:
            by_group.setdefault(group_id, set()).add(assignment_id)
    done = {(o, u) for o, u in places
            if counting[o] <= met.get(u, set()) | by_group.get(groups.get((o, u)), set())}
    return set(counting), done

