"""The erasure confirmation: shape only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField


class EraseForm(FlaskForm):
    understood = BooleanField("I understand that this cannot be undone")
