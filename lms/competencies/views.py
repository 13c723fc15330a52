"""Competency pages: the framework (everyone reads it; faculty and admins edit it), what each
course builds, faculty ratings, self-assessments, and the learning record with its PDF and
CSV downloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from lms.accounts.models import Role
from lms.accounts.services import get_user
from lms.clock import to_london, utcnow
from lms.competencies import kept, pages, records, services
from lms.competencies.forms import CompetencyForm, EvidenceForm, mapping_form
from lms.competencies.models import LEVEL_LABELS, LEVEL_MEANINGS, SOURCE_LABELS, Level
from lms.courses.services import get_course
from lms.web import EmptyForm, perform, role_required, submit

bp = Blueprint("competencies", __name__)
manage = role_required(Role.FACULTY, Role.ADMIN)


@bp.context_processor
def helpers() -> dict:
    """Words of the scale for this blueprint's pages."""
    return {"level_labels": LEVEL_LABELS, "level_meanings": LEVEL_MEANINGS, "Level": Level,
            "source_labels": SOURCE_LABELS, "level_label": services.level_label}


# ---------------------------------------------------------------------------- helpers


def _details(form: CompetencyForm) -> services.CompetencyDetails:
    return services.CompetencyDetails(
        name=form.name.data, domain=form.domain.data, description=form.description.data,
        aware=form.aware.data, working=form.working.data,
        practitioner=form.practitioner.data, expert=form.expert.data)


# ---------------------------------------------------------------------------- the framework


@bp.route("/competencies")
def framework():
    """The framework by strand; for faculty, also retired competencies and course mappings."""
    managing = services.can_manage_framework(current_user)
    return render_template(
        "competencies/framework.html", managing=managing,
        groups=pages.framework(include_retired=managing),
        courses=pages.courses_with_mappings() if managing else [])


@bp.route("/competencies/<int:id>")
def competency(id: int):
    """One competency: what it means, its behaviours at each level, the courses that build
    it."""
    item = services.get_competency(id)
    managing = services.can_manage_framework(current_user)
    courses = [(course, level) for course, level in services.courses_building(item.id)
               if managing or course.published]
    return render_template("competencies/competency.html", competency=item,
                           courses=courses, managing=managing,
                           in_use=managing and services.in_use(item), form=EmptyForm())


@bp.route("/faculty/competencies/new", methods=["GET", "POST"])
@manage
def new_competency():
    """Add a competency to the framework."""
    form = CompetencyForm()
    done = submit(form, lambda: services.create_competency(_details(form)))
    if done:
        flash(f"{done.value.name} has been added to the framework.", "success")
        return redirect(url_for("competencies.competency", id=done.value.id))
    return render_template("competencies/competency_form.html", form=form, competency=None)


@bp.route("/faculty/competencies/<int:id>/edit", methods=["GET", "POST"])
@manage
def edit_competency(id: int):
    """Change a competency's words."""
    item = services.get_competency(id)
    details = services.details_of(item)
    form = CompetencyForm(data=vars(details))
    done = submit(form, lambda: services.update_competency(item, _details(form)))
    if done:
        flash("Changes saved.", "success")
        return redirect(url_for("competencies.competency", id=item.id))
    return render_template("competencies/competency_form.html", form=form, competency=item)


def _button(id: int, action: Callable[[Any], None], done: str):
    item = services.get_competency(id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not perform(action, item, done=done.format(name=item.name)):
        return redirect(url_for("competencies.competency", id=id))
    return redirect(url_for("competencies.framework") if action is services.delete_competency
                    else url_for("competencies.competency", id=id))


@bp.route("/faculty/competencies/<int:id>/retire", methods=["POST"])
@manage
def retire_competency(id: int):
    """Retire a competency: no new evidence or mappings; its history stays."""
    return _button(id, services.retire_competency, "{name} has been retired.")


@bp.route("/faculty/competencies/<int:id>/restore", methods=["POST"])
@manage
def restore_competency(id: int):
    """Bring a retired competency back."""
    return _button(id, services.restore_competency, "{name} is in use again.")


@bp.route("/faculty/competencies/<int:id>/delete", methods=["POST"])
@manage
def delete_competency(id: int):
    """Delete a competency nothing uses (a competency in use can only be retired)."""
    return _button(id, services.delete_competency, "{name} has been deleted.")


@bp.route("/faculty/courses/<int:course_id>/competencies", methods=["GET", "POST"])
@manage
def course_mapping(course_id: int):
    """Which competencies a course builds, and to what level."""
    course = get_course(course_id, current_user)
    current = {row.competency_id: row for row in services.course_mapping(course.id)}
    active = services.active_competencies()
    form = mapping_form(active, {cid: row.level for cid, row in current.items()})
    done = submit(form, lambda: services.set_course_levels(
        course, {c.id: getattr(form, f"level_{c.id}").data for c in active}))
    if done:
        flash(f"Saved what {course.title} builds.", "success")
        return redirect(url_for("competencies.framework") + "#courses")
    retired = [row for row in current.values() if row.competency.is_retired]
    groups = [(group, [getattr(form, f"level_{c.id}") for c in group.competencies])
              for group in pages.framework() if group.competencies]
    return render_template("competencies/course_mapping.html", course=course, form=form,
                           groups=groups, retired=retired)


# ---------------------------------------------------------------------------- evidence


@bp.route("/faculty/people/<int:id>/rate", methods=["GET", "POST"])
@manage
def rate(id: int):
    """Rate a person on a competency, with the reason."""
    person = get_user(id)
    form = EvidenceForm()
    form.set_competencies(services.active_competencies())
    done = submit(form, lambda: services.rate(current_user, person, form.competency.data,
                                               form.level.data, form.note.data))
    if done:
        flash(f"Your rating of {person.full_name} has been recorded.", "success")
        return redirect(url_for("competencies.person_record", id=person.id) + "#competencies")
    return render_template("competencies/rate.html", person=person, form=form)


@bp.route("/learning-record/self-assessment", methods=["GET", "POST"])
@login_required
def self_assess():
    """Add a self-assessment to your own record."""
    form = EvidenceForm()
    form.set_competencies(services.active_competencies())
    done = submit(form, lambda: services.self_assess(current_user, form.competency.data,
                                                      form.level.data, form.note.data))
    if done:
        flash("Your self-assessment has been added to your learning record.", "success")
        return redirect(url_for("competencies.learning_record") + "#competencies")
    return render_template("competencies/self_assess.html", form=form)


# ---------------------------------------------------------------------------- learning record


@bp.route("/learning-record")
@login_required
def learning_record():
    """Your CPD hours, courses, events, certificates and competencies; kept for you in the
    page cache (``lms.competencies.kept``)."""
    return render_template("records/learning_record.html", own=True,
                           body=kept.learning_record_page(current_user))


@bp.route("/faculty/people/<int:id>/learning-record")
@manage
def person_record(id: int):
    """A person's learning record, as faculty see it, with the way to rate them."""
    person = get_user(id)
    return render_template("records/learning_record.html",
                           record=records.learning_record(person), own=False)


def _download(record: records.LearningRecord, fmt: str) -> Response:
    name = f"learning-record-{to_london(utcnow()):%Y-%m-%d}"
    if fmt == "csv":
        body, mimetype = records.record_csv(record), "text/csv"
    else:
        html = render_template("records/learning_record_pdf.html", record=record)
        body, mimetype = records.record_pdf(html), "application/pdf"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
        "Cache-Control": "no-store",
    })


@bp.route("/learning-record.<any(pdf, csv):fmt>")
@login_required
def learning_record_download(fmt: str):
    """Your learning record as a PDF or CSV file."""
    return _download(records.learning_record(current_user), fmt)


@bp.route("/faculty/people/<int:id>/learning-record.<any(pdf, csv):fmt>")
@manage
def person_record_download(id: int, fmt: str):
    """A person's learning record as a PDF or CSV file."""
    person = get_user(id)
    return _download(records.learning_record(person), fmt)
