"""The one blueprint of learning between sessions; each part's views add routes to it."""

from __future__ import annotations

from flask import Blueprint

from lms.accounts.models import Role

bp = Blueprint("learning", __name__)
MANAGERS = (Role.FACULTY, Role.ADMIN)
