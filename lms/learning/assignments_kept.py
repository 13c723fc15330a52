"""An assignment's page as kept in the page cache (``lms.cache``): per assignment and
viewer (their roles decide whether they manage it), under the cohort's version (the
assignment, the places on it) and the viewer's (their work, its marking, their extension,
their group), and on group work each member's too (an extension for one of them moves the
group's deadline), until the deadline passes (the form gives way to the reason why). The
answer "no such assignment" is kept the same way; the form's CSRF token is filled in per
request.

Which cohort an assignment is on, and whether it is group work, is kept too, under the
assignment's own version (``assignment:<id>``, renewed by any change to the row), and the
page's address declares what it reads (``address_reads``): that version and, once this process
has seen the assignment, its cohort's. So a learner's request reads every version it needs
(their account's, their own, the offer's, the assignment's and the cohort's) in the one
statement that looks up the signed-in person, and nothing more while the page is kept; group
work reads its members' versions in a second."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from lms.cache import DependsOn, cached, named, offering, person
from lms.cache.kept import SLOT_FORM, earliest_after, with_csrf
from lms.clock import utcnow
from lms.errors import NotFound
from lms.extensions import db
from lms.learning import assignments as work
from lms.learning import assignments_pages as pages
from lms.learning.assignments_forms import SubmitForm
from lms.learning.assignments_models import Assignment, GroupMember
from lms.offerings.models import Offering
from lms.offerings.policy import can_manage


@dataclass(frozen=True)
class AssignmentPage:
    """What the page's layout needs (its title and back link), and its main part."""

    assignment_title: str
    offering_id: int
    offering_title: str
    body: Markup


SCOPE = "assignment"
# The cohort of each assignment this app has seen in this process (an assignment never
# moves): what its address reads besides its own version. Only a hint: a wrong one costs a
# second read, never a stale page.
_COHORTS = "lms_assignment_cohorts"
_HINTS = 20_000


def _cohort_of() -> dict[int, int]:
    return current_app.extensions.setdefault(_COHORTS, {})


def scope(assignment_id: int) -> str:
    return f"{SCOPE}:{assignment_id}"


def address_reads(id: int) -> DependsOn:  # noqa: A002 - the route's argument
    """What the page at ``/assignments/<id>`` reads (``cache.page_reads``)."""
    reads = named(scope(id))
    cohort = _cohort_of().get(id)
    return reads + offering(cohort) if cohort is not None else reads


def _facts(assignment_id: int) -> tuple[int, bool] | None:
    """(cohort, group work?) of an assignment, or None: kept under its version."""
    def build() -> tuple[tuple[int, bool] | None, None]:
        found = db.session.execute(select(Assignment.offering_id, Assignment.for_groups)
                                   .where(Assignment.id == assignment_id)).first()
        return (tuple(found) if found is not None else None), None

    facts = cached("assignment_facts", assignment_id, depends_on=named(scope(assignment_id)),
                   build=build, size=_HINTS)
    if facts is not None:
        hints = _cohort_of()
        if len(hints) >= _HINTS:
            hints.clear()
        hints[assignment_id] = facts[0]
    return facts


def _group(user_id: int, offering_id: int) -> tuple[int, ...]:
    """The people in ``user_id``'s group on the cohort (them included), kept under the
    cohort's version and theirs (a member joining or leaving renews the cohort)."""
    def build() -> tuple[tuple[int, ...], None]:
        mine = select(GroupMember.group_id).where(GroupMember.user_id == user_id,
                                                  GroupMember.offering_id == offering_id)
        return tuple(db.session.scalars(
            select(GroupMember.user_id).where(GroupMember.group_id.in_(mine))
            .order_by(GroupMember.user_id))), None

    return cached("assignment_groups", (offering_id, user_id),
                  depends_on=offering(offering_id) + person(user_id), build=build, size=4096)


def assignment_page(user, assignment_id: int) -> AssignmentPage:
    """The assignment as ``user`` sees it, kept; ``NotFound`` as ``get_assignment``. No
    query while kept: the versions were read with the signed-in person's."""
    facts = _facts(assignment_id)
    if facts is None:
        raise NotFound("No such assignment")
    offering_id, for_groups = facts
    depends_on = offering(offering_id) + person(user.id)
    if for_groups:
        for member in _group(user.id, offering_id):
            depends_on += person(member)
    key = (assignment_id, user.id, tuple(sorted(user.roles)))
    kept = cached("assignment_page", key, depends_on=depends_on,
                  build=lambda: _build(user, assignment_id), size=2048)
    if kept is None:
        raise NotFound("No such assignment")
    title, offering_title, body = kept
    return AssignmentPage(title, offering_id, offering_title, with_csrf(body))


def _build(user, assignment_id: int) -> tuple[tuple[str, str, str] | None, datetime | None]:
    assignment = db.session.get(Assignment, assignment_id, options=[
        joinedload(Assignment.offering).options(
            lazyload(Offering.sessions), lazyload(Offering.quotas), lazyload(Offering.lead_rows))])
    if assignment is None or not work.may_see(user, assignment):
        return None, None
    managing = can_manage(user, assignment.offering)
    # Not managing, so ``may_see`` found them on the cohort.
    line = None if managing else pages.learner_line(user, assignment, placed=True)
    body = render_template("learning/_assignment_main.html", assignment=assignment,
                           managing=managing, line=line, form=SubmitForm(meta={"csrf": False}),
                           token_form=SLOT_FORM)
    until = earliest_after((line.deadline,), utcnow()) if line else None
    return (assignment.title, assignment.offering.title, body), until
