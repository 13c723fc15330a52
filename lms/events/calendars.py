"""Personal calendar addresses (their secrets), and what events add to calendar entries.

The feed itself is built by ``lms.offerings.calendar``, which knows every kind of offering;
this module keeps the secret tokens and tells that module about speakers, presenters and
festival tracks.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import lazyload

from lms import cache
from lms.accounts.events import PasswordChanged
from lms.accounts.models import User
from lms.clock import utcnow
from lms.events.models import CalendarFeedToken, FestivalSession, FestivalTrack, Speaker
from lms.extensions import db, read_row
from lms.notifications.services import link
from lms.offerings import feed as offering_feed

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def token_hash(token: str) -> str:
    """What is stored of a calendar secret: its SHA-256 (the secret is 256 random bits, so a
    plain hash cannot be reversed, and the look-up stays one indexed equality)."""
    return hashlib.sha256(token.encode()).hexdigest()


def has_address(user: User) -> bool:
    """Whether the person has made a calendar address (it is shown only when made)."""
    return db.session.get(CalendarFeedToken, user.id) is not None


def new_token(user: User) -> str:
    """Make (or replace) the person's calendar secret and return it: the only time it is
    known, as only its hash is kept. The old one stops working as soon as this commits."""
    token = secrets.token_urlsafe(32)
    row = db.session.get(CalendarFeedToken, user.id)
    if row is None:
        db.session.add(CalendarFeedToken(user_id=user.id, token_hash=token_hash(token)))
    else:
        row.token_hash = token_hash(token)
        row.created_at = utcnow()
    db.session.flush()
    return token


def forget_on_password_change(event: PasswordChanged) -> None:
    """Listener: a password change with its box ticked resets the calendar address."""
    if event.revoke_tokens:
        db.session.execute(
            delete(CalendarFeedToken).where(CalendarFeedToken.user_id == event.user_id))
        db.session.flush()


_owner: list = []


def _owner_statement():
    """Whose token it is, built once (it runs on every fetch of every feed). The feed needs
    the person's id and name, not their roles."""
    if not _owner:
        _owner.append(
            select(User).join(CalendarFeedToken, CalendarFeedToken.user_id == User.id)
            .where(CalendarFeedToken.token_hash == bindparam("feed_token_hash"))
            .options(lazyload(User.role_rows)))
    return _owner[0]


def owner_of(token: str) -> User | None:
    """Whose feed a secret opens, or None (wrong, reset, or the account is closed)."""
    if not TOKEN_PATTERN.fullmatch(token or ""):
        return None
    user = db.session.scalar(_owner_statement(), {"feed_token_hash": token_hash(token)})
    if user is None or not user.is_active_account:
        return None
    return user


# Whose secret is whose (kept per process): renewed by any change to a calendar secret (made,
# reset, forgotten) or to whether an account is open (``init_app``).
FEED_OWNERS = "feed_owners"
# Secrets kept per process: about a worker's polling calendars.
KEPT_OWNERS = 50_000
_validator: list = []


def _validator_statement():
    """Whose token it is, if their account is open, as a plain column in one indexed read
    (built once): no ORM entity is loaded on a calendar program's poll."""
    if not _validator:
        tokens, users = CalendarFeedToken.__table__, User.__table__
        _validator.append(
            select(tokens.c.user_id).join(users, users.c.id == tokens.c.user_id)
            .where(tokens.c.token_hash == bindparam("feed_token_hash"),
                   users.c.is_active_account.is_(True)))
    return _validator[0]


def feed_validator(token: str) -> tuple[int, str] | None:
    """(owner's id, the feed's ETag) for a secret, or None like ``owner_of``. Whose secret it
    is is kept per process under ``FEED_OWNERS``, and the ETag under the offer's version and
    the feed's day (it is built from offerings, sessions and places, which all renew that
    version): a poll whose feed has not changed reads the two versions in one statement and
    builds nothing."""
    if not TOKEN_PATTERN.fullmatch(token or ""):
        return None
    hashed = token_hash(token)
    owners = cache.named(FEED_OWNERS)
    cache.prefetch(owners, cache.OFFER)
    owner = cache.cached(FEED_OWNERS, hashed, depends_on=owners, size=KEPT_OWNERS,
                         build=lambda: (_owner_id(hashed), None))
    if owner is None:
        return None
    key = (token, offering_feed.feed_cutoff().date())
    etag = cache.cached("feed_etags", key, depends_on=cache.OFFER, size=KEPT_OWNERS,
                        build=lambda: (offering_feed.feed_etag(owner, token), None))
    return owner, etag


def _owner_id(hashed: str) -> int | None:
    row = read_row(_validator_statement(), feed_token_hash=hashed)
    return row[0] if row is not None else None


def watch_tables(app) -> None:
    """What renews ``FEED_OWNERS``: a calendar secret made, reset or forgotten, and an account
    closed or opened again."""
    cache.also_renews(app, "calendar_feed_token", FEED_OWNERS)
    cache.also_renews(app, "user_account", FEED_OWNERS, columns=["is_active_account"])


@dataclass(frozen=True)
class FeedAddresses:
    https: str
    webcal: str


def addresses(token: str) -> FeedAddresses:
    """The feed's address, and the same as a webcal:// link that calendar programs open."""
    url = link("events.feed", token=token)
    parts = urlsplit(url)
    return FeedAddresses(url, "webcal://" + parts.netloc + parts.path)


def file_name(title: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()
    return name[:60] or "calendar"


# ---------------------------------------------------------------------------- descriptions


def _speaker_text(name: str, role: str, organisation: str) -> str:
    extra = ", ".join(part for part in (role, organisation) if part)
    return f"{name} ({extra})" if extra else name


def speaker_lines(session_ids: list[int]) -> dict[int, list[str]]:
    """Calendar description lines: the speakers of each session, in one query (of columns:
    a feed reads hundreds of speakers, and loading each as an object cost more than the
    rest of its description)."""
    found: dict[int, list[str]] = {}
    for session_id, name, role, organisation in db.session.execute(
        select(Speaker.session_id, Speaker.name, Speaker.role, Speaker.organisation)
        .where(Speaker.session_id.in_(session_ids))
        .order_by(Speaker.session_id, Speaker.position)
    ):
        found.setdefault(session_id, []).append(_speaker_text(name, role, organisation))
    return {sid: ["Speakers: " + "; ".join(names)] for sid, names in found.items()}


def festival_details_lines(session_ids: list[int]) -> dict[int, list[str]]:
    """Calendar description lines for festival sessions: their track and speakers."""
    found = {sid: [f"Track: {name}"] for sid, name in db.session.execute(
        select(FestivalSession.session_id, FestivalTrack.name)
        .join(FestivalTrack, FestivalTrack.id == FestivalSession.track_id)
        .where(FestivalSession.session_id.in_(session_ids)))}
    for sid, lines in speaker_lines(session_ids).items():
        found.setdefault(sid, []).extend(lines)
    return found
