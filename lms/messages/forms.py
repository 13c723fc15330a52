"""The message form: shape only (``lms.messages.services`` checks it)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField


def _optional_int(value):
    try:
        number = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number is None or 0 < number < 2**31 else None


class MessageForm(FlaskForm):
    audience = RadioField("Who is it for?", validate_choice=False)
    session_id = SelectField("Session", coerce=_optional_int, validate_choice=False)
    subject = StringField("Subject")
    body = TextAreaField("Message")
