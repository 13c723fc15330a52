"""Project groups on a cohort: formed by hand, or spread across ICSs automatically so each
group mixes systems (the network wants cross-system working)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import delete, select

from lms.accounts.models import User
from lms.errors import DomainError, NotAllowed
from lms.extensions import db
from lms.learning.assignments import ON_COHORT
from lms.learning.assignments_models import GroupMember, ProjectGroup, Submission
from lms.offerings.models import Enrolment, Offering
from lms.offerings.policy import can_manage

MAX_GROUPS = 50


def _manage(actor: User, offering: Offering) -> None:
    if not can_manage(actor, offering):
        raise NotAllowed("Only faculty can form groups")


def cohort_people(offering_id: int) -> list[User]:
    """Everyone with a place taken up on the cohort, by name (one query)."""
    return list(db.session.scalars(
        select(User).join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.offering_id == offering_id, Enrolment.state.in_(ON_COHORT))
        .order_by(User.full_name, User.id)))


def groups_of(offering_id: int) -> list[ProjectGroup]:
    """The cohort's groups with their members (two queries)."""
    return list(db.session.scalars(select(ProjectGroup).where(
        ProjectGroup.offering_id == offering_id).order_by(ProjectGroup.name)))


def _locked(offering_id: int) -> bool:
    """Groups that have handed work in are kept as they are."""
    return db.session.scalar(
        select(Submission.id).join(ProjectGroup, Submission.group_id == ProjectGroup.id)
        .where(ProjectGroup.offering_id == offering_id).limit(1)) is not None


def spread_by_ics(people: list[User], count: int) -> list[list[User]]:
    """``people`` dealt into ``count`` groups round-robin, one ICS at a time (largest first),
    so each group mixes systems and group sizes differ by at most one."""
    by_org: dict[int, list[User]] = defaultdict(list)
    for person in people:
        by_org[person.organisation_id].append(person)
    ordered = sorted(by_org.values(), key=lambda members: (-len(members), members[0].id))
    groups: list[list[User]] = [[] for _ in range(count)]
    turn = 0
    for members in ordered:
        for person in members:
            groups[turn % count].append(person)
            turn += 1
    return groups


def form_groups_by_ics(actor: User, offering: Offering, count: int | None) -> list[ProjectGroup]:
    """Replace the cohort's groups with ``count`` new ones spread across ICSs."""
    _manage(actor, offering)
    people = cohort_people(offering.id)
    if not count or count < 1:
        raise DomainError("Enter how many groups to form", "count")
    if count > min(MAX_GROUPS, max(len(people), 1)):
        raise DomainError(f"There are {len(people)} people on the cohort: form at most "
                          f"{min(MAX_GROUPS, len(people))} groups", "count")
    if _locked(offering.id):
        raise DomainError("Groups have handed work in, so they can no longer be re-formed")
    db.session.execute(delete(ProjectGroup).where(ProjectGroup.offering_id == offering.id))
    made = []
    for number, members in enumerate(spread_by_ics(people, count), start=1):
        group = ProjectGroup(offering_id=offering.id, name=f"Group {number}")
        group.members = [GroupMember(user_id=p.id, offering_id=offering.id) for p in members]
        db.session.add(group)
        made.append(group)
    db.session.flush()
    return made


def add_group(actor: User, offering: Offering, name: str | None,
              member_ids: Iterable[int | str]) -> ProjectGroup:
    """A group formed by hand. People already in another group move to this one (unless
    that group has handed work in)."""
    _manage(actor, offering)
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Enter a name for the group", "name")
    if len(name) > 100:
        raise DomainError("The name must be 100 characters or fewer", "name")
    if db.session.scalar(select(ProjectGroup.id).where(
            ProjectGroup.offering_id == offering.id, ProjectGroup.name == name)):
        raise DomainError(f"There is already a group called {name}", "name")
    on_cohort = {p.id for p in cohort_people(offering.id)}
    chosen = {int(i) for i in member_ids or () if str(i).isdigit() and len(str(i)) < 10} \
        & on_cohort
    if not chosen:
        raise DomainError("Choose at least one person on the cohort", "members")
    moving = list(db.session.scalars(select(GroupMember).where(
        GroupMember.offering_id == offering.id, GroupMember.user_id.in_(chosen))))
    if moving and db.session.scalar(select(Submission.id).where(
            Submission.group_id.in_({m.group_id for m in moving})).limit(1)):
        raise DomainError("Someone chosen is in a group that has handed work in", "members")
    for member in moving:
        db.session.delete(member)
    db.session.flush()
    group = ProjectGroup(offering_id=offering.id, name=name)
    group.members = [GroupMember(user_id=i, offering_id=offering.id) for i in sorted(chosen)]
    db.session.add(group)
    db.session.flush()
    return group
