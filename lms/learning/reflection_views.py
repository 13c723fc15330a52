"""Reflective log and CPD pages: a learner writes private entries and shares some with
faculty, who comment and accept them as competency evidence; CPD done elsewhere is recorded
with its evidence."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.accounts.models import Role
from lms.competencies.services import active_competencies
from lms.learning import cpd, reflection
from lms.learning.reflection_forms import AcceptForm, ActivityForm, CommentForm, EntryForm
from lms.learning.storage import allow_uploads, send_stored
from lms.offerings.policy import can_manage
from lms.web import EmptyForm, perform, role_required, submit

bp = Blueprint("reflection", __name__)
manage = role_required(Role.FACULTY, Role.ADMIN)


def _entry_form(entry=None) -> EntryForm:
    form = EntryForm(obj=entry)
    form.link.choices = reflection.link_choices(current_user)
    form.competency.choices = [("", "None")] + [
        (str(c.id), c.name) for c in active_competencies()]
    if entry is not None and request.method == "GET":
        form.link.data = (f"session:{entry.session_id}" if entry.session_id else
                          f"offering:{entry.offering_id}" if entry.offering_id else "")
        form.competency.data = str(entry.competency_id or "")
    return form


def _details(form: EntryForm) -> reflection.EntryDetails:
    return reflection.EntryDetails(
        happened_on=form.happened_on.data, title=form.title.data,
        what_happened=form.what_happened.data, what_learned=form.what_learned.data,
        do_differently=form.do_differently.data, notes=form.notes.data,
        link=form.link.data, competency_id=form.competency.data)


@bp.route("/reflection")
@login_required
def log():
    """Your reflective log, newest first."""
    return render_template("learning/reflection_log.html",
                           entries=reflection.own_entries(current_user))


@bp.route("/reflection/new", methods=["GET", "POST"])
@login_required
def new_entry():
    """Write an entry (private until you share it)."""
    form = _entry_form()
    done = submit(form, lambda: reflection.write_entry(current_user, _details(form)),
                  every_problem_at_once=True)
    if done:
        flash("Your entry has been saved. Only you can see it.", "success")
        return redirect(url_for("reflection.entry", id=done.value.id))
    return render_template("learning/reflection_form.html", form=form, entry=None)


@bp.route("/reflection/<int:id>/edit", methods=["GET", "POST"])
@login_required
def edit_entry(id: int):
    """Change one of your entries."""
    entry = reflection.own_entry(current_user, id)
    form = _entry_form(entry)
    done = submit(form, lambda: reflection.change_entry(current_user, entry, _details(form)),
                  every_problem_at_once=True)
    if done:
        flash("Changes saved.", "success")
        return redirect(url_for("reflection.entry", id=entry.id))
    return render_template("learning/reflection_form.html", form=form, entry=entry)


@bp.route("/reflection/<int:id>")
@login_required
def entry(id: int):
    """One entry: yours, or one shared with you as faculty (with comments)."""
    item = reflection.get_entry(current_user, id)
    own = item.user_id == current_user.id
    accept = AcceptForm()
    accept.competency.choices = [(str(c.id), c.name) for c in active_competencies()]
    if item.competency_id:
        accept.competency.data = str(item.competency_id)
    return render_template("learning/reflection_entry.html", entry=item, own=own,
                           faculty=not own and can_manage(current_user, item.offering),
                           button=EmptyForm(), comment_form=CommentForm(), accept=accept)


def _own_button(id: int, action, done: str):
    item = reflection.own_entry(current_user, id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(action, current_user, item, done=done)
    if action is reflection.delete_entry:
        return redirect(url_for("reflection.log"))
    return redirect(url_for("reflection.entry", id=id))


@bp.route("/reflection/<int:id>/share", methods=["POST"])
@login_required
def share(id: int):
    """Share an entry with the faculty of its course."""
    return _own_button(id, reflection.share, "Your entry is shared with the faculty.")


@bp.route("/reflection/<int:id>/unshare", methods=["POST"])
@login_required
def unshare(id: int):
    """Make an entry private again."""
    return _own_button(id, reflection.unshare, "Your entry is private again.")


@bp.route("/reflection/<int:id>/delete", methods=["POST"])
@login_required
def delete(id: int):
    """Delete one of your entries."""
    return _own_button(id, reflection.delete_entry, "Your entry has been deleted.")


@bp.route("/faculty/reflections")
@manage
def shared():
    """Entries learners have shared with faculty."""
    return render_template("learning/reflection_shared.html",
                           entries=reflection.shared_entries(current_user))


@bp.route("/faculty/reflections/<int:id>/comment", methods=["POST"])
@manage
def comment(id: int):
    """Comment on a shared entry."""
    item = reflection.get_entry(current_user, id)
    form = CommentForm()
    if submit(form, lambda: reflection.comment(current_user, item, form.text.data)):
        flash("Your comment has been added.", "success")
    else:
        for message in form.text.errors or form.form_errors or ["Write your comment"]:
            flash(message, "error")
    return redirect(url_for("reflection.entry", id=item.id))


@bp.route("/faculty/reflections/<int:id>/accept", methods=["POST"])
@manage
def accept(id: int):
    """Accept a shared entry as evidence of a competency."""
    item = reflection.get_entry(current_user, id)
    form = AcceptForm()
    form.competency.choices = [(str(c.id), c.name) for c in active_competencies()]
    if submit(form, lambda: reflection.accept_as_evidence(current_user, item,
                                                          form.competency.data,
                                                          form.level.data)):
        flash("The entry has been accepted as evidence.", "success")
    else:
        errors = [m for f in form for m in (f.errors or [])] + list(form.form_errors)
        for message in errors or ["Choose a competency and a level"]:
            flash(message, "error")
    return redirect(url_for("reflection.entry", id=item.id))


# ---------------------------------------------------------------------------- CPD


@bp.route("/cpd")
@login_required
def activities():
    """CPD you have recorded for learning done elsewhere."""
    return render_template("learning/cpd_list.html",
                           activities=cpd.activities_of(current_user.id), button=EmptyForm())


@bp.route("/cpd/new", methods=["GET", "POST"])
@login_required
def new_activity():
    """Record CPD done elsewhere, with evidence."""
    allow_uploads()
    form = ActivityForm()
    done = submit(form, lambda: cpd.record_activity(
        current_user, cpd.ActivityDetails(form.title.data, form.done_on.data, form.hours.data,
                                          form.description.data),
        request.files.get(form.evidence.name)), every_problem_at_once=True)
    if done:
        flash("Your CPD has been recorded. It is on your learning record.", "success")
        return redirect(url_for("reflection.activities"))
    return render_template("learning/cpd_form.html", form=form)


@bp.route("/cpd/<int:id>/evidence")
@login_required
def evidence(id: int):
    """The evidence file of one of your CPD activities."""
    item = cpd.get_activity(current_user, id)
    if not item.evidence_key:
        abort(404)
    return send_stored(item.evidence_key, item.evidence_filename, item.evidence_content_type)


@bp.route("/cpd/<int:id>/delete", methods=["POST"])
@login_required
def delete_activity(id: int):
    """Remove one of your CPD activities."""
    item = cpd.get_activity(current_user, id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(cpd.remove_activity, current_user, item, done="The CPD activity has been removed.")
    return redirect(url_for("reflection.activities"))
