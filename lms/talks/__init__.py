"""Calls for talks: how huddles and the INSIGHT festival get their speakers."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The calls' pages and link."""
