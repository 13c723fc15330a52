"""Signing in with an NHS account: off to the identity provider and back, linking an
existing account, a new person's organisation, signing out of the provider too; and the
admin's SSO-only email domains."""

from __future__ import annotations

import time

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from lms.accounts import services as accounts
from lms.accounts import sso_domains
from lms.accounts.models import Role
from lms.errors import DomainError, NotFound
from lms.security import ISSUER_SIGN_OUT, begin_session, second_step_required
from lms.sso import issuers, services
from lms.sso.forms import DomainForm, JoinForm, LinkForm
from lms.web import EmptyForm, absolute_url, attempt, local_path, perform, role_required, submit

bp = Blueprint("sso", __name__)
REQUEST_KEY, PENDING_KEY = "sso_request", "sso_pending"
# How long a checked sign-in waits for its linking or its organisation (longer than the
# emailed link's 30 minutes, so the link outlives neither).
PENDING_SECONDS = 60 * 60


def _issuer(name: str) -> issuers.Issuer:
    issuer = issuers.issuer_named(name)
    if issuer is None:
        raise NotFound("No such way to sign in")
    return issuer


def _callback_url(issuer: issuers.Issuer) -> str:
    return absolute_url(url_for("sso.callback", name=issuer.name))


def _refused(error: DomainError):
    flash(error.message, "error")
    return redirect(url_for("accounts.sign_in"))


@bp.route("/sign-in/nhs/<name>")
def start(name: str):
    """Send the browser to the identity provider, remembering this request."""
    issuer = _issuer(name)
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    next_url = local_path(request.args.get("next"), url_for("home.index"))
    outcome = attempt(issuers.authorisation_request, issuer, _callback_url(issuer))
    if isinstance(outcome, DomainError):
        return _refused(outcome)
    url, pending = outcome.value
    session[REQUEST_KEY] = {**pending, "next": next_url}
    return redirect(url)


@bp.route("/sign-in/nhs/<name>/callback")
def callback(name: str):
    """The identity provider's answer: check it, then sign in, link or join."""
    issuer = _issuer(name)
    pending = session.pop(REQUEST_KEY, None) or {}  # one answer per request: replays fail
    outcome = attempt(issuers.complete, issuer, pending, request.args.to_dict(),
                      _callback_url(issuer))
    if isinstance(outcome, DomainError):
        return _refused(outcome)
    claims = outcome.value
    found = attempt(services.recognise, issuer, claims)
    if isinstance(found, DomainError):
        return _refused(found)
    next_url = local_path(pending.get("next"), url_for("home.index"))
    if found.value.kind == "signed_in":
        return _sign_in(found.value.user, issuer, claims.multi_factor, claims.id_token,
                        next_url)
    session[PENDING_KEY] = {"issuer": issuer.name, "subject": claims.subject,
                            "email": claims.email, "name": claims.name,
                            "mfa": claims.multi_factor, "id_token": claims.id_token,
                            "next": next_url, "since": int(time.time())}
    if found.value.kind == "link":
        return redirect(url_for("sso.link"))
    return redirect(url_for("sso.join"))


def _sign_in(user, issuer: issuers.Issuer, multi_factor: bool, id_token: str, next_url: str):
    """A fresh session for ``user``; those with an authenticator app whose provider did not
    assert multi-factor authentication give a code from it next (the password sign-in's
    second step)."""
    sign_out = {"issuer": issuer.name, "id_token": id_token}
    if user.has_two_factor and not multi_factor:
        session.clear()
        session["second_factor"] = {"user": user.get_id(), "since": int(time.time()),
                                    "next": next_url, "issuer_sign_out": sign_out}
        return redirect(url_for("accounts.sign_in_code"))
    begin_session(user, second_step=multi_factor, by_issuer=multi_factor)
    session[ISSUER_SIGN_OUT] = sign_out
    return redirect(next_url)


def _pending() -> tuple[dict, issuers.Issuer] | None:
    pending = session.get(PENDING_KEY) or {}
    issuer = issuers.issuer_named(pending.get("issuer", ""))
    if issuer is None or int(time.time()) - int(pending.get("since", 0)) > PENDING_SECONDS:
        return None
    return pending, issuer


@bp.route("/sign-in/nhs/link", methods=["GET", "POST"])
def link():
    """An account has the address the provider vouched for: the person proves it is theirs
    with its password, then the two are linked."""
    found = _pending()
    user = accounts.get_user_by_email(found[0]["email"]) if found else None
    if found is None or user is None:
        session.pop(PENDING_KEY, None)
        flash("Sign in again to carry on.", "info")
        return redirect(url_for("accounts.sign_in"))
    pending, issuer = found
    address = request.remote_addr or "unknown"
    form = LinkForm()
    if submit(form, lambda: services.link_with_password(
            user, issuer, pending["subject"], form.password.data, address),
            on_refusal=lambda error: accounts.record_failed_sign_in(user.email, address)):
        flash(f"Your {issuer.label} account is linked. From now on, sign in with it.",
              "success")
        return _sign_in(user, issuer, pending["mfa"], pending["id_token"], pending["next"])
    return render_template("sso/link.html", form=form, issuer=issuer, email=user.email,
                           by_email=EmptyForm(), has_password=bool(user.password_hash))


@bp.route("/sign-in/nhs/link/email", methods=["POST"])
def email_link():
    """Prove the account is theirs by email instead (no password, or an SSO-only domain)."""
    found = _pending()
    user = accounts.get_user_by_email(found[0]["email"]) if found else None
    if found is None or user is None or not EmptyForm().validate_on_submit():
        return redirect(url_for("sso.link"))
    pending, issuer = found
    sent = attempt(services.email_link, user, issuer, pending["subject"],
                   request.remote_addr or "unknown")
    if isinstance(sent, DomainError):
        flash(sent.message, "error")
        return redirect(url_for("sso.link"))
    return render_template("sso/link_sent.html", issuer=issuer, email=user.email,
                           minutes=services.LINK_EMAIL_MINUTES)


@bp.route("/sign-in/nhs/link/<token>", methods=["GET", "POST"])
def link_by_email(token: str):
    """The emailed link: a button (so mail scanners following links link nothing)."""
    found = _pending()
    if found is None:
        return render_template("sso/link_not_valid.html", message=(
            "This link works only in the browser that asked for it, within "
            f"{services.LINK_EMAIL_MINUTES} minutes. Sign in with your NHS account again.")), 400
    pending, issuer = found
    form = EmptyForm()
    if form.validate_on_submit():
        outcome = attempt(services.link_by_email, token, issuer, pending["subject"],
                          pending["email"])
        if isinstance(outcome, DomainError):
            return render_template("sso/link_not_valid.html",
                                   message=outcome.message), 400
        flash(f"Your {issuer.label} account is linked. From now on, sign in with it.",
              "success")
        return _sign_in(outcome.value, issuer, pending["mfa"], pending["id_token"],
                        pending["next"])
    return render_template("sso/link_confirm.html", form=form, issuer=issuer)


@bp.route("/sign-in/nhs/join", methods=["GET", "POST"])
def join():
    """A new person: their name as the provider gave it, and the organisation they choose."""
    found = _pending()
    if found is None:
        session.pop(PENDING_KEY, None)
        flash("Sign in again to carry on.", "info")
        return redirect(url_for("accounts.sign_in"))
    pending, issuer = found
    form = JoinForm(data={"full_name": pending["name"]} if request.method == "GET" else None)
    form.organisation_id.choices = [("", "Select your organisation")] + [
        (o.id, o.name) for o in accounts.organisations()]
    if done := submit(form, lambda: services.join(
            issuer, pending["subject"], pending["email"], form.full_name.data,
            form.organisation_id.data)):
        flash("Your account is ready.", "success")
        return _sign_in(done.value, issuer, pending["mfa"], pending["id_token"],
                        pending["next"])
    return render_template("sso/join.html", form=form, issuer=issuer, email=pending["email"])


@bp.route("/signed-out")
def signed_out():
    """After signing out here: the provider's own sign-out, if it has one."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    offer = session.get(ISSUER_SIGN_OUT) or {}
    issuer = issuers.issuer_named(offer.get("issuer", ""))
    url = issuers.end_session_url(issuer, offer.get("id_token"),
                                  absolute_url(url_for("home.index"))) if issuer else None
    return render_template("sso/signed_out.html", issuer=issuer, url=url)


@bp.route("/admin/sso-domains", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@second_step_required
def domains():
    """Email domains whose people must sign in with their NHS account."""
    form = DomainForm()
    if done := submit(form, lambda: sso_domains.require_sso(form.domain.data)):
        flash(f"People with an {done.value.domain} address now sign in only with their NHS "
              "account.", "success")
        return redirect(url_for("sso.domains"))
    return render_template("sso/domains.html", form=form, remove=EmptyForm(),
                           domains=sso_domains.sso_only_domains(),
                           issuers=issuers.configured())


@bp.route("/admin/sso-domains/<int:domain_id>/remove", methods=["POST"])
@role_required(Role.ADMIN)
@second_step_required
def remove_domain(domain_id: int):
    """Let a domain's people use passwords again."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(sso_domains.allow_passwords, domain_id,
            done=lambda domain: f"People with an {domain} address may use passwords again.")
    return redirect(url_for("sso.domains"))
