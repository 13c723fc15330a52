"""Pages for people's own API tokens, reached from their profile: create (the token is shown
once) and revoke. Someone else's token answers 404."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from lms.api import services
from lms.api.forms import NewTokenForm
from lms.extensions import db
from lms.web import EmptyForm, submit

bp = Blueprint("api_tokens", __name__, url_prefix="/profile/api-tokens")


def _page(form: NewTokenForm, new: services.NewToken | None = None, status: int = 200):
    body = render_template("api/tokens.html", form=form, new=new, revoke_form=EmptyForm(),
                           tokens=services.tokens_of(current_user),
                           limit=services.MAX_LIVE_TOKENS)
    # A page showing a token must never be kept by a browser or a proxy.
    return body, status, {"Cache-Control": "no-store"}


@bp.route("", methods=["GET", "POST"])
@login_required
def tokens():
    """A person's API tokens, and a form to create one."""
    form = NewTokenForm()
    if done := submit(form, lambda: services.create_token(current_user, form.name.data,
                                                          form.scope.data, form.days.data)):
        # Shown here, once, rather than after a redirect: the secret never goes into the
        # session cookie.
        return _page(NewTokenForm(formdata=None), done.value)
    return _page(form)


@bp.route("/<int(max=2147483647):token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    """Stop one of one's own tokens working."""
    token = services.get_own_token(current_user, token_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.revoke_token(current_user, token)
    db.session.commit()
    flash(f"The token “{token.name}” has been revoked. It no longer works.", "success")
    return redirect(url_for("api_tokens.tokens"))
