"""The festival's pages: its programme, a person's agenda, booking and cancelling sessions and
answering offered places; and faculty's pages to build the festival and its programme.

Its routes are on the events blueprint (``views.bp``)."""

from __future__ import annotations

from dataclasses import asdict

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.clock import utcnow
from lms.events import festival as festivals
from lms.events import kept_festival, pages, session_bookings
from lms.events.forms import FestivalForm, FestivalSessionForm
from lms.events.models import Festival
from lms.events.session_policy import may_cancel_session_booking
from lms.events.views import (
    MANAGERS,
    bp,
    event_details_common,
    find_session,
    managed,
    speaker_data,
    speakers_from,
    submit_all,
    visible_event,
)
from lms.offerings import consequences, policy, waitlist
from lms.web import (
    ConfirmForm,
    EmptyForm,
    confirm_page,
    do_confirmed,
    next_page,
    perform,
    role_required,
)


@bp.route("/festivals/<int:id>")
def festival(id: int):
    """The festival programme: a timetable of days by tracks, with places and booking
    (kept in the page cache, ``lms.events.kept_festival``: what everyone sees once, each
    person's booking buttons apart)."""
    page = _kept_festival(id)
    return render_template("events/festival.html",
                           **kept_festival.for_viewer(current_user, page))


@bp.route("/festivals/<int:id>/agenda")
@login_required
def agenda(id: int):
    """A person's own festival sessions, with joining links and recordings (kept per
    person, ``lms.events.kept_festival``)."""
    page = _kept_festival(id)
    return render_template("events/agenda.html", event=page,
                           agenda_html=kept_festival.agenda_html(current_user, page))


def _kept_festival(id: int) -> kept_festival.FestivalPage:
    """The festival's kept page, or 404 if there is none or the person may not see it."""
    page = kept_festival.festival_page(id)
    if page is None or not policy.sees(current_user, page.public):
        abort(404)
    return page


@bp.route("/festival-sessions/<int:id>/book", methods=["POST"])
@login_required
def book_session(id: int):
    """Book a festival session, or join its waiting list when it is full."""
    session = find_session(id)
    if not isinstance(session.offering, Festival) or not policy.can_see(current_user,
                                                                          session.offering):
        abort(404)
    back = next_page(url_for("events.festival", id=session.offering_id))
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(session_bookings.book_session, current_user, session, done=lambda booking: (
        f"You are booked on “{session.title}”. We have emailed you an invitation "
        "for your calendar." if booking.state == "booked" else
        f"“{session.title}” is full. You are number {booking.waitlist_position} on "
        "its waiting list; if a place frees, we will email you to offer it."))
    return redirect(back)


@bp.route("/session-bookings/<int:id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_booking(id: int):
    """Cancel one's own festival session booking or leave its waiting list, asked first on
    the one confirmation page (what follows: ``lms.offerings.consequences``)."""
    booking = _own_booking(id)
    back = next_page(url_for("events.agenda", id=booking.session.offering_id))
    title, was_booked = booking.session.title, booking.state == "booked"
    return _confirmed(booking, back, consequences.of_cancelling_session_booking,
                      may_cancel_session_booking(booking.state, booking.session, utcnow()),
                      lambda: session_bookings.cancel_booking(current_user, booking),
                      f"Your booking for “{title}” is cancelled." if was_booked
                      else f"You have left the waiting list for “{title}”.")


def _own_booking(id: int):
    booking = session_bookings.get_booking(id)
    if booking.user_id != current_user.id:
        abort(404)
    return booking


def _confirmed(booking, back: str, confirmation, decision, action, done: str):
    """GET: the confirmation page, if the service would do it now (``decision``; else the
    reason why not); POST: do it."""
    form = ConfirmForm()
    if request.method == "GET":
        decision.enforce()
        return confirm_page(confirmation(booking, back), form)
    return do_confirmed(form, lambda: confirmation(booking, back), action, done=done,
                        back=back)


def _answer_offer(id: int, answer, done: str):
    """Accept a place offered at a festival session (one's own only)."""
    booking = _own_booking(id)
    back = next_page(url_for("events.agenda", id=booking.session.offering_id))
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(answer, current_user, booking, done=done.format(title=booking.session.title))
    return redirect(back)


@bp.route("/session-bookings/<int:id>/accept", methods=["POST"])
@login_required
def accept_session_offer(id: int):
    """Take a place offered at a festival session from its waiting list."""
    return _answer_offer(id, session_bookings.accept_session_offer,
                         "You are booked on “{title}”. We have emailed you an invitation for "
                         "your calendar.")


@bp.route("/session-bookings/<int:id>/decline", methods=["GET", "POST"])
@login_required
def decline_session_offer(id: int):
    """Say no to a place offered at a festival session (asked first); it goes to the next
    person waiting."""
    booking = _own_booking(id)
    back = next_page(url_for("events.agenda", id=booking.session.offering_id))
    return _confirmed(booking, back, consequences.of_declining_session_offer,
                      waitlist.may_decline_session_offer(booking),
                      lambda: session_bookings.decline_session_offer(current_user, booking),
                      f"You have declined the place at “{booking.session.title}”.")


def _festival_details(form: FestivalForm) -> festivals.FestivalDetails:
    return festivals.FestivalDetails(
        **event_details_common(form), first_day=form.first_day.data,
        last_day=form.last_day.data,
        tracks=list((form.tracks.data or "").splitlines()),
    )


def _festival_data(details: festivals.FestivalDetails) -> dict:
    data = asdict(details)
    data["tracks"] = "\n".join(details.tracks)
    return data


@bp.route("/faculty/festivals/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_festival():
    """Add a festival: its days and tracks; sessions come next."""
    form = FestivalForm(data={"status": "draft", "reminder_minutes": [1440, 60],
                                  "after_session_emails": True})
    done = submit_all(form, lambda: festivals.create_festival(current_user,
                                                          _festival_details(form)))
    if done:
        flash(f"“{done.value.title}” has been added. Now add its sessions.", "success")
        return redirect(url_for("events.edit_festival", id=done.value.id))
    return render_template("events/faculty/festival_form.html", form=form, event=None)


@bp.route("/faculty/festivals/<int:id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_festival(id: int):
    """Change a festival and see its sessions, with places booked."""
    event = managed(visible_event(id, Festival))
    form = FestivalForm(data=_festival_data(pages.festival_details(event)))
    done = submit_all(form, lambda: festivals.update_festival(current_user, event,
                                                          _festival_details(form)))
    if done:
        flash("The festival has been saved.", "success")
        return redirect(url_for("events.edit_festival", id=event.id))
    programme = pages.programme(event, current_user)
    return render_template("events/faculty/festival_form.html", form=form, event=event,
                           programme=programme)


def _session_form_choices(form: FestivalSessionForm, festival: Festival) -> None:
    form.track_id.choices = [("", "Choose a track"), *((str(t.id), t.name)
                                                      for t in festival.tracks)]


def _festival_session_details(form: FestivalSessionForm) -> festivals.FestivalSessionDetails:
    track = form.track_id.data
    return festivals.FestivalSessionDetails(
        track_id=int(track) if track and str(track).isdigit() else None,
        title=form.title.data or "", description=form.description.data or "",
        day=form.day.data, start=form.start.data, end=form.end.data,
        location=form.location.data or "", join_url=form.join_url.data or "",
        capacity=form.capacity.data, speakers=speakers_from(form),
    )


@bp.route("/faculty/festivals/<int:id>/sessions/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_festival_session(id: int):
    """Add a session to the programme, with its track, speakers and capacity."""
    event = managed(visible_event(id, Festival))
    form = FestivalSessionForm(data={"day": event.first_day})
    _session_form_choices(form, event)
    done = submit_all(form, lambda: festivals.add_festival_session(
        current_user, event, _festival_session_details(form)))
    if done:
        flash(f"“{done.value.title}” has been added to the programme.", "success")
        return redirect(url_for("events.edit_festival", id=event.id))
    return render_template("events/faculty/festival_session_form.html", form=form,
                           event=event, session=None)


@bp.route("/faculty/festival-sessions/<int:session_id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_festival_session(session_id: int):
    """Change a festival session; people booked are emailed if it moved."""
    session = find_session(session_id)
    event = managed(visible_event(session.offering_id, Festival))
    details = pages.festival_session_details(session)
    data = {**asdict(details), "track_id": str(details.track_id),
            **speaker_data(details.speakers)}
    form = FestivalSessionForm(data=data)
    _session_form_choices(form, event)
    done = submit_all(form, lambda: festivals.update_festival_session(
        current_user, session, _festival_session_details(form)))
    if done:
        flash("The session has been saved" + (f" and {done.value} people have been emailed."
                                              if done.value else "."), "success")
        return redirect(url_for("events.edit_festival", id=event.id))
    return render_template("events/faculty/festival_session_form.html", form=form,
                           event=event, session=session)
