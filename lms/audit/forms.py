"""The audit log's filters: shape only, sent as GET parameters."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SearchField, SelectField

from lms.audit.models import ACTION_LABELS
from lms.form_fields import DayField


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    person = SearchField("Done by (name or email)")
    subject = HiddenField()
    model = SelectField("Kind of record", validate_choice=False)
    action = SelectField("Kind of change", validate_choice=False)
    starts = DayField("From", noun="The start date")
    ends = DayField("To", noun="The end date")
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
