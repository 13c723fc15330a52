"""Faculty write to the people of an offering: the form, a preview, sending, what was sent."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.accounts.models import Role
from lms.messages import kept, pages, services
from lms.messages.forms import MessageForm
from lms.offerings.services import get_offering
from lms.web import role_required, submit

bp = Blueprint("messages", __name__)


@bp.route("/faculty/offerings/<int:id>/messages", methods=["GET", "POST"])
@role_required(Role.FACULTY, Role.ADMIN)
def messages(id: int):
    """Write a message (preview first: how many it reaches), send it, see what was sent."""
    page = kept.messages_page(id)
    form = MessageForm()
    pages.fill_choices(form, page.sessions)
    if request.method == "GET" and request.args.get("audience"):
        form.audience.data = request.args["audience"]
    reach = None
    if request.method == "POST":
        offering = get_offering(id)
        values = (form.audience.data, form.session_id.data, form.subject.data, form.body.data)
        if request.form.get("action") == "send":
            done = submit(form, lambda: services.send(current_user, offering, *values))
            if done is not None:
                sent = done.value.recipient_count
                flash(f"Your message was sent to {sent} "
                      f"{'person' if sent == 1 else 'people'}.", "success")
                return redirect(url_for("messages.messages", id=id))
        else:
            done = submit(form, lambda: services.preview(current_user, offering, *values))
            reach = done.value if done is not None else None
    return render_template("messages/messages.html", page=page, form=form, reach=reach)
