"""Registers, check-in, report import and completion pages."""

from __future__ import annotations

import io

import segno
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup

from lms.accounts import throttle
from lms.accounts.models import Role
from lms.attendance import completion as attendance_completion
from lms.attendance import imports as attendance_imports
from lms.attendance import policy, register_kept, reports, services
from lms.attendance.forms import AddPersonForm, CheckInForm, ImportForm, MatchForm, SignOffForm
from lms.attendance.models import MARK_LABELS
from lms.attendance.register_rows import name_key, register_rows, shared_names
from lms.errors import DomainError
from lms.extensions import db
from lms.feedback.services import answers_are_anonymous
from lms.notifications.services import link
from lms.offerings.services import get_enrolment, get_offering
from lms.web import EmptyForm, attempt, perform, role_required, show_error, submit

bp = Blueprint("attendance", __name__)
faculty = role_required(Role.FACULTY, Role.ADMIN)


@bp.context_processor
def helpers() -> dict:
    """The register's row writer for this blueprint's pages."""
    return {"register_rows": register_rows, "shared_names": shared_names, "name_key": name_key}


@bp.route("/faculty/sessions/<int:id>/register", methods=["GET", "POST"])
@faculty
def register(id: int):
    """Take a session's register: present, late, absent or excused, with a note."""
    query = " ".join(request.args.get("q", "").split())[:100]
    form = EmptyForm()
    if form.validate_on_submit():
        session = services.get_session(id)
        marks = {}
        for key, value in request.form.items():
            # "Not marked" (empty) leaves a person as they are.
            if key.startswith("status-") and key[7:].isdigit() and value:
                user_id = int(key[7:])
                marks[user_id] = (value, request.form.get(f"note-{user_id}", ""))
        if perform(services.record_register, current_user, session, marks,
                   done=lambda saved: f"The register is saved ({saved} marked)."):
            return redirect(url_for("attendance.register", id=id, q=query or None,
                                    page=request.args.get("page") or None))
    return _register_page(id, query, request.args.get("page"))


def _register_page(session_id: int, query: str = "", number: str | None = None,
                   add_form=None):
    """The register, filtered by name when ``query`` is given (the whole register still
    tells apart people who share a name), page ``number`` of it; kept unless ``add_form``
    has errors to show."""
    page = register_kept.register_page(current_user, session_id, query, add_form, number)
    return render_template("attendance/register.html", page=page, add_form=add_form)


@bp.route("/faculty/sessions/<int:id>/register/all-present", methods=["POST"])
@faculty
def all_present(id: int):
    """Mark everyone not yet marked as present."""
    session = services.get_session(id)
    perform(services.mark_all_present, current_user, session,
            done=lambda count: f"{count} {'person' if count == 1 else 'people'} marked present.")
    return redirect(url_for("attendance.register", id=id))


@bp.route("/faculty/sessions/<int:id>/register/add", methods=["POST"])
@faculty
def add_person(id: int):
    """Add a late arrival without a place."""
    session = services.get_session(id)
    form = AddPersonForm()
    done = submit(form, lambda: services.add_to_register(current_user, session,
                                                         form.email.data or ""))
    if not done:
        return _register_page(id, add_form=form)
    flash(f"{done.value.full_name} has been added as late.", "success")
    return redirect(url_for("attendance.register", id=id))


@bp.route("/faculty/sessions/<int:id>/check-in")
@faculty
def check_in_display(id: int):
    """The code and QR code to show in the room or on screen, made for a projector, with a
    count of who has checked in (kept up to date by the page's script, or on reload)."""
    session = services.get_session(id)
    code = services.check_in_code(session)
    db.session.commit()
    target = link("attendance.check_in_code", code=code.code)
    svg = io.BytesIO()
    segno.make(target, error="m").save(svg, kind="svg", scale=8, xmldecl=False,
                                       svgns=True, title=f"QR code for check-in code "
                                       f"{code.code}", nl=False)
    opens, closes = policy.check_in_window(session)
    return render_template("attendance/check_in_display.html", session=session,
                           code=code, qr=Markup(svg.getvalue().decode()),  # noqa: S704 - segno SVG of our own URL
                           target=target, address=link("attendance.check_in"), opens=opens,
                           closes=closes, count=services.check_in_count(session))


@bp.route("/faculty/sessions/<int:id>/check-in/count")
@faculty
def check_in_count(id: int):
    """The check-in screen's count, as JSON, for its script to poll."""
    count = services.check_in_count(services.get_session(id))
    return jsonify(checked_in=count.checked_in, places=count.places, text=count.text)


def _do_check_in(form: CheckInForm):
    address = request.remote_addr or "unknown"
    done = submit(form, lambda: services.check_in(current_user, form.code.data or "", address),
                  on_refusal=throttle.refusal_counter(throttle.CHECK_IN, current_user.email,
                                                      address))
    if not done:
        return None
    flash(f"You are checked in to {done.value.offering.title}.", "success")
    return redirect(url_for("offerings.my_learning"))


@bp.route("/check-in", methods=["GET", "POST"])
@login_required
def check_in():
    """Type the code shown in the session."""
    form = CheckInForm()
    if done := _do_check_in(form):
        return done
    return render_template("attendance/check_in.html", form=form)


@bp.route("/check-in/<code>", methods=["GET", "POST"])
@login_required
def check_in_code(code: str):
    """Where the QR code leads: confirm with one button."""
    form = CheckInForm(data={"code": code[:12]})
    if done := _do_check_in(form):
        return done
    return render_template("attendance/check_in.html", form=form)


@bp.route("/faculty/sessions/<int:id>/import", methods=["GET", "POST"])
@faculty
def import_report(id: int):
    """Upload a Teams or Zoom attendance report."""
    session = services.get_session(id)
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        upload = form.report.data
        data = upload.read(reports.MAX_BYTES + 1) if upload else b""
        outcome = attempt(attendance_imports.import_report, current_user, session, data,
                          upload.filename if upload else "", form.min_percent.data)
        if isinstance(outcome, DomainError):
            if not outcome.field:
                outcome.field = "report"
            show_error(form, outcome)
        else:
            result = outcome.value
            flash(f"Imported: {result.matched} matched, {result.present} present, "
                  f"{result.unmatched} to check.", "success")
            return redirect(url_for("attendance.import_report", id=id))
    elif request.method == "POST":
        form.min_percent.errors = ["Enter the share as a whole number from 1 to 100"]
    imports = attendance_imports.imports_for(session)
    return render_template("attendance/import.html", session=session, form=form,
                           imports=imports, match_form=MatchForm(),
                           may_import=policy.may_import(current_user, session))


@bp.route("/faculty/attendance-rows/<int:id>/<any(match, ignore):action>", methods=["POST"])
@faculty
def resolve_row(id: int, action: str):
    """Match an unmatched report row to a person, or ignore it."""
    row = attendance_imports.get_unmatched(id)
    form = MatchForm()
    if not form.validate_on_submit():
        abort(400)
    perform(attendance_imports.resolve_unmatched, current_user, row,
            form.email.data if action == "match" else None,
            done="Matched." if action == "match" else "Ignored.")
    return redirect(url_for("attendance.import_report", id=row.attendance_import.session_id))


@bp.route("/faculty/offerings/<int:id>/completion")
@faculty
def completion(id: int):
    """Everyone's progress against the completion rule."""
    offering = get_offering(id)
    progress = attendance_completion.progress_for(offering)
    return render_template("attendance/completion.html", offering=offering,
                           progress=progress, form=SignOffForm(),
                           feedback_private=answers_are_anonymous(offering.id),
                           feedback_count=sum(p.feedback_given for p in progress))


@bp.route("/faculty/enrolments/<int:id>/sign-off", methods=["POST"])
@faculty
def sign_off(id: int):
    """Faculty sign-off for one person."""
    enrolment = get_enrolment(id)
    form = SignOffForm()
    if not form.validate_on_submit():
        abort(400)
    perform(attendance_completion.sign_off, current_user, enrolment, form.note.data or "",
            done=f"{enrolment.user.full_name} is signed off.")
    return redirect(url_for("attendance.completion", id=enrolment.offering_id))


@bp.route("/my-learning/<int:id>/progress")
@login_required
def progress(id: int):
    """A person's own progress: sessions attended and what completion needs."""
    mine = attendance_completion.my_progress(current_user, id)
    return render_template("attendance/progress.html", p=mine, labels=MARK_LABELS)
