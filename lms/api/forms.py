"""The form for a new API token: shape only. ``lms.api.services.create_token`` says what is
wrong."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from lms.api.models import SCOPE_LABELS
from lms.api.services import DEFAULT_DAYS, LIFETIME_CHOICES


def _lifetime(days: int) -> str:
    return {7: "7 days", 30: "30 days", 90: "90 days", 180: "6 months", 365: "1 year"}[days]


class NewTokenForm(FlaskForm):
    name = StringField("Name")
    scope = RadioField("What can it do?", choices=[SelectChoice(s.value, label) for s, label
                                                   in SCOPE_LABELS.items()],
                       default="read", validate_choice=False)
    days = SelectField("Expires after", choices=[SelectChoice(str(d), _lifetime(d))
                                                 for d in LIFETIME_CHOICES],
                       default=str(DEFAULT_DAYS), validate_choice=False)
