"""What every kept page needs: a CSRF slot filled in per request, and the moment a page
would change by itself (``cached``'s "valid until")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from lms.clock import to_london

# Where the token goes in a kept page; a request puts its own there.
CSRF_SLOT = "lms-csrf-slot-8d0f3c"
SLOT_FORM = SimpleNamespace(csrf_token=SimpleNamespace(current_token=CSRF_SLOT))
"""A form to render a kept page with: its forms' CSRF fields hold ``CSRF_SLOT``."""


def with_csrf(body: str) -> Markup:
    """A kept page (rendered with ``SLOT_FORM``) with this request's CSRF token."""
    return Markup(body.replace(CSRF_SLOT, generate_csrf()))  # noqa: S704 - a kept page


def earliest_after(moments: Iterable[datetime | None], now: datetime) -> datetime | None:
    """The first of ``moments`` after ``now`` (naive ones read as UTC), or None."""
    found = [m if m.tzinfo else m.replace(tzinfo=now.tzinfo) for m in moments if m is not None]
    return min((m for m in found if m > now), default=None)


def next_midnight(now: datetime) -> datetime:
    """The next midnight in London (a kept page says "today" no longer than a day)."""
    local = to_london(now)
    return (local.replace(hour=0, minute=0, second=0, microsecond=0)
            + timedelta(days=1)).astimezone(now.tzinfo)
