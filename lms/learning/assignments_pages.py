"""What the project-work pages show: the faculty's board of who has submitted (a fixed number
of queries for any cohort), a learner's list of work, and every submission as one zip
streamed from the store (never held in memory)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from lms.accounts.models import User
from lms.extensions import db
from lms.learning import assignments as work
from lms.learning.assignments_models import (
    Assignment,
    AssignmentExtension,
    GroupMember,
    Outcome,
    ProjectGroup,
    Submission,
)
from lms.learning.groups import cohort_people, groups_of
from lms.learning.storage import CHUNK, storage
from lms.offerings.models import Enrolment, Offering


@dataclass
class Cell:
    """One person's (or group's) line for one assignment on the board."""

    who: str
    people: list[User]
    submission: Submission | None
    deadline: datetime
    extended: bool = False


@dataclass
class AssignmentBoard:
    assignment: Assignment
    cells: list[Cell] = field(default_factory=list)

    @property
    def submitted(self) -> int:
        return sum(1 for c in self.cells if c.submission is not None)

    @property
    def to_mark(self) -> int:
        return sum(1 for c in self.cells if c.submission is not None
                   and c.submission.outcome is None)


def assignments_of(offering_id: int) -> list[Assignment]:
    return list(db.session.scalars(select(Assignment).where(
        Assignment.offering_id == offering_id).order_by(Assignment.due_at, Assignment.id)))


def board(offering: Offering) -> list[AssignmentBoard]:
    """Who has submitted what, for every assignment of the cohort. Eight queries, whatever
    the number of people or assignments."""
    assignments = assignments_of(offering.id)
    if not assignments:
        return []
    people = cohort_people(offering.id)
    groups = groups_of(offering.id)
    ids = [a.id for a in assignments]
    submissions = list(db.session.scalars(select(Submission).where(
        Submission.assignment_id.in_(ids))))
    by_person = {(s.assignment_id, s.user_id): s for s in submissions if s.user_id}
    by_group = {(s.assignment_id, s.group_id): s for s in submissions if s.group_id}
    extensions: dict[tuple[int, int], datetime] = {
        (a, u): due for a, u, due in db.session.execute(select(
            AssignmentExtension.assignment_id, AssignmentExtension.user_id,
            AssignmentExtension.due_at).where(AssignmentExtension.assignment_id.in_(ids)))}
    boards = []
    for assignment in assignments:
        item = AssignmentBoard(assignment)
        if assignment.for_groups:
            for group in groups:
                members = [m.user for m in group.members]
                item.cells.append(_cell(assignment, group.name, members,
                                        by_group.get((assignment.id, group.id)), extensions))
        else:
            for person in people:
                item.cells.append(_cell(assignment, person.full_name, [person],
                                        by_person.get((assignment.id, person.id)),
                                        extensions))
        boards.append(item)
    return boards


def _cell(assignment: Assignment, who: str, people: list[User],
          submission: Submission | None, extensions: dict) -> Cell:
    later = [extensions[(assignment.id, p.id)] for p in people
             if (assignment.id, p.id) in extensions]
    deadline = max([assignment.due_at, *later])
    return Cell(who, people, submission, deadline, extended=bool(later))


@dataclass
class LearnerLine:
    assignment: Assignment
    submission: Submission | None
    deadline: datetime
    may_submit: bool
    reason: str


def learner_lines(user: User, offering: Offering) -> list[LearnerLine]:
    """A learner's assignments on a cohort, with their work and what they may do."""
    lines = []
    for assignment in assignments_of(offering.id):
        submission = work.own_submission(user, assignment)
        allowed, reason = work.may_submit(user, assignment, submission)
        lines.append(LearnerLine(assignment, submission,
                                 work.deadline_for(user.id, assignment, submission),
                                 allowed, reason))
    return lines


def learner_line(user: User, assignment: Assignment, placed: bool | None = None
                 ) -> LearnerLine:
    """A learner's work on one assignment and what they may do; ``placed``: whether they are
    on the cohort, when the caller has asked already. The deadline is read once."""
    submission = work.own_submission(user, assignment)
    deadline = work.deadline_for(user.id, assignment, submission)
    allowed, reason = work.may_submit(user, assignment, submission, placed=placed,
                                      due=deadline)
    return LearnerLine(assignment, submission, deadline, allowed, reason)


# ---------------------------------------------------------------------------- the zip


class _Pipe:
    """A write-only file for ``zipfile`` that hands on what was written: with no ``tell``,
    zipfile writes each entry's sizes after its data, so nothing needs seeking back."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def zip_entries(assignment: Assignment) -> list[tuple[str, str | None, bytes | None]]:
    """What goes in the zip: (name in the zip, storage key, or the bytes of a text answer).
    Loaded before streaming starts, so the stream itself asks the database nothing."""
    subs = list(db.session.scalars(select(Submission).where(
        Submission.assignment_id == assignment.id).order_by(Submission.id)))
    names = {u.id: u.full_name for u in db.session.scalars(select(User).where(
        User.id.in_([s.user_id for s in subs if s.user_id])))}
    groups = {g.id: g.name for g in db.session.scalars(select(ProjectGroup).where(
        ProjectGroup.id.in_([s.group_id for s in subs if s.group_id])))}
    entries: list[tuple[str, str | None, bytes | None]] = []
    for sub in subs:
        owner = names.get(sub.user_id) if sub.user_id else groups.get(sub.group_id)
        folder = _folder(f"{sub.id} {owner or 'unknown'}{' (late)' if sub.late else ''}")
        if sub.text:
            entries.append((f"{folder}/answer.txt", None, sub.text.encode("utf-8")))
        for item in sub.files:
            entries.append((f"{folder}/{item.id}-{item.filename}", item.storage_key, None))
    return entries


def _folder(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in " -_()" else "_" for ch in name).strip()[:100]


def stream_zip(entries: list[tuple[str, str | None, bytes | None]]) -> Iterator[bytes]:
    """The entries as a zip, produced piece by piece: at most one read chunk (and its
    compressed form) is held at a time, whatever the files' sizes."""
    pipe = _Pipe()
    store = storage()
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        for name, key, data in entries:
            with archive.open(name, "w", force_zip64=True) as out:
                if data is not None:
                    out.write(data)
                else:
                    try:
                        source = store.open(key)
                    except OSError:
                        out.write(b"")
                        continue
                    with source:
                        while chunk := source.read(CHUNK):
                            out.write(chunk)
                            if pipe.parts:
                                yield pipe.drain()
            yield pipe.drain()
    yield pipe.drain()


def submission_file(user, submission_id: int, file_id: int):
    """A file of a submission ``user`` may see (404 otherwise)."""
    submission = work.get_submission(user, submission_id)
    for item in submission.files:
        if item.id == file_id:
            return item
    from lms.errors import NotFound

    raise NotFound("No such file")


def learners_on(offering: Offering) -> list[User]:
    """The people an extension can be granted to."""
    return cohort_people(offering.id)


def form_data(assignment: Assignment) -> dict:
    """An assignment's values as its form shows them (London day and time)."""
    from lms.clock import to_london

    due = to_london(assignment.due_at)
    return {"title": assignment.title, "brief": assignment.brief, "due_day": due.date(),
            "due_time": due.time(), "for_groups": assignment.for_groups,
            "counts_to_completion": assignment.counts_to_completion}


# ---------------------------------------------------------------------------- a learner's home


@dataclass(frozen=True)
class Due:
    """Work the person still has to hand in (or hand in again), and by when."""

    assignment_id: int
    title: str
    offering_title: str
    deadline: datetime
    resubmit: bool


def open_assignments_for(user: User, now: datetime, within: timedelta) -> list[Due]:
    """The person's work due in the next ``within`` that they have not handed in (or must
    hand in again after "not yet met"), soonest first: four queries however many places."""
    rows = list(db.session.scalars(
        select(Assignment).join(Enrolment, (Enrolment.offering_id == Assignment.offering_id)
                                & (Enrolment.user_id == user.id))
        .where(Enrolment.state.in_(work.ON_COHORT))
        .options(joinedload(Assignment.offering).options(lazyload(Offering.sessions)))))
    if not rows:
        return []
    groups = dict(db.session.execute(select(GroupMember.offering_id, GroupMember.group_id)
                                     .where(GroupMember.user_id == user.id)).all())
    ids = [a.id for a in rows]
    theirs = (Submission.user_id == user.id) | Submission.group_id.in_(list(groups.values()))
    submitted = {s.assignment_id: s for s in db.session.scalars(select(Submission).where(
        Submission.assignment_id.in_(ids), theirs))}
    members = select(GroupMember.user_id).where(GroupMember.group_id.in_(list(groups.values())))
    extended: dict[int, datetime] = {}
    for assignment_id, due_at in db.session.execute(
            select(AssignmentExtension.assignment_id, AssignmentExtension.due_at).where(
                AssignmentExtension.assignment_id.in_(ids),
                (AssignmentExtension.user_id == user.id)
                | AssignmentExtension.user_id.in_(members))):
        extended[assignment_id] = max(due_at, extended.get(assignment_id, due_at))
    found = []
    for a in rows:
        if a.for_groups and a.offering_id not in groups:
            continue  # not in a group yet: nothing they can hand in
        submission = submitted.get(a.id)
        again = submission is not None and submission.outcome == Outcome.NOT_YET_MET \
            and submission.resubmit_by is not None
        if submission is not None and not again:
            continue
        deadline = submission.resubmit_by if again else max(a.due_at, extended.get(a.id,
                                                                                   a.due_at))
        if now <= deadline <= now + within:
            found.append(Due(a.id, a.title, a.offering.title, deadline, again))
    return sorted(found, key=lambda d: (d.deadline, d.assignment_id))
