"""Event pages: the events list, webinar, network and festival pages, the personal agenda,
calendar downloads and the personal feed, and faculty's pages to build and run events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from lms.accounts.models import Role
from lms.clock import utcnow
from lms.events import calendars, services
from lms.events.forms import (
    CancelForm,
    EventFilterForm,
    FestivalForm,
    FestivalSessionForm,
    NetworkForm,
    OccurrenceForm,
    RecordingForm,
    WebinarForm,
)
from lms.events.models import Festival, NetworkSeries, Webinar
from lms.events.recurrence import RuleInput
from lms.extensions import db
from lms.offerings import calendar, policy
from lms.offerings import services as engine
from lms.offerings.models import Offering
from lms.web import (
    Done,
    EmptyForm,
    perform,
    role_required,
    submit,
)

bp = Blueprint("events", __name__)
MANAGERS = (Role.FACULTY, Role.ADMIN)


@bp.context_processor
def labels() -> dict:
    return {"status_labels": services.STATUS_LABELS, "now": utcnow()}


# ---------------------------------------------------------------------------- helpers


def _submit(form: FlaskForm, action: Callable[[], Any]) -> Done | None:
    """Forms here show every problem at once, unreadable boxes included (``web.submit``)."""
    return submit(form, action, every_problem_at_once=True)


def _event(event_id: int, kind: type[Offering] | None = None) -> Offering:
    event = services.get_event(event_id, kind)
    if not policy.can_see(current_user, event):
        abort(404)
    return event


def _session(session_id: int):
    return services.get_session(session_id)


def _managed(offering: Offering) -> Offering:
    if not services.can_manage(current_user, offering):
        abort(403)
    return offering


def _post_back(default: str) -> str:
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _speakers_from(form) -> list[services.SpeakerDetails]:
    return [services.SpeakerDetails(
        getattr(form, f"speaker{i}_name").data or "", getattr(form, f"speaker{i}_role").data
        or "", getattr(form, f"speaker{i}_organisation").data or "",
        getattr(form, f"speaker{i}_bio").data or "") for i in range(services.MAX_SPEAKERS)]


def _speaker_data(speakers: list[services.SpeakerDetails]) -> dict:
    data = {}
    for i, s in enumerate(speakers):
        data.update({f"speaker{i}_name": s.name, f"speaker{i}_role": s.role,
                     f"speaker{i}_organisation": s.organisation, f"speaker{i}_bio": s.bio})
    return data


def _manage_url(event: Offering) -> str:
    """Faculty's page for an event."""
    endpoint = {"webinar": "events.edit_webinar", "network": "events.edit_network",
                "festival": "events.edit_festival"}.get(event.kind, "events.manage")
    return url_for(endpoint, id=event.id) if endpoint != "events.manage" else url_for(endpoint)


def _ics(content: bytes, filename: str) -> Response:
    return Response(content, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ---------------------------------------------------------------------------- public pages


@bp.route("/events")
def index():
    """Webinars, networks and festivals still to come (or, on request, past ones too)."""
    form = EventFilterForm(request.args)
    kind = form.kind.data if form.kind.data in services.EVENT_KINDS else None
    past = request.args.get("past") == "1"
    listings = services.events_list(current_user, kind, include_past=past)
    return render_template("events/index.html", form=form, listings=listings, past=past,
                           kind=kind)


def _place(offering: Offering) -> dict:
    panel = engine.booking_panel(current_user, offering)
    has_place = calendar.has_confirmed_place(current_user, offering)
    can_manage = services.can_manage(current_user, offering)
    return {"panel": panel, "has_place": has_place, "can_manage": can_manage,
            "show_join_links": has_place or can_manage}


@bp.route("/webinars/<int:id>")
def webinar(id: int):
    """A webinar: when, who is speaking, and booking; the joining link for people booked."""
    event = _event(id, Webinar)
    session = event.session
    speakers = services.speakers_by_session([session.id])[session.id] if session else []
    recordings = services.recordings_for([session.id]) if session else {}
    return render_template("events/webinar.html", event=event, session=session,
                           speakers=speakers, recording=recordings.get(getattr(session, "id",
                                                                                  None)),
                           **_place(event))


@bp.route("/networks/<int:id>")
def network(id: int):
    """A network: its meetings to come, with topics and presenters; joining and leaving."""
    event = _event(id, NetworkSeries)
    page = services.network_page(event)
    return render_template("events/network.html", event=event, page=page,
                           rule=services.rule_of(event), **_place(event))


@bp.route("/festivals/<int:id>")
def festival(id: int):
    """The festival programme: a timetable of days by tracks, with places and booking."""
    event = _event(id, Festival)
    programme = services.programme(event, current_user)
    return render_template("events/festival.html", event=event, programme=programme,
                           form=EmptyForm(), **_place(event))


@bp.route("/festivals/<int:id>/agenda")
@login_required
def agenda(id: int):
    """A person's own festival sessions, with joining links and recordings."""
    event = _event(id, Festival)
    items = services.agenda(current_user, event)
    return render_template("events/agenda.html", event=event, items=items, form=EmptyForm(),
                           registered=calendar.has_confirmed_place(current_user, event))


@bp.route("/festival-sessions/<int:id>/book", methods=["POST"])
@login_required
def book_session(id: int):
    """Book a festival session, or join its waiting list when it is full."""
    session = _session(id)
    if not isinstance(session.offering, Festival) or not policy.can_see(current_user,
                                                                          session.offering):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(services.book_session, current_user, session, done=lambda booking: (
        f"You are booked on “{session.title}”. We have emailed you an invitation "
        "for your calendar." if booking.state == "booked" else
        f"“{session.title}” is full. You are number {booking.waitlist_position} on "
        "its waiting list; if a place frees, we will email you to offer it."))
    return redirect(_post_back(url_for("events.festival", id=session.offering_id)))


@bp.route("/session-bookings/<int:id>/cancel", methods=["POST"])
@login_required
def cancel_booking(id: int):
    """Cancel one's own festival session booking or leave its waiting list."""
    booking = services.get_booking(id)
    if booking.user_id != current_user.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    title, was_booked = booking.session.title, booking.state == "booked"
    perform(services.cancel_booking, current_user, booking,
            done=f"Your booking for “{title}” is cancelled." if was_booked
            else f"You have left the waiting list for “{title}”.")
    return redirect(_post_back(url_for("events.agenda", id=booking.session.offering_id)))


def _answer_offer(id: int, answer, done: str):
    """Accept or decline a place offered at a festival session (one's own only)."""
    booking = services.get_booking(id)
    if booking.user_id != current_user.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(answer, current_user, booking, done=done.format(title=booking.session.title))
    return redirect(_post_back(url_for("events.agenda", id=booking.session.offering_id)))


@bp.route("/session-bookings/<int:id>/accept", methods=["POST"])
@login_required
def accept_session_offer(id: int):
    """Take a place offered at a festival session from its waiting list."""
    return _answer_offer(id, services.accept_session_offer,
                         "You are booked on “{title}”. We have emailed you an invitation for "
                         "your calendar.")


@bp.route("/session-bookings/<int:id>/decline", methods=["POST"])
@login_required
def decline_session_offer(id: int):
    """Say no to a place offered at a festival session; it goes to the next person."""
    return _answer_offer(id, services.decline_session_offer,
                         "You have declined the place at “{title}”.")


# ---------------------------------------------------------------------------- calendars


@bp.route("/sessions/<int:id>/calendar.ics")
def session_ics(id: int):
    """One session for a calendar; the joining link only for people with a place."""
    session = _session(id)
    offering = session.offering
    if not policy.can_see(current_user, offering):
        abort(404)
    content = calendar.offering_calendar(offering, current_user, [session],
                                         engine.can_manage(current_user, offering))
    return _ics(content, f"session-{session.id}.ics")


@bp.route("/offerings/<int:id>/calendar.ics")
def offering_ics(id: int):
    """Every session of a cohort or event for a calendar."""
    offering = engine.get_offering(id)
    if not policy.can_see(current_user, offering):
        abort(404)
    content = calendar.offering_calendar(offering, current_user, None,
                                         engine.can_manage(current_user, offering))
    return _ics(content, f"{calendars.file_name(offering.title)}.ics")


def _calendar_page(addresses: calendars.FeedAddresses | None = None, reset: bool = False):
    body = render_template("events/calendar.html", form=EmptyForm(), addresses=addresses,
                           has_address=addresses is not None
                           or calendars.has_address(current_user), reset=reset)
    # A page showing the secret address must never be kept by a browser or a proxy.
    return body, 200, {"Cache-Control": "no-store"}


@bp.route("/calendar")
@login_required
def calendar_page():
    """Whether the person has a calendar subscription address, and a button to make or reset
    it (the address is shown once, when made: only its hash is kept)."""
    return _calendar_page()


@bp.route("/calendar/address", methods=["POST"])
@login_required
def new_feed_address():
    """Make the person's secret calendar address, or replace it (the old one stops at once),
    and show it, here, once: it never goes into the session cookie."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    had = calendars.has_address(current_user)
    token = calendars.new_token(current_user)
    db.session.commit()
    return _calendar_page(calendars.addresses(token), reset=had)


@bp.route("/calendar/feed/<token>.ics")
def feed(token: str):
    """A personal subscription feed, found by its secret. Conditional requests get 304
    without the feed being built, from one query while nothing in the offer changed."""
    found = calendars.feed_validator(token)
    if found is None:
        abort(404)
    owner_id, etag = found
    headers = {"Cache-Control": "private, max-age=0, must-revalidate",
               "X-Robots-Tag": "noindex"}
    if request.if_none_match.contains(etag):
        response = Response(status=304, headers=headers)
        response.set_etag(etag)
        return response

    def build() -> bytes:
        owner = calendars.owner_of(token)
        if owner is None:
            abort(404)
        return calendar.personal_feed(owner)

    response = Response(calendar.cached_personal_feed(owner_id, etag, build),
                        mimetype="text/calendar",
                        headers={**headers,
                                 "Content-Disposition": 'inline; filename="mdsn.ics"'})
    response.set_etag(etag)
    return response


# ---------------------------------------------------------------------------- faculty


@bp.route("/faculty/events")
@role_required(*MANAGERS)
def manage():
    """Every event, with links to change it."""
    return render_template("events/faculty/events.html", events=services.faculty_events())


def _event_details_common(form) -> dict:
    return {"title": form.title.data or "", "summary": form.summary.data or "",
            "description": form.description.data or "", "status": form.status.data,
            "capacity": form.capacity.data,
            "reminder_minutes": list(form.reminder_minutes.data or []),
            "after_session_emails": bool(form.after_session_emails.data)}


def _webinar_details(form: WebinarForm) -> services.WebinarDetails:
    return services.WebinarDetails(
        **_event_details_common(form),
        session=services.EventSessionDetails(form.day.data, form.start.data, form.end.data, "",
                                             form.location.data or "",
                                             form.join_url.data or ""),
        speakers=_speakers_from(form),
    )


@bp.route("/faculty/webinars/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_webinar():
    """Add a webinar: its one session and its speakers."""
    form = WebinarForm(data={"status": "draft", "reminder_minutes": [1440, 60],
                                  "after_session_emails": True})
    done = _submit(form, lambda: services.create_webinar(current_user, _webinar_details(form)))
    if done:
        flash(f"“{done.value.title}” has been added.", "success")
        return redirect(url_for("events.webinar", id=done.value.id))
    return render_template("events/faculty/webinar_form.html", form=form, event=None)


@bp.route("/faculty/webinars/<int:id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_webinar(id: int):
    """Change a webinar; people booked get an updated invitation if it moved."""
    event = _managed(_event(id, Webinar))
    details = services.webinar_details(event)
    data = {**asdict(details), **asdict(details.session), **_speaker_data(details.speakers)}
    form = WebinarForm(data=data)
    done = _submit(form, lambda: services.update_webinar(current_user, event,
                                                         _webinar_details(form)))
    if done:
        flash("The webinar has been saved" + (f" and {done.value} people have been emailed."
                                              if done.value else "."), "success")
        return redirect(url_for("events.webinar", id=event.id))
    return render_template("events/faculty/webinar_form.html", form=form, event=event)


def _network_details(form: NetworkForm) -> services.NetworkDetails:
    ordinal = form.ordinal.data
    return services.NetworkDetails(
        **_event_details_common(form), first_day=form.first_day.data,
        local_start=form.local_start.data, duration_minutes=form.duration_minutes.data,
        rule=RuleInput(form.frequency.data, form.interval.data, list(form.weekdays.data or []),
                       int(ordinal) if ordinal not in (None, "") else None, form.ends.data,
                       form.count.data, form.until.data),
        join_url=form.join_url.data or "", location=form.location.data or "",
    )


def _network_data(details: services.NetworkDetails) -> dict:
    data = asdict(details)
    rule = data.pop("rule")
    data.update(rule)
    data["ordinal"] = str(rule["ordinal"]) if rule["ordinal"] is not None else ""
    return data


@bp.route("/faculty/networks/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_network():
    """Add a network series from a recurrence rule; each meeting becomes a session."""
    form = NetworkForm(data={"status": "draft", "reminder_minutes": [1440, 60],
                             "after_session_emails": True, "frequency": "WEEKLY",
                             "interval": 2, "ends": "count", "duration_minutes": 60})
    done = _submit(form, lambda: services.create_network(current_user,
                                                         _network_details(form)))
    if done:
        flash(f"“{done.value.title}” has been added with {len(done.value.sessions)} meetings.",
              "success")
        return redirect(url_for("events.edit_network", id=done.value.id))
    return render_template("events/faculty/network_form.html", form=form, event=None)


@bp.route("/faculty/networks/<int:id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_network(id: int):
    """Change a series (meetings to come follow the new rule) and see its meetings."""
    event = _managed(_event(id, NetworkSeries))
    form = NetworkForm(data=_network_data(services.network_details(event)))
    done = _submit(form, lambda: services.update_network(current_user, event,
                                                         _network_details(form)))
    if done:
        change = done.value
        flash(f"The network has been saved: {len(change.added)} meetings added, "
              f"{len(change.moved)} changed, {len(change.cancelled)} cancelled"
              + (f"; {change.emailed} members emailed." if change.emailed else "."), "success")
        return redirect(url_for("events.edit_network", id=event.id))
    return render_template("events/faculty/network_form.html", form=form, event=event,
                           rule=services.rule_of(event),
                           presenters=services.presenters([s.id for s in event.sessions]))


@bp.route("/faculty/network-meetings/<int:session_id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_occurrence(session_id: int):
    """One meeting: its topic and presenter, or move it without touching the others."""
    session = _session(session_id)
    event = _managed(_event(session.offering_id, NetworkSeries))
    details = services.occurrence_details(session)
    form = OccurrenceForm(data=asdict(details))
    done = _submit(form, lambda: services.update_occurrence(current_user, session,
                                                            services.OccurrenceDetails(
        topic=form.topic.data or "", presenter=form.presenter.data or "",
        day=form.day.data, start=form.start.data, end=form.end.data,
        location=form.location.data or "", join_url=form.join_url.data or "")))
    if done:
        flash("The meeting has been saved" + (f" and {done.value} members have been emailed."
                                              if done.value else "."), "success")
        return redirect(url_for("events.edit_network", id=event.id))
    return render_template("events/faculty/occurrence_form.html", form=form, event=event,
                           session=session)


@bp.route("/faculty/event-sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@role_required(*MANAGERS)
def cancel_session(session_id: int):
    """Cancel one network meeting or festival session, saying why."""
    session = _session(session_id)
    event = _managed(_event(session.offering_id))
    if isinstance(event, Webinar):
        return redirect(url_for("events.cancel_event", id=event.id))
    form = CancelForm()
    done = _submit(form, lambda: services.cancel_event_session(session, current_user,
                                                               form.reason.data))
    if done:
        flash(f"The session has been cancelled and {done.value} "
              f"{'person has' if done.value == 1 else 'people have'} been emailed.", "success")
        return redirect(_manage_url(event))
    return render_template("events/faculty/cancel_session.html", form=form, event=event,
                           session=session, back=_manage_url(event))


@bp.route("/faculty/events/<int:id>/cancel", methods=["GET", "POST"])
@role_required(*MANAGERS)
def cancel_event(id: int):
    """Cancel a whole event; everyone with a place is told why."""
    event = _managed(_event(id))
    form = CancelForm()
    done = _submit(form, lambda: services.cancel_event(current_user, event, form.reason.data))
    if done:
        flash(f"“{event.title}” has been cancelled and {done.value} "
              f"{'person has' if done.value == 1 else 'people have'} been told.", "success")
        return redirect(_manage_url(event))
    return render_template("events/faculty/cancel_event.html", form=form, event=event,
                           back=_manage_url(event))


def _festival_details(form: FestivalForm) -> services.FestivalDetails:
    return services.FestivalDetails(
        **_event_details_common(form), first_day=form.first_day.data,
        last_day=form.last_day.data,
        tracks=list((form.tracks.data or "").splitlines()),
    )


def _festival_data(details: services.FestivalDetails) -> dict:
    data = asdict(details)
    data["tracks"] = "\n".join(details.tracks)
    return data


@bp.route("/faculty/festivals/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_festival():
    """Add a festival: its days and tracks; sessions come next."""
    form = FestivalForm(data={"status": "draft", "reminder_minutes": [1440, 60],
                                  "after_session_emails": True})
    done = _submit(form, lambda: services.create_festival(current_user,
                                                          _festival_details(form)))
    if done:
        flash(f"“{done.value.title}” has been added. Now add its sessions.", "success")
        return redirect(url_for("events.edit_festival", id=done.value.id))
    return render_template("events/faculty/festival_form.html", form=form, event=None)


@bp.route("/faculty/festivals/<int:id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_festival(id: int):
    """Change a festival and see its sessions, with places booked."""
    event = _managed(_event(id, Festival))
    form = FestivalForm(data=_festival_data(services.festival_details(event)))
    done = _submit(form, lambda: services.update_festival(current_user, event,
                                                          _festival_details(form)))
    if done:
        flash("The festival has been saved.", "success")
        return redirect(url_for("events.edit_festival", id=event.id))
    programme = services.programme(event, current_user)
    return render_template("events/faculty/festival_form.html", form=form, event=event,
                           programme=programme)


def _session_form_choices(form: FestivalSessionForm, festival: Festival) -> None:
    form.track_id.choices = [("", "Choose a track"), *((str(t.id), t.name)
                                                      for t in festival.tracks)]


def _festival_session_details(form: FestivalSessionForm) -> services.FestivalSessionDetails:
    track = form.track_id.data
    return services.FestivalSessionDetails(
        track_id=int(track) if track and str(track).isdigit() else None,
        title=form.title.data or "", description=form.description.data or "",
        day=form.day.data, start=form.start.data, end=form.end.data,
        location=form.location.data or "", join_url=form.join_url.data or "",
        capacity=form.capacity.data, speakers=_speakers_from(form),
    )


@bp.route("/faculty/festivals/<int:id>/sessions/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_festival_session(id: int):
    """Add a session to the programme, with its track, speakers and capacity."""
    event = _managed(_event(id, Festival))
    form = FestivalSessionForm(data={"day": event.first_day})
    _session_form_choices(form, event)
    done = _submit(form, lambda: services.add_festival_session(
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
    session = _session(session_id)
    event = _managed(_event(session.offering_id, Festival))
    details = services.festival_session_details(session)
    data = {**asdict(details), "track_id": str(details.track_id),
            **_speaker_data(details.speakers)}
    form = FestivalSessionForm(data=data)
    _session_form_choices(form, event)
    done = _submit(form, lambda: services.update_festival_session(
        current_user, session, _festival_session_details(form)))
    if done:
        flash("The session has been saved" + (f" and {done.value} people have been emailed."
                                              if done.value else "."), "success")
        return redirect(url_for("events.edit_festival", id=event.id))
    return render_template("events/faculty/festival_session_form.html", form=form,
                           event=event, session=session)


@bp.route("/faculty/event-sessions/<int:session_id>/recording", methods=["GET", "POST"])
@role_required(*MANAGERS)
def publish_recording(session_id: int):
    """Publish a session's recording link to the people who had a place."""
    session = _session(session_id)
    event = _managed(_event(session.offering_id))
    current = services.recordings_for([session.id]).get(session.id)
    form = RecordingForm(data={"url": current.url if current else ""})
    done = _submit(form, lambda: services.publish_recording(current_user, session,
                                                           form.url.data))
    if done:
        flash("The recording has been published" + (
            f" and {done.value} {'person has' if done.value == 1 else 'people have'} been "
            "emailed." if done.value else "."), "success")
        return redirect(_manage_url(event))
    return render_template("events/faculty/recording_form.html", form=form, event=event,
                           session=session, back=_manage_url(event), current=current)

