"""Course pages: the public catalogue, course and cohort pages, and faculty's pages to build
courses, cohorts and sessions."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.accounts.models import Role
from lms.clock import utcnow
from lms.competencies import pages as competency_pages
from lms.courses import cohorts, pages, services
from lms.courses.forms import (
    CancelForm,
    CourseForm,
    DuplicateCohortForm,
    SessionForm,
    cohort_settings_form,
)
from lms.courses.models import Cohort
from lms.learning.materials import get_offering
from lms.learning.materials_pages import section_for
from lms.offerings import consequences, policy, schedule
from lms.offerings import pages as offering_pages
from lms.offerings.models import EnrolmentState, OfferingStatus
from lms.web import confirm_page, role_required, submit

bp = Blueprint("courses", __name__)
MANAGERS = (Role.FACULTY, Role.ADMIN)



@bp.context_processor
def labels() -> dict:
    """Words for statuses and booking modes, for every page of this blueprint."""
    return {"status_labels": services.STATUS_LABELS,
            "booking_mode_labels": services.BOOKING_MODE_LABELS}


# ---------------------------------------------------------------------------- helpers


def _managed_cohort(cohort_id: int) -> Cohort:
    cohort = services.get_cohort(cohort_id, current_user)
    if not policy.can_manage(current_user, cohort):
        abort(403)
    return cohort


def _icss() -> list[tuple[int, str]]:
    return [(o.id, o.name) for o in cohorts.ics_organisations()]


def _course_details(form: CourseForm) -> services.CourseDetails:
    return services.CourseDetails(
        title=form.title.data, summary=form.summary.data, kind=form.kind.data,
        strand=form.strand.data, format=form.format.data, description=form.description.data,
        target_audience=form.target_audience.data, cpd_hours=form.cpd_hours.data,
        competency_ids=form.competency_ids.data or [],
        min_attendance_percent=form.min_attendance_percent.data,
        requires_feedback=form.requires_feedback.data,
        requires_signoff=form.requires_signoff.data, published=form.published.data,
    )


def _settings(form) -> cohorts.CohortSettings:
    return cohorts.CohortSettings(
        name=form.name.data, capacity=form.capacity.data, booking_mode=form.booking_mode.data,
        offer_hours=form.offer_hours.data, nomination_opens=form.nomination_opens.data,
        nomination_closes=form.nomination_closes.data, quota_release=form.quota_release.data,
        quotas=form.quota_values(), lead_ids=form.lead_ids.data or [],
    )


def _settings_data(settings: cohorts.CohortSettings) -> dict:
    data = asdict(settings)
    quotas = data.pop("quotas")
    data.update({f"quota_{org_id}": places for org_id, places in quotas.items()})
    return data


def _session_details(form: FlaskForm, prefix: str = "") -> schedule.SessionDetails:
    def value(name: str):
        return getattr(form, prefix + name).data

    return schedule.SessionDetails(
        day=value("day"), start=value("start"), end=value("end"), title=value("title") or "",
        location=value("location") or "", join_url=value("join_url") or "",
        capacity=value("capacity"),
    )


def _leads_and_status(form, cohort: Cohort | None) -> None:
    form.lead_ids.choices = [(u.id, u.full_name) for u in cohorts.faculty_people()]
    if cohort is not None:
        current = OfferingStatus(cohort.status)
        form.status.choices = [
            (status.value, services.STATUS_LABELS[status])
            for status in OfferingStatus
            if status == current or status in cohorts.STATUS_CHANGES[current]
        ]


# ---------------------------------------------------------------------------- public pages


@bp.route("/courses")
def catalogue():
    """The catalogue: every published course with its next run, filtered and searched. Its
    listing is the same for everyone sending the same filters (kept in the offer cache); only
    the page around it is made per request."""
    return render_template("courses/catalogue.html", listing=pages.catalogue_page(request.args))


@bp.route("/courses/<int:course_id>")
def course(course_id: int):
    """A course and its cohorts, as kept in the page cache for the viewer's audience."""
    return render_template("courses/course.html",
                           page=pages.rendered_course(course_id, current_user))


@bp.route("/cohorts/<int:id>")
def cohort(id: int):
    """A cohort: its sessions, places and the booking panel. What everyone sees is kept in the
    offer cache; per request only the viewer's enrolment is read and their booking panel
    made."""
    page = pages.cohort_page(id)
    can_manage = policy.can_manage(current_user)
    if page is None or not policy.sees(current_user, page.public):
        abort(404)
    place = offering_pages.viewer_place(current_user, id)
    panel = offering_pages.panel_for(page.standing, place, current_user)
    has_place = panel.enrolment is not None and panel.enrolment.state in (
        EnrolmentState.ENROLLED, EnrolmentState.COMPLETED)
    main = page.main[(can_manage or has_place, can_manage)]
    # Faculty's materials section is their own; everyone with a place sees the kept one.
    materials = section_for(current_user, get_offering(id), True) if can_manage else None
    kept_materials = page.holders_materials if has_place and not can_manage else ""
    return render_template("courses/cohort.html", page=page, main=main, panel=panel,
                           materials=materials, kept_materials=kept_materials)


# ---------------------------------------------------------------------------- faculty: courses


@bp.route("/faculty/courses")
@role_required(*MANAGERS)
def manage_courses():
    """Every course, published or not, with its cohorts counted."""
    return render_template("faculty/courses/courses.html", rows=pages.courses_for_faculty())


@bp.route("/faculty/courses/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_course():
    """Add a course to the catalogue."""
    form = CourseForm(data={"requires_feedback": True, "published": True,
                            "min_attendance_percent": 75})
    form.competency_ids.set_groups(competency_pages.picker_groups())
    done = submit(form, lambda: services.create_course(_course_details(form)))
    if done:
        flash(f"“{done.value.title}” has been added. Now add its first cohort.", "success")
        return redirect(url_for("courses.new_cohort", course_id=done.value.id))
    return render_template("faculty/courses/course_form.html", form=form, course=None)


@bp.route("/faculty/courses/<int:course_id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_course(course_id: int):
    """Change a course's details."""
    course = services.get_course(course_id, current_user)
    form = CourseForm(data=asdict(services.details_of(course)))
    form.competency_ids.set_groups(competency_pages.picker_groups(course.competency_ids))
    done = submit(form, lambda: services.update_course(course, _course_details(form)))
    if done:
        flash(f"“{course.title}” has been saved.", "success")
        return redirect(url_for("courses.course", course_id=course.id))
    summaries = pages.cohort_summaries(course, current_user)
    return render_template("faculty/courses/course_form.html", form=form, course=course,
                           cohorts=summaries)


# ---------------------------------------------------------------------------- faculty: cohorts


@bp.route("/faculty/courses/<int:course_id>/cohorts/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_cohort(course_id: int):
    """A new cohort (in draft) with its first session."""
    course = services.get_course(course_id, current_user)
    form = cohort_settings_form(_icss(), with_first_session=True,
                                data={"booking_mode": "open", "offer_hours": 48,
                                      "lead_ids": [current_user.id]})
    _leads_and_status(form, None)
    done = submit(form, lambda: cohorts.create_cohort(
        course, _settings(form), [_session_details(form, "session1_")]))
    if done:
        flash(f"“{done.value.name}” has been created as a draft. Add its other sessions, "
              "then open it for booking.", "success")
        return redirect(url_for("courses.manage_cohort", cohort_id=done.value.id))
    return render_template("faculty/courses/cohort_new.html", form=form, course=course)


@bp.route("/faculty/cohorts/<int:cohort_id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def manage_cohort(cohort_id: int):
    """A cohort's settings, quotas, leads and status, and its sessions."""
    cohort = _managed_cohort(cohort_id)
    form = cohort_settings_form(_icss(), data={**_settings_data(cohorts.settings_of(cohort)),
                                               "status": cohort.status})
    _leads_and_status(form, cohort)
    done = submit(form, lambda: cohorts.update_cohort(cohort, _settings(form),
                                                        form.status.data))
    if done:
        flash(f"“{cohort.name}” has been saved.", "success")
        return redirect(url_for("courses.manage_cohort", cohort_id=cohort.id))
    return render_template("faculty/courses/cohort.html", form=form, cohort=cohort,
                           overview=pages.cohort_overview(cohort, current_user),
                           now=utcnow())


@bp.route("/faculty/cohorts/<int:cohort_id>/duplicate", methods=["GET", "POST"])
@role_required(*MANAGERS)
def duplicate_cohort(cohort_id: int):
    """A new draft cohort like this one, its dates moved to a new first day."""
    cohort = _managed_cohort(cohort_id)
    form = DuplicateCohortForm()
    done = submit(form, lambda: cohorts.duplicate_cohort(cohort, form.name.data,
                                                           form.first_day.data))
    if done:
        flash(f"“{done.value.name}” has been created as a draft copy of “{cohort.name}”.",
              "success")
        return redirect(url_for("courses.manage_cohort", cohort_id=done.value.id))
    return render_template("faculty/courses/cohort_duplicate.html", form=form, cohort=cohort)


@bp.route("/faculty/cohorts/<int:cohort_id>/cancel", methods=["GET", "POST"])
@role_required(*MANAGERS)
def cancel_cohort(cohort_id: int):
    """Cancel the cohort, on the confirmation page saying what follows: everyone with a
    place, request or nomination is told why."""
    cohort = _managed_cohort(cohort_id)
    form = CancelForm()
    done = submit(form, lambda: cohorts.cancel_cohort(cohort, current_user,
                                                        form.reason.data))
    if done:
        flash(f"“{cohort.name}” has been cancelled and {done.value} "
              f"{'person has' if done.value == 1 else 'people have'} been told.", "success")
        return redirect(url_for("courses.manage_cohort", cohort_id=cohort.id))
    return confirm_page(consequences.of_cancelling(
        cohort, url_for("courses.manage_cohort", cohort_id=cohort.id)), form)


# ---------------------------------------------------------------------------- faculty: sessions


@bp.route("/faculty/cohorts/<int:cohort_id>/sessions/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_session(cohort_id: int):
    """Add a session to a cohort."""
    cohort = _managed_cohort(cohort_id)
    form = SessionForm()
    done = submit(form, lambda: schedule.add_session(
        cohort, **asdict(_session_details(form)), allow_past=schedule.allows_past(cohort)))
    if done:
        flash("The session has been added.", "success")
        return redirect(url_for("courses.manage_cohort", cohort_id=cohort.id))
    return render_template("faculty/courses/session_form.html", form=form, cohort=cohort,
                           session=None)


@bp.route("/faculty/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_session(session_id: int):
    """Change a session; people with places are emailed if it moved or changed."""
    session = services.get_session(session_id)
    cohort = _managed_cohort(session.offering_id)
    day, start = schedule.local_day_and_time(session.starts_at)
    form = SessionForm(data={"title": session.title, "day": day, "start": start,
                             "end": schedule.local_day_and_time(session.ends_at)[1],
                             "location": session.location, "join_url": session.join_url,
                             "capacity": session.capacity})
    done = submit(form, lambda: schedule.update_session(
        session, **asdict(_session_details(form)), allow_past=schedule.allows_past(cohort)))
    if done:
        flash("The session has been saved" + (" and the people booked have been emailed."
                                               if done.value else "."), "success")
        return redirect(url_for("courses.manage_cohort", cohort_id=cohort.id))
    return render_template("faculty/courses/session_form.html", form=form, cohort=cohort,
                           session=session)


@bp.route("/faculty/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@role_required(*MANAGERS)
def cancel_session(session_id: int):
    """Cancel one session, saying why; people with places are emailed."""
    session = services.get_session(session_id)
    cohort = _managed_cohort(session.offering_id)
    form = CancelForm()
    done = submit(form, lambda: schedule.cancel_session(session, current_user,
                                                         form.reason.data))
    if done:
        flash(f"The session has been cancelled and {done.value} "
              f"{'person has' if done.value == 1 else 'people have'} been emailed.", "success")
        return redirect(url_for("courses.manage_cohort", cohort_id=cohort.id))
    return render_template("faculty/courses/session_cancel.html", form=form, cohort=cohort,
                           session=session)
