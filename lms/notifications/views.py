"""A person's email preferences page (from their profile)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from lms.notifications import preferences
from lms.notifications.forms import EmailPreferencesForm
from lms.web import submit

bp = Blueprint("notifications", __name__)


@bp.route("/profile/email-preferences", methods=["GET", "POST"])
@login_required
def email_preferences():
    """Choose which reminders and news emails to get; emails about one's places always go."""
    form = EmailPreferencesForm()
    form.wanted.choices = [(str(k.kind), k.label) for k in preferences.KINDS]
    if submit(form, lambda: preferences.choose(current_user, form.wanted.data or [])):
        flash("Your email preferences have been saved.", "success")
        return redirect(url_for("notifications.email_preferences"))
    if not form.is_submitted():
        off = preferences.switched_off(current_user)
        form.wanted.data = [str(k.kind) for k in preferences.KINDS if str(k.kind) not in off]
    return render_template("accounts/email_preferences.html", form=form,
                           kinds=preferences.KINDS, always=preferences.ALWAYS_SENT)
