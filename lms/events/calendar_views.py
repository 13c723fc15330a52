"""Calendar downloads (a session, a whole event or cohort), a person's secret subscription
address, and the feed it serves.

Its routes are on the events blueprint (``views.bp``)."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_login import current_user, login_required

from lms.events import calendars
from lms.events.views import bp, find_session
from lms.extensions import db
from lms.offerings import calendar, policy
from lms.offerings import feed as offering_feed
from lms.offerings import services as engine
from lms.web import EmptyForm


def _ics(content: bytes, filename: str) -> Response:
    return Response(content, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/sessions/<int:id>/calendar.ics")
def session_ics(id: int):
    """One session for a calendar; the joining link only for people with a place."""
    session = find_session(id)
    offering = session.offering
    if not policy.can_see(current_user, offering):
        abort(404)
    content = calendar.offering_calendar(offering, current_user, [session],
                                         policy.can_manage(current_user, offering))
    return _ics(content, f"session-{session.id}.ics")


@bp.route("/offerings/<int:id>/calendar.ics")
def offering_ics(id: int):
    """Every session of a cohort or event for a calendar."""
    offering = engine.get_offering(id)
    if not policy.can_see(current_user, offering):
        abort(404)
    content = calendar.offering_calendar(offering, current_user, None,
                                         policy.can_manage(current_user, offering))
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
        return offering_feed.personal_feed(owner)

    response = Response(offering_feed.cached_personal_feed(owner_id, etag, build),
                        mimetype="text/calendar",
                        headers={**headers,
                                 "Content-Disposition": 'inline; filename="mdsn.ics"'})
    response.set_etag(etag)
    return response
