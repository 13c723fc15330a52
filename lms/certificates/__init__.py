"""Certificates: eligibility (completion), PDF rendering, verification, bulk issue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from lms.attendance.completion import Completed


def init_app(app: Flask) -> None:
    """The certificate pages, ``flask lms certificates``, and a certificate for everyone
    who completes."""
    from lms import cache
    from lms.attendance.completion import Completed
    from lms.certificates import views
    from lms.certificates.cli import certificates_cli
    from lms.cli import commands_of
    from lms.listeners import connect

    app.register_blueprint(views.bp)
    commands_of(app).add_command(certificates_cli)
    connect(app, Completed, issue_on_completion)
    # My certificates and the learning record are kept per person (``lms.cache``).
    cache.watch(app, "certificate", person="user_id", listings=False)


def issue_on_completion(event: Completed) -> None:
    """Completing anything issues its certificate, in the completion's transaction."""
    from lms.certificates import services

    services.issue_on_completion(event.completion)
