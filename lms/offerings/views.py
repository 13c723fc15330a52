"""Places: booking and its answers, My learning, DSU lead nominations, faculty's people page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.accounts.models import Role
from lms.accounts.services import get_user
from lms.errors import DomainError
from lms.messages import services as messages
from lms.messages.models import Audience
from lms.offerings import (
    consequences,
    kept_learning,
    kept_nominations,
    kept_people,
    policy,
    services,
)
from lms.offerings.booking_steps import booking_page
from lms.offerings.forms import MoveForm, PeopleSearchForm, ReasonForm, WaitlistMessageForm
from lms.web import (
    ConfirmForm,
    EmptyForm,
    attempt,
    confirm_page,
    do_confirmed,
    next_page,
    offering_url,
    page_number,
    perform,
    reason_given,
    role_required,
    submit,
)

bp = Blueprint("offerings", __name__)


LEARNER_ACTIONS = {
    "withdraw": services.withdraw,
    "accept": services.accept_offer,
    "decline": services.decline,
    "confirm": services.confirm_nomination,
}
DONE = {
    "withdraw": "You have withdrawn.",
    "accept": "You have accepted the place.",
    "decline": "You have declined.",
    "confirm": "You have confirmed your place.",
}


@bp.route("/offerings/<int:id>/book", methods=["POST"])
@login_required
def book(id: int):
    """Book a place, ask for one, or join the waiting list."""
    offering = services.get_offering(id)
    back = next_page(offering_url(offering))
    if not EmptyForm().validate_on_submit():
        abort(400)
    questions = booking_page(current_user, offering)
    if questions:
        return redirect(questions)
    perform(services.book, current_user, offering,
            done=lambda enrolment: enrolment.state_label + ". We have sent you an email.")
    return redirect(back)


# Giving up a place asks first, on the one confirmation page (lms.web.confirm_page), saying
# what follows (lms.offerings.consequences).
CONFIRM_FIRST = {"withdraw": consequences.of_withdrawing, "decline": consequences.of_declining}


@bp.route("/enrolments/<int:id>/<any(withdraw, accept, decline, confirm):action>",
          methods=["GET", "POST"])
@login_required
def answer(id: int, action: str):
    """A learner withdraws, accepts an offer, declines, or confirms a nomination; withdrawing
    and declining are asked on a confirmation page first (GET), with a reason where the
    place was a nomination."""
    enrolment = services.get_enrolment(id)
    if enrolment.user_id != current_user.id:
        abort(404)
    back = next_page(offering_url(enrolment.offering))
    if action in CONFIRM_FIRST:
        form = ConfirmForm()
        if request.method == "GET":
            policy.may_answer(action, current_user, enrolment).enforce()
            return confirm_page(CONFIRM_FIRST[action](enrolment, back), form)
        return do_confirmed(
            form, lambda: CONFIRM_FIRST[action](enrolment, back),
            lambda: LEARNER_ACTIONS[action](current_user, enrolment, reason_given(form)),
            done=DONE[action], back=back)
    if request.method == "GET" or not EmptyForm().validate_on_submit():
        abort(400)
    perform(LEARNER_ACTIONS[action], current_user, enrolment, done=DONE[action])
    return redirect(back)


@bp.route("/my-learning")
@login_required
def my_learning():
    """A person's places, grouped: action needed, upcoming, in progress, finished; kept for
    them in the page cache (``lms.offerings.kept_learning``)."""
    return render_template("offerings/my_learning.html",
                           body=kept_learning.my_learning_page(current_user))


@bp.route("/nominations")
@role_required(Role.DSU_LEAD)
def nominations():
    """A DSU lead's cohorts taking nominations, with their ICS's quota use."""
    return render_template("offerings/nominations.html",
                           body=kept_nominations.nominations_page(current_user))


@bp.route("/nominations/<int:id>", methods=["GET", "POST"])
@role_required(Role.DSU_LEAD)
def nominate(id: int):
    """Nominate people of one's own ICS to an offering; the page is kept for the lead's ICS
    (``lms.offerings.kept_nominations``)."""
    form = EmptyForm()
    if form.validate_on_submit():
        offering = kept_nominations.offering_to_nominate(current_user, id, whole=True)
        try:
            person_id = int(request.form.get("person_id", "0") or 0)
        except ValueError:
            abort(404)
        person = get_user(person_id)
        # Someone outside one's ICS is not offered, so nominating them is a 403 (not a message).
        outcome = attempt(services.nominate, current_user, offering, person)
        if isinstance(outcome, DomainError):
            flash(outcome.message, "error")
        else:
            flash(f"{person.full_name} has been nominated.", "success")
        return redirect(url_for("offerings.nominate", id=id))
    search = PeopleSearchForm(request.args)
    page = kept_nominations.nominate_page(current_user, id, search.q.data or "")
    return render_template("offerings/nominate.html", offering=page.offering, page=page)


@bp.route("/nominations/enrolments/<int:id>/withdraw", methods=["GET", "POST"])
@role_required(Role.DSU_LEAD)
def withdraw_nomination(id: int):
    """A DSU lead withdraws a nomination of someone in their ICS, saying why (asked on the
    confirmation page)."""
    enrolment = services.get_enrolment(id)
    back = url_for("offerings.nominate", id=enrolment.offering_id)
    form = ConfirmForm()
    if request.method == "GET":
        policy.may_withdraw(current_user, enrolment).enforce()
        return confirm_page(consequences.of_withdrawing_nomination(enrolment, back), form)
    return do_confirmed(
        form, lambda: consequences.of_withdrawing_nomination(enrolment, back),
        lambda: services.withdraw(current_user, enrolment, reason_given(form)),
        done=f"The nomination of {enrolment.user.full_name} has been withdrawn.", back=back)


@bp.route("/faculty/offerings/<int:id>/people")
@role_required(Role.FACULTY, Role.ADMIN)
def people(id: int):
    """Faculty see everyone on an offering: requests, nominations, places, the queue; kept
    (``lms.offerings.kept_people``)."""
    page = kept_people.people_page(id, page_number(request.args.get("page")),
                                   page_number(request.args.get("history")),
                                   all_sessions=request.args.get("sessions") == "all")
    return render_template("offerings/people.html", page=page,
                           message_form=WaitlistMessageForm(formdata=None))


@bp.route("/faculty/enrolments/<int:id>/approve", methods=["POST"])
@role_required(Role.FACULTY, Role.ADMIN)
def approve(id: int):
    """Approve a request or a nomination."""
    enrolment = services.get_enrolment(id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(services.approve, current_user, enrolment,
            done=lambda _: f"Approved: {enrolment.user.full_name} ({enrolment.state_label}).")
    return redirect(url_for("offerings.people", id=enrolment.offering_id))


@bp.route("/faculty/enrolments/<int:id>/reject", methods=["POST"])
@role_required(Role.FACULTY, Role.ADMIN)
def reject(id: int):
    """Decline a request or a nomination, with a reason."""
    enrolment = services.get_enrolment(id)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    perform(services.reject, current_user, enrolment, form.reason.data,
            done=f"Declined: {enrolment.user.full_name}.")
    return redirect(url_for("offerings.people", id=enrolment.offering_id))


@bp.route("/faculty/enrolments/<int:id>/move", methods=["POST"])
@role_required(Role.FACULTY, Role.ADMIN)
def move(id: int):
    """Move someone in the waiting list, with a reason."""
    enrolment = services.get_enrolment(id)
    form = MoveForm()
    if not form.validate_on_submit():
        flash("Enter the new position as a number", "error")
        return redirect(url_for("offerings.people", id=enrolment.offering_id))
    perform(services.move_in_waitlist, current_user, enrolment, form.position.data,
            form.reason.data,
            done=f"{enrolment.user.full_name} is now number {form.position.data}.")
    return redirect(url_for("offerings.people", id=enrolment.offering_id))


@bp.route("/faculty/offerings/<int:id>/message-waitlist", methods=["POST"])
@role_required(Role.FACULTY, Role.ADMIN)
def message_waitlist(id: int):
    """Email everyone on the waiting list (kept with the offering's messages)."""
    offering = services.get_offering(id)
    form = WaitlistMessageForm()
    if not form.validate_on_submit():
        abort(400)
    done = submit(form, lambda: messages.send(current_user, offering, Audience.WAITLIST, None,
                                              form.subject.data, form.body.data))
    if done is None:
        return render_template("offerings/people.html", message_form=form,
                               page=kept_people.people_page_with(offering, form)), 200
    sent = done.value.recipient_count
    flash(f"Your message was sent to {sent} {'person' if sent == 1 else 'people'}.", "success")
    return redirect(url_for("offerings.people", id=id))
