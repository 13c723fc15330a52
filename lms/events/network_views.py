"""A network's page, and faculty's pages to build a series and change one meeting.

Its routes are on the events blueprint (``views.bp``)."""

from __future__ import annotations

from dataclasses import asdict

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from lms.events import kept_pages, networks, pages
from lms.events.forms import NetworkForm, OccurrenceForm
from lms.events.models import NetworkSeries
from lms.events.recurrence import ORDINALS, RuleInput
from lms.events.views import (
    MANAGERS,
    bp,
    event_details_common,
    find_session,
    managed,
    submit_all,
    visible_event,
)
from lms.offerings import policy
from lms.web import role_required


@bp.route("/networks/<int:id>")
def network(id: int):
    """A network: its meetings to come, with topics and presenters; joining and leaving.
    What everyone sees is kept in the page cache (``lms.events.kept_pages``)."""
    page = kept_pages.event_page(id, "network")
    if page is None or not policy.sees(current_user, page.public):
        abort(404)
    return render_template("events/network.html", **kept_pages.for_viewer(current_user, page))


def _ordinal(value: str | None) -> int | None:
    """The week-of-the-month box: ``None`` when empty; a choice it never offered is passed on
    as 0, which the rule's check refuses with its message."""
    if value in (None, ""):
        return None
    return next((k for k in ORDINALS if str(k) == value), 0)


def _network_details(form: NetworkForm) -> networks.NetworkDetails:
    return networks.NetworkDetails(
        **event_details_common(form), first_day=form.first_day.data,
        local_start=form.local_start.data, duration_minutes=form.duration_minutes.data,
        rule=RuleInput(form.frequency.data, form.interval.data, list(form.weekdays.data or []),
                       _ordinal(form.ordinal.data), form.ends.data,
                       form.count.data, form.until.data),
        join_url=form.join_url.data or "", location=form.location.data or "",
    )


def _network_data(details: networks.NetworkDetails) -> dict:
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
    done = submit_all(form, lambda: networks.create_network(current_user,
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
    event = managed(visible_event(id, NetworkSeries))
    form = NetworkForm(data=_network_data(pages.network_details(event)))
    done = submit_all(form, lambda: networks.update_network(current_user, event,
                                                            _network_details(form)))
    if done:
        change = done.value
        flash(f"The network has been saved: {len(change.added)} meetings added, "
              f"{len(change.moved)} changed, {len(change.cancelled)} cancelled"
              + (f"; {change.emailed} members emailed." if change.emailed else "."), "success")
        return redirect(url_for("events.edit_network", id=event.id))
    return render_template("events/faculty/network_form.html", form=form, event=event,
                           rule=networks.rule_of(event),
                           presenters=pages.presenters([s.id for s in event.sessions]))


@bp.route("/faculty/network-meetings/<int:session_id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_occurrence(session_id: int):
    """One meeting: its topic and presenter, or move it without touching the others."""
    session = find_session(session_id)
    event = managed(visible_event(session.offering_id, NetworkSeries))
    details = pages.occurrence_details(session)
    form = OccurrenceForm(data=asdict(details))
    done = submit_all(form, lambda: networks.update_occurrence(current_user, session,
                                                               networks.OccurrenceDetails(
        topic=form.topic.data or "", presenter=form.presenter.data or "",
        day=form.day.data, start=form.start.data, end=form.end.data,
        location=form.location.data or "", join_url=form.join_url.data or "")))
    if done:
        flash("The meeting has been saved" + (f" and {done.value} members have been emailed."
                                              if done.value else "."), "success")
        return redirect(url_for("events.edit_network", id=event.id))
    return render_template("events/faculty/occurrence_form.html", form=form, event=event,
                           session=session)
