"""The email preferences form: shape only (``lms.notifications.preferences`` keeps the rules)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField


class EmailPreferencesForm(FlaskForm):
    wanted = SelectMultipleField("Emails you get", validate_choice=False)
