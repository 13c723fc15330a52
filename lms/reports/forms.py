"""Dashboard filters: shape only. ``lms.reports.services.check_filters`` says what is wrong."""

from __future__ import annotations

import re
from datetime import date

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice


class DateField(StringField):
    """A London date: what ``<input type="date">`` sends (2027-03-29), or typed as
    29/3/2027. Bad text stays in the box, with a message."""

    message = "Enter a real date, like 29/3/2027"

    def process_formdata(self, valuelist):
        text = ((valuelist[0] if valuelist else "") or "").strip()
        if not text:
            self.data = None
            return
        try:
            self.data = _parse(text)
        except ValueError:
            self.data = text
            raise ValueError(self.message) from None

    def _value(self) -> str:
        if self.data is None:
            return ""
        return self.data.isoformat() if isinstance(self.data, date) else str(self.data)


def _parse(text: str) -> date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    match = re.fullmatch(r"(\d{1,2})[/. -](\d{1,2})[/. -](\d{4})", text)
    if not match:
        raise ValueError(text)
    day, month, year = (int(g) for g in match.groups())
    return date(year, month, day)


class ReportFilterForm(FlaskForm):
    """A course or programme, and a date range; sent as GET parameters."""

    class Meta:
        csrf = False

    course = SelectField("Course or programme", validate_choice=False)
    starts = DateField("From")
    ends = DateField("To")

    def set_courses(self, courses: list[tuple[int, str]]) -> None:
        self.course.choices = [SelectChoice("", "All courses and events")] + [
            SelectChoice(str(course_id), title) for course_id, title in courses]

    @property
    def dates(self) -> tuple[date | None, date | None]:
        """The dates, or None for a box left empty or holding something not a date."""
        return (self.starts.data if isinstance(self.starts.data, date) else None,
                self.ends.data if isinstance(self.ends.data, date) else None)
