"""An assignment's page as kept in the page cache (``lms.cache``): per assignment and
viewer (their roles decide whether they manage it), under the cohort's version (the
assignment, the places on it) and the viewer's (their work, its marking, their extension,
their group), and on group work each member's too (an extension for one of them moves the
group's deadline), until the deadline passes (the form gives way to the reason why). The
answer "no such assignment" is kept the same way; the form's CSRF token is filled in per
request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from lms.cache import cached, offering, person
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


def assignment_page(user, assignment_id: int) -> AssignmentPage:
    """The assignment as ``user`` sees it, kept; ``NotFound`` as ``get_assignment``. One
    query before the versions (which cohort, whose group), none more while kept."""
    found = db.session.execute(select(Assignment.offering_id, Assignment.for_groups)
                               .where(Assignment.id == assignment_id)).first()
    if found is None:
        raise NotFound("No such assignment")
    offering_id, for_groups = found
    depends_on = offering(offering_id) + person(user.id)
    if for_groups:
        mine = select(GroupMember.group_id).where(GroupMember.user_id == user.id,
                                                  GroupMember.offering_id == offering_id)
        for member in db.session.scalars(select(GroupMember.user_id).where(
                GroupMember.group_id.in_(mine)).order_by(GroupMember.user_id)):
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
