"""Survey forms: shape only. The rules are in ``lms.feedback.services``.

Answers to a survey have no WTForms form: their fields depend on the survey's questions, so
the answer page posts ``q<question id>`` fields that ``services.check_answers`` reads and
checks (with ``EmptyForm`` for the CSRF token).
"""

from __future__ import annotations

import re
from datetime import date, time

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from lms.feedback.models import KIND_LABELS

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class _TypedField(StringField):
    """Text in, a value out; on bad text ``data`` keeps the text and the field has an error,
    so the page can show back what was typed."""

    message = "Enter a valid value"

    def __init__(self, label=None, validators=None, message: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        if message:
            self.message = message

    def parse(self, text: str):
        raise NotImplementedError

    def show(self, value) -> str:
        return str(value)

    def process_formdata(self, valuelist):
        text = ((valuelist[0] if valuelist else "") or "").strip()
        if not text:
            self.data = None
            return
        try:
            self.data = self.parse(text)
        except ValueError:
            self.data = text
            raise ValueError(self.message) from None

    def _value(self) -> str:
        if self.data is None:
            return ""
        return self.data if isinstance(self.data, str) else self.show(self.data)


class UKDateField(_TypedField):
    """A date: what ``<input type="date">`` sends (2027-03-29), or typed as 29/3/2027."""

    message = "Enter a real date, like 29/3/2027"

    def parse(self, text: str) -> date:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        match = re.fullmatch(r"(\d{1,2})[/. -](\d{1,2})[/. -](\d{4})", text)
        if not match:
            raise ValueError(text)
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)

    def show(self, value) -> str:
        return value.isoformat()


class UKTimeField(_TypedField):
    """A 24-hour clock time: what ``<input type="time">`` sends (09:30), or 9.30."""

    message = "Enter a real time, like 09:30 or 17:00"

    def parse(self, text: str) -> time:
        match = re.fullmatch(r"(\d{1,2})[:.](\d{2})(?::\d{2})?", text)
        if not match:
            raise ValueError(text)
        return time(int(match.group(1)), int(match.group(2)))

    def show(self, value) -> str:
        return value.strftime("%H:%M")


class NewSurveyForm(FlaskForm):
    start_from = RadioField("How do you want to start?", validate_choice=False)
    title = StringField("Title (optional)")


class SurveySettingsForm(FlaskForm):
    title = StringField("Title")
    intro = TextAreaField("Introduction (optional)")
    anonymous = RadioField("Is this survey anonymous?", choices=YES_NO, validate_choice=False)
    session_id = SelectField("What is it about?", validate_choice=False)
    opens_day = UKDateField("Date it opens", message="Enter the date it opens as a real date, "
                                                     "like 29/3/2027")
    opens_time = UKTimeField("Time it opens", message="Enter the time it opens, like 17:00")
    closes_day = UKDateField("Date it closes", message="Enter the date it closes as a real "
                                                       "date, like 12/4/2027")
    closes_time = UKTimeField("Time it closes", message="Enter the time it closes, like 17:00")


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
