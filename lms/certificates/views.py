"""Certificate pages: My certificates and downloads, the public verification page, and
faculty's certificates page for an offering (template, issue, bulk issue with progress, zip,
revoke and reissue)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required

from lms.accounts.models import Role
from lms.certificates import bulk, kept, pages, pdfs, revocation, services
from lms.certificates.forms import ReasonForm, TemplateForm, VerifyForm
from lms.certificates.models import TEMPLATE_LABELS
from lms.errors import DomainError
from lms.offerings.policy import can_manage
from lms.offerings.services import get_enrolment, get_offering
from lms.web import EmptyForm, attempt, perform, role_required, submit

bp = Blueprint("certificates", __name__)
faculty = role_required(Role.FACULTY, Role.ADMIN)


def _pdf_response(pdf: bytes, filename: str) -> Response:
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store",
    })


# ---------------------------------------------------------------------------- learners


@bp.route("/my-certificates")
@login_required
def mine():
    """A person's certificates, with downloads; kept for them in the page cache
    (``lms.certificates.kept``)."""
    return render_template("certificates/mine.html",
                           body=kept.my_certificates_page(current_user))


@bp.route("/certificates/<int:id>/pdf")
@login_required
def download(id: int):
    """Download a certificate: the holder (while it is valid) or faculty. Else 404."""
    certificate = services.own_certificate(current_user, id)
    outcome = attempt(pdfs.pdf_of, certificate)
    if isinstance(outcome, DomainError):
        flash(outcome.message, "error")
        if can_manage(current_user, certificate.offering):
            return redirect(url_for("certificates.detail", id=id))
        return redirect(url_for("certificates.mine"))
    return _pdf_response(outcome.value, pdfs.filename_of(certificate))


# ---------------------------------------------------------------------------- verification


@bp.route("/verify")
def verify_form():
    """Type a verification code (or arrive with ``?code=``)."""
    form = VerifyForm(request.args)
    code = (form.code.data or "").strip()
    if code:
        return redirect(url_for("certificates.verify", code=code))
    return render_template("certificates/verify_form.html", form=form)


@bp.route("/verify/<code>")
def verify(code: str):
    """Public: the holder's name, what was achieved, the date, valid or revoked. No more."""
    certificate = services.find_by_code(code)
    if certificate is None:
        return render_template("certificates/verify_unknown.html", form=VerifyForm()), 404
    return render_template("certificates/verify.html", certificate=certificate)


# ---------------------------------------------------------------------------- faculty


@bp.route("/faculty/certificates")
@faculty
def faculty_index():
    """Offerings people have completed, with their certificates so far."""
    return render_template("certificates/faculty_index.html",
                           rows=pages.offerings_with_completions())


def _offering_page(offering, template_form=None, status: int = 200):
    batch = bulk.latest_batch(offering.id)
    return render_template(
        "certificates/offering.html", offering=offering,
        rows=pages.people_for(offering), template=services.template_for(offering),
        default_template=services.default_template(offering), labels=TEMPLATE_LABELS,
        template_form=template_form or TemplateForm(template=services.template_for(offering)),
        batch=batch, progress=bulk.progress_of(batch) if batch else None,
        live=pdfs.count_live(offering.id), form=EmptyForm(),
        may_issue_all=bulk.may_start_batch(offering),
    ), status


@bp.route("/faculty/offerings/<int:id>/certificates")
@faculty
def offering(id: int):
    """An offering's certificates: who completed, who has one, the template, bulk issue."""
    return _offering_page(get_offering(id))


@bp.route("/faculty/offerings/<int:id>/certificates/template", methods=["POST"])
@faculty
def choose_template(id: int):
    """Pick the template for the course (all its cohorts) or the event."""
    offering = get_offering(id)
    form = TemplateForm()
    if not submit(form, lambda: services.choose_template(current_user, offering,
                                                         form.template.data or "")):
        return _offering_page(offering, form, 400)
    flash(f"Certificates will use the {TEMPLATE_LABELS[form.template.data].lower()} template.",
          "success")
    return redirect(url_for("certificates.offering", id=id))


@bp.route("/faculty/offerings/<int:id>/certificates/issue-all", methods=["POST"])
@faculty
def issue_all(id: int):
    """Start a bulk issue; it runs in the background and the page shows its progress."""
    offering = get_offering(id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(bulk.start_batch, current_user, offering,
            done="Certificates are being issued. Everyone will get an email with a link.")
    return redirect(url_for("certificates.offering", id=id))


@bp.route("/faculty/certificate-batches/<int:id>/progress")
@faculty
def batch_progress(id: int):
    """The progress bar's numbers, as JSON, for the page's script to poll."""
    batch = bulk.get_batch(id)
    response = jsonify(bulk.progress_of(batch))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/faculty/enrolments/<int:id>/certificate", methods=["POST"])
@faculty
def issue_one(id: int):
    """Issue one person's certificate."""
    enrolment = get_enrolment(id)
    perform(services.issue_for, current_user, enrolment,
            done=lambda certificate: f"Certificate {certificate.serial} issued to "
                                     f"{enrolment.user.full_name}, who has been emailed a link.")
    return redirect(url_for("certificates.offering", id=enrolment.offering_id))


def _detail_page(certificate, revoke_form=None, reissue_form=None, status: int = 200):
    return render_template(
        "certificates/detail.html", certificate=certificate,
        history=pages.history(certificate),
        revoke_form=revoke_form or ReasonForm(prefix="revoke"),
        reissue_form=reissue_form or ReasonForm(prefix="reissue"),
    ), status


@bp.route("/faculty/certificates/<int:id>")
@faculty
def detail(id: int):
    """One certificate: what it says, its history, revoke and reissue."""
    return _detail_page(services.get_certificate(id))


@bp.route("/faculty/certificates/<int:id>/revoke", methods=["POST"])
@faculty
def revoke(id: int):
    """Revoke a certificate, with a reason."""
    certificate = services.get_certificate(id)
    form = ReasonForm(prefix="revoke")
    if not submit(form, lambda: revocation.revoke(current_user, certificate,
                                                form.reason.data or "")):
        return _detail_page(certificate, revoke_form=form, status=400)
    flash(f"Certificate {certificate.serial} is revoked.", "success")
    return redirect(url_for("certificates.detail", id=id))


@bp.route("/faculty/certificates/<int:id>/reissue", methods=["POST"])
@faculty
def reissue(id: int):
    """Reissue a certificate: a new serial and code; the old one is revoked and kept."""
    certificate = services.get_certificate(id)
    form = ReasonForm(prefix="reissue")
    done = submit(form, lambda: revocation.reissue(current_user, certificate,
                                                 form.reason.data or ""))
    if not done:
        return _detail_page(certificate, reissue_form=form, status=400)
    flash(f"Certificate {done.value.serial} issued in place of {certificate.serial}.",
          "success")
    return redirect(url_for("certificates.detail", id=done.value.id))


@bp.route("/faculty/offerings/<int:id>/certificates.zip")
@faculty
def offering_zip(id: int):
    """Every valid certificate of the offering as one zip, streamed as it is written."""
    offering = get_offering(id)
    name = f"certificates-offering-{offering.id}.zip"
    body = stream_with_context(pdfs.zip_stream(pdfs.offering_pdfs(offering)))
    return Response(body, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store",
    })
