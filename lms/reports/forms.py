"""Dashboard filters: shape only. ``lms.reports.services.check_filters`` says what is wrong."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import SelectField

from lms.form_fields import DayField


class ReportFilterForm(FlaskForm):
    """A course or programme, and a date range; sent as GET parameters."""

    class Meta:
        csrf = False

    # Its options are kept by the page (``reports.pages.course_options``).
    course = SelectField("Course or programme", validate_choice=False)
    starts = DayField("From", noun="The start date")
    ends = DayField("To", noun="The end date")

    @property
    def dates(self) -> tuple[date | None, date | None]:
        """The dates, or None for a box left empty or holding something not a date."""
        return (self.starts.data if isinstance(self.starts.data, date) else None,
                self.ends.data if isinstance(self.ends.data, date) else None)
