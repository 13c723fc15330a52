"""The facts the public pages state, read from the running configuration so the pages
cannot drift from what the service really does: the cookies it sets and how long they
last, how long a signed-in session lives, and who to contact."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

from flask import current_app

# Who answers questions, reports and requests about this service (``LMS_CONTACT_EMAIL``).
DEFAULT_CONTACT = "mdsn.learning@nhs.net"


@dataclass(frozen=True)
class Cookie:
    name: str
    purpose: str
    expires: str


@dataclass(frozen=True)
class SiteFacts:
    contact_email: str
    sender_email: str
    cookies: list[Cookie]
    idle_minutes: int
    max_hours: int


def _minutes(seconds: int) -> int:
    return int(seconds) // 60


def site_facts() -> SiteFacts:
    """What the privacy, cookies and contact pages say, from the app's configuration."""
    config = current_app.config
    idle = _minutes(config["SESSION_IDLE_SECONDS"])
    most = int(config["SESSION_MAX_SECONDS"]) // 3600
    session_cookie = Cookie(
        config.get("SESSION_COOKIE_NAME") or "session",
        "Keeps you signed in as you move between pages, and holds the security token that "
        "proves a form was sent from this service (protection against cross-site request "
        "forgery).",
        f"When you close your browser; you are signed out after {idle} minutes without "
        f"using the service, or {most} hours after signing in.")
    return SiteFacts(
        contact_email=config.get("CONTACT_EMAIL") or DEFAULT_CONTACT,
        sender_email=parseaddr(config.get("MAIL_SENDER") or "")[1],
        cookies=[session_cookie], idle_minutes=idle, max_hours=most)
