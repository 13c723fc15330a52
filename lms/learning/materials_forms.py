"""The material form: shape only; the rules are in ``lms.learning.materials``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from lms.form_fields import WholeNumberField
from lms.learning.materials_models import VISIBILITY_LABELS


def _session_id(value):
    return int(value) if value not in (None, "", "None") else None


class MaterialForm(FlaskForm):
    kind = RadioField("What are you adding?", validate_choice=False,
                      choices=[SelectChoice("file", "A file"), SelectChoice("link", "A link")])
    title = StringField("Title")
    note = TextAreaField("Short note (optional)")
    file = FileField("File")
    url = StringField("Web address")
    session_id = SelectField("Which part is it for?", coerce=_session_id, validate_choice=False)
    visible_from = RadioField("When can people with a place see it?",
                              choices=[SelectChoice(value, label)
                                       for value, label in VISIBILITY_LABELS.items()],
                              default="now", validate_choice=False)
    public = BooleanField("Show it to everyone, not only people with a place")
    position = WholeNumberField("Order (optional)", message="Enter the order as a whole number")


class MoveForm(FlaskForm):
    direction = RadioField(choices=[SelectChoice("up", "Up"), SelectChoice("down", "Down")],
                           validate_choice=False)
