"""The messages page as kept in the page cache (``lms.cache``): what it shows of an
offering (its title, the sessions to choose from) and the messages sent on it, per offering
(the same for every member of staff who may open it), under the offering's version (its
title and sessions), the ``messages:<offering>`` version (a message sent on it: ``init_app``)
and the ``people`` version (a sender's name). Nothing on it changes by itself. The form, its
values, errors and preview are the request's own."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, render_template
from markupsafe import Markup

from lms import cache
from lms.clock import when_text
from lms.errors import NotFound
from lms.extensions import db
from lms.messages import pages
from lms.offerings.models import Offering


def watch_tables(app: Flask) -> None:
    """A message sent on an offering renews its ``messages:<offering>`` version."""
    cache.also_renews(app, "faculty_message", "messages:{offering_id}")


@dataclass(frozen=True)
class MessagesPage:
    """What the page shows of the offering, and the messages sent on it (rendered)."""

    offering_id: int
    title: str
    sessions: tuple[tuple[str, str], ...]  # (session id, how it reads), not cancelled
    sent: Markup


def messages_page(offering_id: int) -> MessagesPage:
    """The offering's messages page, kept; ``NotFound`` when there is no such offering."""
    depends_on = (cache.offering(offering_id) + cache.named(f"messages:{offering_id}")
                  + cache.PEOPLE)
    found = cache.cached("messages_page", offering_id, depends_on=depends_on,
                         build=lambda: (_build(offering_id), None), size=512)
    if found is None:
        raise NotFound("No such course, cohort or event")
    title, sessions, sent = found
    return MessagesPage(offering_id, title, sessions, Markup(sent))  # noqa: S704 - our template


def _build(offering_id: int) -> tuple[str, tuple, str] | None:
    offering = db.session.get(Offering, offering_id)
    if offering is None:
        return None
    sessions = tuple((str(s.id), f"{s.title + ': ' if s.title else ''}{when_text(s.starts_at)}")
                     for s in offering.sessions if not s.is_cancelled)
    sent = render_template("messages/_sent.html", sent=pages.sent_on(offering),
                           audience_text=pages.audience_text)
    return offering.title, sessions, sent
