"""The audit log's filters: shape only, sent as GET parameters."""

from __future__ import annotations

import re
from datetime import date

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SearchField, SelectField, StringField

from lms.audit.models import ACTION_LABELS


class DateField(StringField):
    """A London date as ``<input type="date">`` sends it (2027-03-29), or typed as 29/3/2027.
    Bad text stays in the box, with a message."""

    message = "Enter a real date, like 29/3/2027"

    def process_formdata(self, valuelist):
        text = ((valuelist[0] if valuelist else "") or "").strip()
        if not text:
            self.data = None
            return
        try:
            self.data = parse_date(text)
        except ValueError:
            self.data = text
            raise ValueError(self.message) from None

    def _value(self) -> str:
        if self.data is None:
            return ""
        return self.data.isoformat() if isinstance(self.data, date) else str(self.data)


def parse_date(text: str) -> date:
    """2027-03-29 or 29/3/2027 (also with dots, dashes or spaces), or ``ValueError``."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    match = re.fullmatch(r"(\d{1,2})[/. -](\d{1,2})[/. -](\d{4})", text)
    if not match:
        raise ValueError(text)
    day, month, year = (int(g) for g in match.groups())
    return date(year, month, day)


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    person = SearchField("Done by (name or email)")
    subject = HiddenField()
    model = SelectField("Kind of record", validate_choice=False)
    action = SelectField("Kind of change", validate_choice=False)
    starts = DateField("From")
    ends = DateField("To")
    page = IntegerField(default=1)

    def __init__(self, *args, models: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.model.choices = [("", "Any record")] + [(m, m) for m in models or []]
        self.action.choices = [("", "Any change")] + [(a.value, label) for a, label
                                                      in ACTION_LABELS.items()]

    def date_value(self, field) -> date | None:
        return field.data if isinstance(field.data, date) else None

    @property
    def subject_id(self) -> int | None:
        text = (self.subject.data or "").strip()
        return int(text) if text.isdigit() and len(text) < 12 else None
