"""Forms for places: shape only. The rules are in ``lms.offerings.services``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SearchField, StringField, TextAreaField


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason")


class MoveForm(FlaskForm):
    position = IntegerField("New position")
    reason = StringField("Reason")


class WaitlistMessageForm(FlaskForm):
    subject = StringField("Subject")
    body = TextAreaField("Message")


class PeopleSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField("Find someone in your ICS")
