"""Ways an email leaves: ``.eml`` files (development), SMTP (production), memory (tests)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from flask import Flask, current_app


class MemoryBackend:
    """Keeps sent messages in a list on the app, for tests."""

    def __init__(self, app: Flask):
        self.sent: list[EmailMessage] = app.extensions.setdefault("lms_mail_memory", [])

    def send(self, message: EmailMessage, row_id: int) -> None:
        self.sent.append(message)


class FileBackend:
    """Writes each message to ``<outbox dir>/<row id>.eml``; writing again overwrites."""

    def __init__(self, app: Flask):
        self.folder = Path(app.config["MAIL_OUTBOX_DIR"])

    def send(self, message: EmailMessage, row_id: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{row_id:08d}.eml"
        partial = final.with_suffix(".eml.part")
        partial.write_bytes(bytes(message))
        partial.replace(final)

    def forget(self, row_id: int) -> None:
        """Remove the copy of a message that must not be kept once sent (a calendar
        cancellation to a person whose data has been erased)."""
        (self.folder / f"{row_id:08d}.eml").unlink(missing_ok=True)


class SMTPBackend:
    """Sends through an SMTP server, with STARTTLS and login when configured. STARTTLS
    checks the relay's certificate and name against the system's trusted authorities
    (NHSmail's relay requires STARTTLS; a relay that cannot prove who it is gets no
    password and no email)."""

    def __init__(self, app: Flask):
        self.config = app.config

    def send(self, message: EmailMessage, row_id: int) -> None:
        cfg = self.config
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=cfg["SMTP_TIMEOUT"]) as smtp:
            if cfg["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if cfg["SMTP_USERNAME"]:
                smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
            smtp.send_message(message)


BACKENDS = {"memory": MemoryBackend, "file": FileBackend, "smtp": SMTPBackend}


def get_backend():
    """The backend named by ``MAIL_BACKEND`` for the current app."""
    name = current_app.config["MAIL_BACKEND"]
    try:
        return BACKENDS[name](current_app)
    except KeyError:
        raise RuntimeError(f"MAIL_BACKEND={name!r} is not one of {', '.join(BACKENDS)}") from None
