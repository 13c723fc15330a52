"""Event pages: webinar pages, and faculty's pages to build webinars and to cancel and
record any event; with the events blueprint (``bp``) and the helpers every events view
module shares.

The other events pages add their routes to ``bp`` from their own modules: ``list_views``
(the events list and month view), ``festival_views``, ``network_views`` and
``calendar_views`` (``lms.events.init_app`` imports each of them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from lms.accounts.models import Role
from lms.clock import utcnow
from lms.events import kept_pages, pages, services
from lms.events.forms import CancelForm, RecordingForm, WebinarForm
from lms.events.models import Webinar
from lms.learning.materials_pages import section_for
from lms.offerings import calendar, policy
from lms.offerings import pages as offering_pages
from lms.offerings.models import Offering
from lms.web import Done, role_required, submit

bp = Blueprint("events", __name__)
MANAGERS = (Role.FACULTY, Role.ADMIN)


@bp.context_processor
def labels() -> dict:
    return {"status_labels": services.STATUS_LABELS, "now": utcnow()}


# ---------------------------------------------------------------------------- helpers


def submit_all(form: FlaskForm, action: Callable[[], Any]) -> Done | None:
    """Forms here show every problem at once, unreadable boxes included (``web.submit``)."""
    return submit(form, action, every_problem_at_once=True)


def visible_event(event_id: int, kind: type[Offering] | None = None) -> Offering:
    """The event, or 404 if it is not one or the person may not see it."""
    event = services.get_event(event_id, kind)
    if not policy.can_see(current_user, event):
        abort(404)
    return event


def find_session(session_id: int):
    """The session, or 404."""
    return services.get_session(session_id)


def managed(offering: Offering) -> Offering:
    """The event, or 403 unless the person builds events."""
    if not services.can_manage(current_user, offering):
        abort(403)
    return offering


def speakers_from(form) -> list[services.SpeakerDetails]:
    """The speakers typed in an event form."""
    return [services.SpeakerDetails(
        getattr(form, f"speaker{i}_name").data or "", getattr(form, f"speaker{i}_role").data
        or "", getattr(form, f"speaker{i}_organisation").data or "",
        getattr(form, f"speaker{i}_bio").data or "") for i in range(services.MAX_SPEAKERS)]


def speaker_data(speakers: list[services.SpeakerDetails]) -> dict:
    """An event form's speaker boxes, filled from these speakers."""
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


# ---------------------------------------------------------------------------- public pages


def place_panel(offering: Offering) -> dict:
    """The booking box of an event page, and whether joining links show."""
    panel = offering_pages.booking_panel(current_user, offering)
    # The person's place is in the panel already: not asked of the database again.
    has_place = getattr(panel.enrolment, "state", None) in calendar.CONFIRMED
    can_manage = services.can_manage(current_user, offering)
    return {"panel": panel, "has_place": has_place, "can_manage": can_manage,
            "show_join_links": has_place or can_manage,
            "materials": section_for(current_user, offering, has_place or can_manage,
                                     place=has_place)}


@bp.route("/webinars/<int:id>")
def webinar(id: int):
    """A webinar: when, who is speaking, and booking; the joining link for people booked.
    What everyone sees is kept in the page cache (``lms.events.kept_pages``)."""
    page = kept_pages.event_page(id, "webinar")
    if page is None or not policy.sees(current_user, page.public):
        abort(404)
    return render_template("events/webinar.html", **kept_pages.for_viewer(current_user, page))


# ---------------------------------------------------------------------------- faculty


@bp.route("/faculty/events")
@role_required(*MANAGERS)
def manage():
    """Every event, with links to change it."""
    return render_template("events/faculty/events.html", events=pages.faculty_events())


def event_details_common(form) -> dict:
    """The fields every event form has, as the services take them."""
    return {"title": form.title.data or "", "summary": form.summary.data or "",
            "description": form.description.data or "", "status": form.status.data,
            "capacity": form.capacity.data,
            "reminder_minutes": list(form.reminder_minutes.data or []),
            "after_session_emails": bool(form.after_session_emails.data),
            "strand": form.strand.data or ""}


def _webinar_details(form: WebinarForm) -> services.WebinarDetails:
    return services.WebinarDetails(
        **event_details_common(form),
        session=services.EventSessionDetails(form.day.data, form.start.data, form.end.data, "",
                                             form.location.data or "",
                                             form.join_url.data or ""),
        speakers=speakers_from(form),
    )


@bp.route("/faculty/webinars/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_webinar():
    """Add a webinar: its one session and its speakers."""
    form = WebinarForm(data={"status": "draft", "reminder_minutes": [1440, 60],
                                  "after_session_emails": True})
    done = submit_all(form, lambda: services.create_webinar(current_user, _webinar_details(form)))
    if done:
        flash(f"“{done.value.title}” has been added.", "success")
        return redirect(url_for("events.webinar", id=done.value.id))
    return render_template("events/faculty/webinar_form.html", form=form, event=None)


@bp.route("/faculty/webinars/<int:id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_webinar(id: int):
    """Change a webinar; people booked get an updated invitation if it moved."""
    event = managed(visible_event(id, Webinar))
    details = pages.webinar_details(event)
    # The session's boxes first: its empty title and capacity are not the webinar's.
    data = {**asdict(details.session), **asdict(details), **speaker_data(details.speakers)}
    form = WebinarForm(data=data)
    done = submit_all(form, lambda: services.update_webinar(current_user, event,
                                                            _webinar_details(form)))
    if done:
        flash("The webinar has been saved" + (f" and {done.value} people have been emailed."
                                              if done.value else "."), "success")
        return redirect(url_for("events.webinar", id=event.id))
    return render_template("events/faculty/webinar_form.html", form=form, event=event)


@bp.route("/faculty/event-sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@role_required(*MANAGERS)
def cancel_session(session_id: int):
    """Cancel one network meeting or festival session, saying why."""
    session = find_session(session_id)
    event = managed(visible_event(session.offering_id))
    if isinstance(event, Webinar):
        return redirect(url_for("events.cancel_event", id=event.id))
    form = CancelForm()
    done = submit_all(form, lambda: services.cancel_event_session(session, current_user,
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
    event = managed(visible_event(id))
    form = CancelForm()
    done = submit_all(form, lambda: services.cancel_event(current_user, event, form.reason.data))
    if done:
        flash(f"“{event.title}” has been cancelled and {done.value} "
              f"{'person has' if done.value == 1 else 'people have'} been told.", "success")
        return redirect(_manage_url(event))
    return render_template("events/faculty/cancel_event.html", form=form, event=event,
                           back=_manage_url(event))


@bp.route("/faculty/event-sessions/<int:session_id>/recording", methods=["GET", "POST"])
@role_required(*MANAGERS)
def publish_recording(session_id: int):
    """Publish a session's recording link to the people who had a place."""
    session = find_session(session_id)
    event = managed(visible_event(session.offering_id))
    current = pages.recordings_for([session.id]).get(session.id)
    form = RecordingForm(data={"url": current.url if current else ""})
    done = submit_all(form, lambda: services.publish_recording(current_user, session,
                                                           form.url.data))
    if done:
        flash("The recording has been published" + (
            f" and {done.value} {'person has' if done.value == 1 else 'people have'} been "
            "emailed." if done.value else "."), "success")
        return redirect(_manage_url(event))
    return render_template("events/faculty/recording_form.html", form=form, event=event,
                           session=session, back=_manage_url(event), current=current)

