"""Survey forms: shape only. The rules are in ``lms.feedback.services``.

Answers to a survey have no WTForms form: their fields depend on the survey's questions, so
the answer page posts ``q<question id>`` fields that ``services.check_answers`` reads and
checks (with ``EmptyForm`` for the CSRF token).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from lms.feedback.models import KIND_LABELS
from lms.form_fields import ClockField, DayField


class UKDateField(DayField):
    """A date typed or picked in a survey's settings."""


class UKTimeField(ClockField):
    """A time of day in a survey's settings."""

    message = "Enter a real time, like 9am or 5:30pm"


YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class NewSurveyForm(FlaskForm):
    start_from = RadioField("How do you want to start?", validate_choice=False)
    title = StringField("Title (optional)")


class SurveySettingsForm(FlaskForm):
    title = StringField("Title")
    intro = TextAreaField("Introduction (optional)")
    anonymous = RadioField("Is this survey anonymous?", choices=YES_NO, validate_choice=False)
    session_id = SelectField("What is it about?", validate_choice=False)
    opens_day = UKDateField("Date it opens")
    opens_time = UKTimeField("Time it opens", message="Enter the time it opens, like 9am or 5pm")
    closes_day = UKDateField("Date it closes")
    closes_time = UKTimeField("Time it closes", message="Enter the time it closes, like 5pm")


class TemplateForm(FlaskForm):
    title = StringField("Name of the template")
    intro = TextAreaField("Introduction (optional)")
    anonymous = RadioField("Are surveys made from it anonymous?", choices=YES_NO,
                           validate_choice=False, default="yes")


class QuestionForm(FlaskForm):
    kind = RadioField("Kind of question", validate_choice=False,
                      choices=[SelectChoice(str(k), label) for k, label in KIND_LABELS.items()])
    text = StringField("Question")
    hint = StringField("Hint (optional)")
    choices = TextAreaField("Options")
    required = BooleanField("People must answer this question", default=True)


class SaveAsTemplateForm(FlaskForm):
    title = StringField("Name of the template")
