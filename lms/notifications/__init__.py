"""Notifications: the outbox every email leaves through, and its delivery backends."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to connect: features queue emails by calling the outbox's services, and the
    backend is chosen from ``app.config`` when the outbox is delivered. Here so the factory
    treats every feature alike."""
