"""Places: booking and its answers, My learning, DSU lead nominations, faculty's people page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.accounts.models import Role
from lms.accounts.services import get_user
from lms.errors import DomainError
from lms.offerings import pages, policy, services
from lms.offerings import places as offering_places
from lms.offerings.booking_steps import booking_page
from lms.offerings.forms import MoveForm, PeopleSearchForm, ReasonForm, WaitlistMessageForm
from lms.web import (
    EmptyForm,
    attempt,
    next_page,
    offering_url,
    perform,
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


@bp.route("/enrolments/<int:id>/<any(withdraw, accept, decline, confirm):action>",
          methods=["POST"])
@login_required
def answer(id: int, action: str):
    """A learner withdraws, accepts an offer, declines, or confirms a nomination."""
    enrolment = services.get_enrolment(id)
    if enrolment.user_id != current_user.id:
        abort(404)
    back = next_page(offering_url(enrolment.offering))
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(LEARNER_ACTIONS[action], current_user, enrolment, done=DONE[action])
    return redirect(back)


@bp.route("/my-learning")
@login_required
def my_learning():
    """A person's bookings, requests, nominations and queue positions, with actions."""
    enrolments = pages.my_enrolments(current_user)
    current = [e for e in enrolments if e.is_active]
    past = [e for e in enrolments if not e.is_active]
    starts = pages.first_session_starts([e.offering_id for e in current])
    answers = {e.id: policy.answers(current_user, e) for e in current}
    return render_template("offerings/my_learning.html", current=current, past=past,
                           starts=starts, answers=answers, form=EmptyForm())


@bp.route("/nominations")
@role_required(Role.DSU_LEAD)
def nominations():
    """A DSU lead's cohorts taking nominations, with their ICS's quota use."""
    views = pages.nomination_offerings(current_user)
    return render_template("offerings/nominations.html", views=views)


@bp.route("/nominations/<int:id>", methods=["GET", "POST"])
@role_required(Role.DSU_LEAD)
def nominate(id: int):
    """Nominate people of one's own ICS to an offering."""
    offering = services.get_offering(id)
    if offering.booking_mode != "nomination" or not policy.can_see(current_user, offering):
        abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
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
    return render_template(
        "offerings/nominate.html", offering=offering, form=form, search=search,
        view=pages.quota_view(current_user, offering),
        people=pages.nominable_people(current_user, offering, search.q.data or ""),
    )


@bp.route("/nominations/enrolments/<int:id>/withdraw", methods=["POST"])
@role_required(Role.DSU_LEAD)
def withdraw_nomination(id: int):
    """A DSU lead withdraws a nomination of someone in their ICS."""
    enrolment = services.get_enrolment(id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(services.withdraw, current_user, enrolment,
            done=f"The nomination of {enrolment.user.full_name} has been withdrawn.")
    return redirect(url_for("offerings.nominate", id=enrolment.offering_id))


@bp.route("/faculty/offerings/<int:id>/people")
@role_required(Role.FACULTY, Role.ADMIN)
def people(id: int):
    """Faculty see everyone on an offering: requests, nominations, places, the queue."""
    offering = services.get_offering(id)
    return render_template(
        "offerings/people.html", offering=offering, groups=pages.people_on(offering),
        form=EmptyForm(), reason_form=ReasonForm(), move_form=MoveForm(),
        message_form=WaitlistMessageForm(), places_left=offering_places.places_left(offering),
    )


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
    """Email everyone on the waiting list."""
    offering = services.get_offering(id)
    form = WaitlistMessageForm()
    if not form.validate_on_submit():
        abort(400)
    done = submit(form, lambda: services.message_waitlist(current_user, offering,
                                                          form.subject.data, form.body.data))
    if done is None:
        return render_template(
            "offerings/people.html", offering=offering, groups=pages.people_on(offering),
            form=EmptyForm(), reason_form=ReasonForm(), move_form=MoveForm(),
            message_form=form, places_left=offering_places.places_left(offering),
        ), 200
    sent = done.value
    flash(f"Your message was sent to {sent} {'person' if sent == 1 else 'people'}.", "success")
    return redirect(url_for("offerings.people", id=id))
