"""Account pages: sign-up, confirmation, sign-in and out, passwords, profile, admin."""

from __future__ import annotations

import time

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from lms.accounts import administration, organisation_changes, services, two_step
from lms.accounts.forms import (
    ChangePasswordForm,
    EmailForm,
    ProfileForm,
    ResetPasswordForm,
    SecondFactorForm,
    SignInForm,
    SignUpForm,
    TwoFactorOffForm,
    TwoFactorSetUpForm,
    UserAdminForm,
    UserSearchForm,
)
from lms.accounts.models import Role, TokenPurpose
from lms.errors import DomainError
from lms.extensions import db
from lms.security import (
    ISSUER_SIGN_OUT,
    begin_session,
    mark_second_step_passed,
    second_step_required,
)
from lms.web import (
    EmptyForm,
    attempt,
    local_path,
    role_required,
    show_error,
    submit,
)

bp = Blueprint("accounts", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


def _organisation_choices(placeholder: str = "Select your organisation"):
    return [("", placeholder)] + [(o.id, o.name) for o in services.organisations()]


@bp.route("/sign-up", methods=["GET", "POST"])
def sign_up():
    """Create an account; the email confirms it."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignUpForm()
    form.organisation_id.choices = _organisation_choices()
    if submit(form, lambda: services.sign_up(
            services.SignUp(**{k: v for k, v in form.data.items() if k != "csrf_token"}),
            request.remote_addr or "unknown")):
        session["check_email"] = services.normalise_email(form.email.data)
        return redirect(url_for("accounts.check_email"))
    return render_template("accounts/sign_up.html", form=form)


@bp.route("/sign-up/check-your-email")
def check_email():
    """Tell a new person to follow the emailed link."""
    return render_template("accounts/check_email.html", email=session.get("check_email"))


@bp.route("/confirm-email/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """A link from an email: a button (so mail scanners following links use nothing up)."""
    form = EmptyForm()
    if form.validate_on_submit():
        outcome = attempt(services.verify_email, token)
        if isinstance(outcome, DomainError):
            return render_template("accounts/link_expired.html", message=outcome.message,
                                   resend=True), 400
        flash("Your email address is confirmed. You can now sign in.", "success")
        return redirect(url_for("accounts.sign_in"))
    if services.check_token(token, TokenPurpose.VERIFY_EMAIL) is None:
        return render_template("accounts/link_expired.html", resend=True,
                               message="This link has expired or has already been used"), 400
    return render_template("accounts/verify_email.html", form=form)


@bp.route("/confirm-email/resend", methods=["GET", "POST"])
def resend_verification():
    """Ask for a new confirmation link."""
    form = EmailForm()
    if submit(form, lambda: services.resend_verification(form.email.data,
                                                         request.remote_addr or "unknown")):
        session["check_email"] = services.normalise_email(form.email.data)
        return redirect(url_for("accounts.check_email"))
    return render_template("accounts/resend_verification.html", form=form)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    next_url = local_path(request.args.get("next"), url_for("home.index"))
    form = SignInForm()
    unverified = False
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data,
                                         request.remote_addr or "unknown")
        except services.EmailNotVerified as error:
            unverified = True
            show_error(form, error)
        except DomainError as error:  # a refusal while paused counts too: the pause holds
            db.session.rollback()
            services.record_failed_sign_in(form.email.data or "", request.remote_addr or "")
            db.session.commit()
            show_error(form, error)
        else:
            session.clear()  # a fresh session for the signed-in person
            if user.has_two_factor:
                # The password was right; the code from their app comes next.
                session["second_factor"] = {"user": user.get_id(), "since": int(time.time()),
                                            "next": next_url}
                return redirect(url_for("accounts.sign_in_code"))
            begin_session(user)
            return redirect(next_url)
    return render_template("accounts/sign_in.html", form=form, unverified=unverified)


@bp.route("/sign-in/code", methods=["GET", "POST"])
def sign_in_code():
    """The second step of signing in, for people with two-step verification on."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    pending = session.get("second_factor") or {}
    user = two_step.pending_second_factor(pending.get("user"), pending.get("since"))
    if user is None:
        session.pop("second_factor", None)
        flash("Sign in again to carry on.", "info")
        return redirect(url_for("accounts.sign_in"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        address = request.remote_addr or "unknown"
        try:
            two_step.check_second_factor(user, form.code.data, address)
        except services.TooManyAttempts as error:
            show_error(form, error)
        except DomainError as error:
            db.session.rollback()
            services.record_failed_sign_in(user.email, address)
            db.session.commit()
            show_error(form, error)
        else:
            db.session.commit()
            next_url = local_path(pending.get("next"), url_for("home.index"))
            begin_session(user, second_step=True)
            if pending.get("issuer_sign_out"):
                session[ISSUER_SIGN_OUT] = pending["issuer_sign_out"]
            return redirect(next_url)
    return render_template("accounts/sign_in_code.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    """Sign out here and in every other browser."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.end_sessions(current_user)
    db.session.commit()
    issuer_sign_out = session.get(ISSUER_SIGN_OUT)
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    if issuer_sign_out:  # signed in with an NHS account: offer to sign out of that too
        session[ISSUER_SIGN_OUT] = issuer_sign_out
        return redirect(url_for("sso.signed_out"))
    return redirect(url_for("accounts.sign_in"))


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not the email has an account."""
    form = EmailForm()
    if submit(form, lambda: services.request_password_reset(form.email.data,
                                                            request.remote_addr or "unknown")):
        return render_template("accounts/reset_sent.html",
                               email=services.normalise_email(form.email.data))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from an emailed link."""
    if services.check_token(token, TokenPurpose.RESET_PASSWORD) is None:
        return render_template("accounts/link_expired.html", resend=False,
                               message="This link has expired or has already been used"), 400
    form = ResetPasswordForm()
    if submit(form, lambda: services.reset_password(token, form.password.data, form.confirm.data)):
        logout_user()
        flash("Your password has been changed. Sign in with your new password.", "success")
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    """See and change one's own details."""
    form = ProfileForm(obj=current_user)
    form.organisation_id.choices = _organisation_choices()
    pending = organisation_changes.pending_for(current_user)
    if pending is not None and request.method == "GET":
        form.organisation_id.data = pending.to_organisation_id
    if submit(form, lambda: services.update_profile(
            current_user, form.full_name.data, form.job_title.data, form.organisation_id.data)):
        flash("Your details have been saved.", "success")
        return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form, pending=pending)


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's password; other sessions end, this one carries on. Someone who joined
    with their NHS account has none: the page says so instead."""
    if not current_user.password_hash:
        return render_template("accounts/no_password.html",
                               may_set=services.may_set_password(current_user))
    form = ChangePasswordForm()
    if submit(form, lambda: services.change_password(
            current_user, form.current_password.data, form.password.data, form.confirm.data,
            form.revoke_tokens.data)):
        # Re-issue this browser's session at the new version.
        login_user(current_user._get_current_object())
        flash("Your password has been changed.", "success")
        return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/profile/two-step-verification", methods=["GET", "POST"])
@login_required
def two_factor():
    """Whether two-step verification is on; turning it off (with the password)."""
    form = TwoFactorOffForm()
    if submit(form, lambda: two_step.turn_off_two_factor(current_user, form.password.data)):
        login_user(current_user._get_current_object())  # this browser carries on
        flash("Two-step verification is off.", "success")
        return redirect(url_for("accounts.two_factor"))
    left = two_step.recovery_codes_left(current_user) if current_user.has_two_factor else 0
    return render_template("accounts/two_factor.html", form=form, codes_left=left)


@bp.route("/profile/two-step-verification/set-up", methods=["GET", "POST"])
@role_required(*two_step.ROLES_WITH_TWO_STEP)
def two_factor_set_up():
    """Scan a QR code into an authenticator app and confirm with a code from it."""
    if current_user.has_two_factor:
        return redirect(url_for("accounts.two_factor"))
    form = TwoFactorSetUpForm()
    secret = session.get("totp_set_up")
    if done := submit(form, lambda: two_step.turn_on_two_factor(
            current_user, secret or "", form.code.data)):
        codes = done.value
        session.pop("totp_set_up", None)
        login_user(current_user._get_current_object())
        mark_second_step_passed(current_user)
        return render_template("accounts/two_factor_codes.html", codes=codes)
    if not secret:
        secret = session["totp_set_up"] = two_step.new_totp_secret()
    uri = two_step.totp_uri(current_user, secret)
    return render_template("accounts/two_factor_set_up.html", form=form,
                           qr_svg=two_step.totp_qr_svg(uri),
                           key=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)))


@admin_bp.route("/users")
@role_required(Role.ADMIN)
def users():
    """Find people by name, email, role or organisation."""
    form = UserSearchForm(request.args)
    form.organisation_id.choices = _organisation_choices("Any organisation")
    page = max(form.page.data or 1, 1) if form.page.validate(form) else 1
    people, total = administration.find_users(form.q.data or "", form.role.data or "",
                                        form.organisation_id.data, page=page)
    return render_template("admin/users.html", form=form, people=people, total=total,
                           page=page, per_page=25)


@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@second_step_required
def user(user_id: int):
    """Change a person's roles and organisation."""
    person = services.get_user(user_id)
    form = UserAdminForm(obj=person, roles=sorted(person.roles))
    form.organisation_id.choices = _organisation_choices()
    if submit(form, lambda: administration.set_roles_and_organisation(
            current_user, person, set(form.roles.data or []), form.organisation_id.data)):
        flash(f"{person.full_name}'s roles and organisation have been saved.", "success")
        return redirect(url_for("admin.user", user_id=person.id))
    return render_template("admin/user.html", form=form, person=person)
