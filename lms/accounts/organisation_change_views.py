"""Pages for requests to move to another organisation: the DSU lead's (or admin's) list with
Approve and Decline. The person's own side is on their profile."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from lms.accounts import organisation_changes as changes
from lms.accounts.models import Role
from lms.errors import DomainError
from lms.web import EmptyForm, attempt, role_required

bp = Blueprint("organisation_changes", __name__, url_prefix="/organisation-changes")


@bp.route("")
@role_required(Role.DSU_LEAD, Role.ADMIN)
def requests():
    """The requests waiting for this person's decision."""
    return render_template("accounts/organisation_changes.html",
                           waiting=changes.waiting_for(current_user), form=EmptyForm())


def _decide(change_id: int, action, done: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    change = changes.get_for_decision(current_user, change_id)
    name, organisation = change.person.full_name, change.to_organisation.name
    outcome = attempt(action, current_user, change)
    if isinstance(outcome, DomainError):
        flash(outcome.message, "error")
    else:
        flash(done.format(name=name, organisation=organisation), "success")
    return redirect(url_for("organisation_changes.requests"))


@bp.route("/<int:change_id>/approve", methods=["POST"])
@role_required(Role.DSU_LEAD, Role.ADMIN)
def approve(change_id: int):
    """Approve a move: the person belongs to the new organisation from now on."""
    return _decide(change_id, changes.approve, "{name} has moved to {organisation}.")


@bp.route("/<int:change_id>/decline", methods=["POST"])
@role_required(Role.DSU_LEAD, Role.ADMIN)
def decline(change_id: int):
    """Decline a move: the person stays where they are."""
    return _decide(change_id, changes.decline,
                   "{name}'s request to move to {organisation} was declined.")
