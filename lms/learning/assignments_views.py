"""Project-work pages: faculty set assignments, form groups, see who has submitted, mark in
bulk or one by one, grant extensions and download everything as a zip; learners read the
brief, submit and read their feedback."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required

from lms.accounts.models import Role
from lms.competencies.services import active_competencies
from lms.learning import assignments as work
from lms.learning import assignments_kept, groups, marking_kept
from lms.learning import assignments_pages as pages
from lms.learning.assignments_forms import (
    BulkMarkForm,
    ExtensionForm,
    GroupForm,
    MarkForm,
    SpreadForm,
    SubmitForm,
    assignment_form,
)
from lms.learning.storage import allow_uploads, send_stored
from lms.offerings.policy import can_manage
from lms.offerings.services import get_offering
from lms.web import role_required, submit

bp = Blueprint("assignments", __name__)
manage = role_required(Role.FACULTY, Role.ADMIN)


def _details(form, competencies) -> work.AssignmentDetails:
    return work.AssignmentDetails(
        title=form.title.data, brief=form.brief.data, due_day=form.due_day.data,
        due_time=form.due_time.data, for_groups=form.for_groups.data,
        counts_to_completion=form.counts_to_completion.data,
        competencies={c.id: getattr(form, f"level_{c.id}").data for c in competencies})


def _level_fields(form, competencies):
    return [getattr(form, f"level_{c.id}") for c in competencies]


# ---------------------------------------------------------------------------- faculty


@bp.route("/faculty/offerings/<int:id>/assignments/new", methods=["GET", "POST"])
@manage
def new_assignment(id: int):
    """Set an assignment on a cohort."""
    offering = get_offering(id)
    competencies = active_competencies()
    form = assignment_form(competencies)
    done = submit(form, lambda: work.set_assignment(current_user, offering,
                                                    _details(form, competencies)),
                  every_problem_at_once=True)
    if done:
        flash(f"{done.value.title} has been set.", "success")
        return redirect(url_for("assignments.board", id=offering.id))
    return render_template("learning/assignments_form.html", form=form, offering=offering,
                           assignment=None, levels=_level_fields(form, competencies))


@bp.route("/faculty/assignments/<int:id>/edit", methods=["GET", "POST"])
@manage
def edit_assignment(id: int):
    """Change an assignment."""
    assignment = work.managed_assignment(current_user, id)
    competencies = active_competencies()
    form = assignment_form(
        competencies, {r.competency_id: r.level for r in assignment.competency_rows},
        **pages.form_data(assignment))
    done = submit(form, lambda: work.update_assignment(current_user, assignment,
                                                       _details(form, competencies)),
                  every_problem_at_once=True)
    if done:
        flash("Changes saved.", "success")
        return redirect(url_for("assignments.board", id=assignment.offering_id))
    return render_template("learning/assignments_form.html", form=form,
                           offering=assignment.offering, assignment=assignment,
                           levels=_level_fields(form, competencies))


@bp.route("/faculty/offerings/<int:id>/marking", methods=["GET", "POST"])
@manage
def board(id: int):
    """Who has submitted what; several chosen submissions marked at once."""
    board = marking_kept.marking_board(id)
    form = BulkMarkForm()
    if request.method == "POST":
        offering = get_offering(id)
        done = submit(form, lambda: work.mark(
            current_user, work.submissions_to_mark(current_user, offering,
                                                   form.submissions.data),
            form.outcome.data, form.feedback.data, form.resubmit_day.data))
        if done:
            flash(f"Feedback returned on {done.value} submissions.", "success")
            return redirect(url_for("assignments.board", id=offering.id))
    return render_template("learning/assignments_board.html", board=board, form=form)


@bp.route("/faculty/submissions/<int:id>/mark", methods=["GET", "POST"])
@manage
def mark(id: int):
    """Feedback and an outcome on one submission."""
    submission = work.get_submission(current_user, id)
    form = MarkForm()
    done = submit(form, lambda: work.mark(current_user, [submission], form.outcome.data,
                                          form.feedback.data, form.resubmit_day.data))
    if done:
        flash("Feedback returned.", "success")
        return redirect(url_for("assignments.board", id=submission.assignment.offering_id))
    return render_template("learning/assignments_mark.html", submission=submission, form=form,
                           members=work.members_of(submission))


@bp.route("/faculty/assignments/<int:id>/extensions", methods=["GET", "POST"])
@manage
def extension(id: int):
    """Grant one person a later deadline."""
    assignment = work.managed_assignment(current_user, id)
    form = ExtensionForm()
    form.person.choices = [("", "Choose a person")] + [
        (str(p.id), p.full_name) for p in pages.learners_on(assignment.offering)]
    done = submit(form, lambda: work.grant_extension(
        current_user, assignment, form.person.data, form.due_day.data, form.due_time.data),
        every_problem_at_once=True)
    if done:
        flash("The extension has been granted.", "success")
        return redirect(url_for("assignments.board", id=assignment.offering_id))
    return render_template("learning/assignments_extension.html", assignment=assignment,
                           form=form)


@bp.route("/faculty/assignments/<int:id>/submissions.zip")
@manage
def download_all(id: int):
    """Every submission of an assignment as one zip, streamed as it is made."""
    assignment = work.managed_assignment(current_user, id)
    entries = pages.zip_entries(assignment)
    name = f"assignment-{assignment.id}-submissions.zip"
    return Response(stream_with_context(pages.stream_zip(entries)), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


@bp.route("/faculty/offerings/<int:id>/groups", methods=["GET", "POST"])
@manage
def groups_page(id: int):
    """The cohort's project groups: spread across ICSs automatically, or one formed by hand."""
    offering = get_offering(id)
    spread, by_hand = SpreadForm(prefix="spread"), GroupForm(prefix="group")
    if request.method == "POST" and "spread-count" in request.form:
        done = submit(spread, lambda: groups.form_groups_by_ics(current_user, offering,
                                                                spread.count.data))
    else:
        done = submit(by_hand, lambda: groups.add_group(current_user, offering,
                                                        by_hand.name.data,
                                                        by_hand.members.data))
    if done:
        flash("The groups have been saved.", "success")
        return redirect(url_for("assignments.groups_page", id=offering.id))
    return render_template("learning/assignments_groups.html", offering=offering,
                           spread=spread, by_hand=by_hand, groups=groups.groups_of(offering.id),
                           people=groups.cohort_people(offering.id))


# ---------------------------------------------------------------------------- learners


@bp.route("/offerings/<int:id>/assignments")
@login_required
def for_offering(id: int):
    """A cohort's assignments, with your work on each."""
    offering = get_offering(id)
    managing = can_manage(current_user, offering)
    if not managing and not work.on_cohort(current_user, offering.id):
        abort(404)
    return render_template("learning/assignments_list.html", offering=offering,
                           managing=managing,
                           lines=[] if managing else pages.learner_lines(current_user,
                                                                          offering),
                           assignments=pages.assignments_of(offering.id) if managing else [])


@bp.route("/assignments/<int:id>", methods=["GET", "POST"])
@login_required
def assignment(id: int):
    """The brief; for a learner, their work and the form to submit or replace it. Asked
    for, it is kept for them in the page cache (``lms.learning.assignments_kept``)."""
    if request.method == "GET":
        return render_template("learning/assignments_assignment_kept.html",
                               page=assignments_kept.assignment_page(current_user, id))
    item = work.get_assignment(current_user, id)
    allow_uploads(files=work.MAX_FILES)
    form = SubmitForm()
    done = submit(form, lambda: work.submit(current_user, item, form.text.data,
                                            request.files.getlist(form.files.name)))
    if done:
        flash("Your work has been submitted.", "success")
        return redirect(url_for("assignments.assignment", id=item.id))
    managing = can_manage(current_user, item.offering)
    line = None if managing else pages.learner_line(current_user, item)
    return render_template("learning/assignments_assignment.html", assignment=item,
                           form=form, line=line, managing=managing)


@bp.route("/submissions/<int:id>")
@login_required
def submission(id: int):
    """A submission, its files and its feedback (yours, your group's, or for faculty)."""
    item = work.get_submission(current_user, id)
    return render_template("learning/assignments_submission.html", submission=item,
                           members=work.members_of(item),
                           managing=can_manage(current_user, item.assignment.offering))


@bp.route("/submissions/<int:id>/files/<int:file_id>")
@login_required
def submission_file(id: int, file_id: int):
    """One file of a submission, as a download."""
    item = pages.submission_file(current_user, id, file_id)
    return send_stored(item.storage_key, item.filename, item.content_type)
