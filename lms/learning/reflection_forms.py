"""Reflective log and CPD forms: shape only. The rules are in ``lms.learning.reflection``
and ``lms.learning.cpd``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from lms.competencies.models import LEVEL_LABELS, Level
from lms.form_fields import DayField


class EntryForm(FlaskForm):
    happened_on = DayField("Date")
    title = StringField("Title")
    what_happened = TextAreaField("What happened")
    what_learned = TextAreaField("What I learned")
    do_differently = TextAreaField("What I will do differently")
    notes = TextAreaField("Anything else")
    link = SelectField("Linked to", validate_choice=False)
    competency = SelectField("Competency", validate_choice=False)


class CommentForm(FlaskForm):
    text = TextAreaField("Your comment")


class AcceptForm(FlaskForm):
    competency = SelectField("Competency", validate_choice=False)
    level = RadioField("Level", validate_choice=False,
                       choices=[SelectChoice(str(v.value), LEVEL_LABELS[v]) for v in Level])


class ActivityForm(FlaskForm):
    title = StringField("What the learning was")
    done_on = DayField("Date")
    hours = StringField("Hours")
    description = TextAreaField("Description (optional)")
    evidence = FileField("Evidence (optional)")
