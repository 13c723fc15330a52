"""Queue emails in the outbox, in the caller's transaction, and build the messages.
Sending them is a job: ``lms.notifications.delivery``."""

from __future__ import annotations

import re
import secrets as secrets_module
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from flask import current_app, render_template
from jinja2 import Template, TemplateNotFound
from sqlalchemy import insert

from lms.extensions import db
from lms.notifications.models import OutboxAttachment, OutboxMessage


def link(endpoint: str, **values) -> str:
    """An absolute link for an email, on ``BASE_URL``. Works inside a request and in the
    scheduler, which has none."""
    adapter = current_app.url_map.bind("localhost", script_name="/")
    path = adapter.build(endpoint, values, force_external=False)
    return current_app.config["BASE_URL"].rstrip("/") + path


Attachment = tuple[str, str, bytes]  # (filename, mimetype with parameters, content)


def queue_email(to: str, subject: str, template: str,
                attachments: list[Attachment] | None = None, *, flush: bool = True,
                secrets: list[str] | None = None, optional: str | None = None,
                **context) -> OutboxMessage | None:
    """Add an email to the outbox in the caller's transaction; it leaves only if that commits.

    ``template`` names ``templates/email/<template>.txt`` (required) and ``.html`` (optional);
    both get ``context`` plus ``base_url``. ``attachments`` are ``(filename, mimetype,
    bytes)``; a calendar invitation is ``("invitation.ics", "text/calendar; method=REQUEST;
    charset=UTF-8", ...)``. ``flush=False`` leaves the row to the next flush (a caller
    queueing many emails in one transaction writes them in one statement; ``queue_emails``
    is quicker still). ``secrets`` are live values in the message (a sign-in link's token):
    the stored copy loses them as soon as the email has left, and a person's copy of their
    data never shows them.

    ``optional`` names the kind of an email people may switch off (a reminder, a faculty
    message: ``lms.notifications.preferences.EmailKind``); it is for ``context["person"]``,
    and is not queued (``None`` is returned) when they have switched that kind off. Emails
    without it (about a person's own places and account) always go.
    """
    if optional is not None:
        from lms.notifications.preferences import wants

        if not wants(_recipient(context), optional):
            return None
    body_text, body_html = _Bodies(template).render(subject, context)
    row = OutboxMessage(**_row(to, subject, body_text, body_html, secrets))
    for filename, mimetype, content in attachments or ():
        row.attachments.append(
            OutboxAttachment(filename=filename, mimetype=mimetype, content=content)
        )
    db.session.add(row)
    if flush:
        db.session.flush()
    return row


@dataclass(frozen=True)
class Email:
    """One email for ``queue_emails``: what ``queue_email`` takes, less attachments and
    secrets."""

    to: str
    subject: str
    template: str
    context: dict
    optional: str | None = None


def queue_emails(emails: list[Email]) -> list[Email]:
    """``queue_email`` for many emails at once (a sweep's batch of reminders), in the caller's
    transaction: the same rows, in the order given, but each template is looked up once,
    the recipients' choices are read in one query per kind of optional email, and the rows
    are written in one statement with no ORM object each. Returns the emails queued (those
    whose recipient has not switched their kind off)."""
    from lms.notifications.preferences import wants_each

    keep = [True] * len(emails)
    for kind in dict.fromkeys(e.optional for e in emails if e.optional is not None):
        which = [n for n, e in enumerate(emails) if e.optional == kind]
        people = [_recipient(emails[n].context) for n in which]
        for n, wanted in zip(which, wants_each(people, kind), strict=True):
            keep[n] = wanted
    queued = [e for e, wanted in zip(emails, keep, strict=True) if wanted]
    bodies: dict[str, _Bodies] = {}
    rows = []
    for email in queued:
        if email.template not in bodies:
            bodies[email.template] = _Bodies(email.template)
        body_text, body_html = bodies[email.template].render(email.subject, dict(email.context))
        rows.append(_row(email.to, email.subject, body_text, body_html, None))
    if rows:
        # Through the table, not the ORM's bulk insert: the same row, at a fraction of the cost.
        db.session.execute(insert(OutboxMessage.__table__), rows)
    return queued


def _recipient(context: dict):
    if "person" not in context:
        raise TypeError("an optional email names its recipient as person=")
    return context["person"]


class _Bodies:
    """An email's templates, looked up once: ``templates/email/<name>.txt`` and, if there is
    one, ``.html``."""

    def __init__(self, name: str) -> None:
        environment = current_app.jinja_env
        self.text = environment.get_template(f"email/{name}.txt")
        try:
            self.html: Template | None = environment.get_template(f"email/{name}.html")
        except TemplateNotFound:
            self.html = None
        self.base_url = current_app.config["BASE_URL"].rstrip("/")

    def render(self, subject: str, context: dict) -> tuple[str, str | None]:
        """The text and HTML bodies (``None`` without an HTML template) for ``context``
        (given ``base_url`` unless it has one)."""
        context.setdefault("base_url", self.base_url)
        body_text = render_template(self.text, **context)
        if self.html is None:
            return body_text, None
        return body_text, render_template(self.html, subject=subject, **context)


def _row(to: str, subject: str, body_text: str, body_html: str | None,
         secrets: list[str] | None) -> dict:
    """An outbox row's values (the rest are the columns' defaults)."""
    domain = current_app.config["MAIL_SENDER"].rsplit("@", 1)[-1].rstrip(">")
    return {
        "to_address": to,
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        "message_id": f"<{secrets_module.token_hex(16)}@{domain}>",
        "secrets_to_remove": {"secrets": list(secrets)} if secrets else None,
    }


REMOVED = "[removed]"


def remove_after_sending(row: OutboxMessage, personal: list[str]) -> None:
    """Mark an email that must still leave (a calendar cancellation to a person being erased)
    so that, once it has, nothing in ``personal`` stays: not in the row, its attachments, or
    a development copy."""
    marks = dict(row.secrets_to_remove or {})
    marks["personal"] = sorted({*marks.get("personal", ()), *(v for v in personal if v)})
    row.secrets_to_remove = marks


def _without(text: str | None, values: list[str]) -> str | None:
    if not text:
        return text
    for value in sorted(values, key=len, reverse=True):
        text = re.sub(re.escape(value), REMOVED, text, flags=re.IGNORECASE)
    return text


def strip_sent(row: OutboxMessage) -> bool:
    """Take the values marked for removal out of a row that has left or failed for good.
    Returns whether the row held personal values (its development copy must go too)."""
    marks = row.secrets_to_remove or {}
    values = [v for v in (*marks.get("secrets", ()), *marks.get("personal", ())) if v]
    for column in ("to_address", "subject", "body_text", "body_html", "last_error"):
        setattr(row, column, _without(getattr(row, column), values))
    personal = bool(marks.get("personal"))
    if personal:
        row.attachments.clear()
    row.secrets_to_remove = None
    return personal


def build_message(row: OutboxMessage) -> EmailMessage:
    """The MIME message for an outbox row."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(row.created_at)
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    invitations = [a for a in row.attachments if _calendar_method(a.mimetype)]
    if len(invitations) == 1:
        # Shown inline too, so mail programs offer "add to calendar" on the message itself.
        invitation = invitations[0]
        message.add_alternative(invitation.content.decode("utf-8"), subtype="calendar",
                                params={"method": _calendar_method(invitation.mimetype)})
    for attachment in row.attachments:
        maintype, subtype, params = _split_mimetype(attachment.mimetype)
        params.pop("charset", None)
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                               filename=attachment.filename, params=params)
    return message


def _split_mimetype(mimetype: str) -> tuple[str, str, dict[str, str]]:
    """"text/calendar; method=REQUEST" -> ("text", "calendar", {"method": "REQUEST"})."""
    kind, *rest = (part.strip() for part in mimetype.split(";"))
    maintype, _, subtype = kind.partition("/")
    params = {}
    for part in rest:
        name, _, value = part.partition("=")
        if name:
            params[name.strip().lower()] = value.strip().strip('"')
    return maintype or "application", subtype or "octet-stream", params


def _calendar_method(mimetype: str) -> str | None:
    maintype, subtype, params = _split_mimetype(mimetype)
    if (maintype, subtype) == ("text", "calendar"):
        return params.get("method")
    return None


def sent_messages() -> list[EmailMessage]:
    """What the memory backend has sent (tests)."""
    return current_app.extensions.setdefault("lms_mail_memory", [])
