"""Certificates: eligibility (completion), PDF rendering, verification, bulk issue."""

from __future__ import annotations


def connect_completion() -> None:
    """Issue a certificate whenever someone completes (once per process, however many apps
    are made)."""
    from lms.attendance.services import COMPLETION_HOOKS
    from lms.certificates.services import issue_on_completion

    if issue_on_completion not in COMPLETION_HOOKS:
        COMPLETION_HOOKS.append(issue_on_completion)
