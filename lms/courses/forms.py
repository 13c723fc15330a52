"""Course, cohort and session forms: shape only. The rules are in ``lms.courses.services``,
``lms.courses.cohorts`` and ``lms.offerings.schedule``.

The typed fields below turn text into numbers, dates and times and keep what was typed when
it is not one, so the page can show it back with a message. An empty box is ``None``: the
services say what is missing, so a person sees every problem at once.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)

from lms.accounts.forms import MultiCheckboxField
from lms.courses.models import FORMAT_LABELS, KIND_LABELS, STRAND_LABELS
from lms.courses.services import BOOKING_MODE_LABELS
from lms.form_fields import ClockField, DayField, WholeNumberField
from lms.form_fields import TypedField as _TypedField

# ---------------------------------------------------------------------------- typed fields


class DecimalTextField(_TypedField):
    message = "Enter a number, like 6 or 7.5"

    def parse(self, text: str) -> Decimal:
        if not re.fullmatch(r"[0-9]{1,6}(\.[0-9]+)?", text):
            raise ValueError(text)
        return Decimal(text)

    def show(self, value) -> str:
        return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


class CompetencyPicker(MultiCheckboxField):
    """Competencies chosen by name, in groups by strand: ``groups`` is (strand label, [(id,
    name)]) as the course form shows them; anything else posted is an error."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=int, **kwargs)
        self.groups: list[tuple[str, list[tuple[int, str]]]] = []

    def set_groups(self, groups: list[tuple[str, list[tuple[int, str]]]]) -> None:
        self.groups = groups
        self.choices = [choice for _, choices in groups for choice in choices]

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = []
            raise ValueError("Choose the competencies from the list") from None

    def pre_validate(self, form):
        known = {value for value, _ in self.choices or []}
        if any(value not in known for value in self.data or []):
            raise ValidationError("Choose the competencies from the list")


class LocalDateField(DayField):
    """A date on London's calendar, in day, month and year boxes."""


class LocalTimeField(ClockField):
    """A time on London's clocks: 9:30am, 2pm or 14:00."""


class GroupErrors(Field):
    """Never rendered: holds errors for a group of inputs (its id is the group's)."""

    def process_formdata(self, valuelist):
        self.data = None


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(str(key), label) for key, label in labels.items()]


# ---------------------------------------------------------------------------- the catalogue


class CatalogueFilterForm(FlaskForm):
    """The catalogue's filters, sent as GET parameters."""

    class Meta:
        csrf = False

    q = SearchField("Search courses")
    kind = SelectField("Kind", validate_choice=False)
    strand = SelectField("Strand", validate_choice=False)
    format = SelectField("Format", validate_choice=False)
    starts_after = LocalDateField("Starting on or after", noun="The date")
    has_places = BooleanField("Only show courses with places left")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", "Any kind"), *_choices(KIND_LABELS)]
        self.strand.choices = [("", "Any strand"), *_choices(STRAND_LABELS)]
        self.format.choices = [("", "Any format"), *_choices(FORMAT_LABELS)]


# ---------------------------------------------------------------------------- courses


class CourseForm(FlaskForm):
    title = StringField("Title")
    summary = TextAreaField("Summary")
    description = TextAreaField("Description (optional)")
    kind = RadioField("Kind of course", validate_choice=False)
    strand = RadioField("Strand", validate_choice=False)
    format = RadioField("Format", validate_choice=False)
    target_audience = StringField("Who it is for (optional)")
    cpd_hours = DecimalTextField("CPD hours", message="Enter the CPD hours as a number, "
                                                      "like 6 or 7.5")
    competency_ids = CompetencyPicker("Competencies it builds (optional)")
    min_attendance_percent = WholeNumberField(
        "Attendance needed to complete (%)",
        message="Enter the attendance needed as a whole number from 0 to 100")
    requires_feedback = BooleanField("Learners must give feedback to complete")
    requires_signoff = BooleanField("Faculty must sign off each learner to complete")
    published = BooleanField("Show this course in the catalogue")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _choices(KIND_LABELS)
        self.strand.choices = _choices(STRAND_LABELS)
        self.format.choices = _choices(FORMAT_LABELS)


# ---------------------------------------------------------------------------- cohorts


class _SessionFields:
    """The fields of one session, named ``{prefix}day`` etc."""

    @staticmethod
    def add(form_class: type, prefix: str, heading: str = "") -> None:
        setattr(form_class, f"{prefix}title", StringField(f"{heading}Session title (optional)"))
        setattr(form_class, f"{prefix}day", LocalDateField(f"{heading}Date"))
        setattr(form_class, f"{prefix}start", LocalTimeField(f"{heading}Start time"))
        setattr(form_class, f"{prefix}end", LocalTimeField(f"{heading}End time"))
        setattr(form_class, f"{prefix}location", StringField(f"{heading}Location (optional)"))
        setattr(form_class, f"{prefix}join_url",
                StringField(f"{heading}Joining link (optional)"))
        setattr(form_class, f"{prefix}capacity",
                WholeNumberField(f"{heading}Session capacity (optional)",
                                 message="Enter the session's capacity as a whole number"))


class CohortSettingsForm(FlaskForm):
    """Settings of a cohort. Quota fields (``quota_<organisation id>``) are added per ICS by
    ``cohort_settings_form``."""

    name = StringField("Cohort name")
    capacity = WholeNumberField("Number of places (optional for open and approval booking)",
                                message="Enter the number of places as a whole number, "
                                        "like 24")
    booking_mode = RadioField("How people get a place", validate_choice=False)
    offer_hours = WholeNumberField("Hours to accept a place offered from the waiting list",
                                   message="Enter the hours as a whole number, like 48")
    nomination_opens = LocalDateField("Nominations open")
    nomination_closes = LocalDateField("Nominations close (at the end of the day)")
    quota_release = LocalDateField("Release unused quota places on")
    quotas = GroupErrors()
    lead_ids = MultiCheckboxField("Cohort leads", coerce=int, validate_choice=False)
    status = RadioField("Status", validate_choice=False)

    quota_fields: list[tuple[int, str]] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.booking_mode.choices = _choices(BOOKING_MODE_LABELS)

    def quota_inputs(self) -> list[Field]:
        return [getattr(self, f"quota_{org_id}") for org_id, _ in self.quota_fields]

    def quota_values(self) -> dict[int, int]:
        """The quotas typed in; blank boxes are no quota."""
        return {org_id: getattr(self, f"quota_{org_id}").data
                for org_id, _ in self.quota_fields
                if getattr(self, f"quota_{org_id}").data is not None}


def cohort_settings_form(icss: list[tuple[int, str]], with_first_session: bool = False,
                         **kwargs) -> CohortSettingsForm:
    """The settings form with a quota box for each ICS (and, for a new cohort, the fields
    of its first session, named ``session1_day`` and so on)."""
    form_class = type("CohortForm", (CohortSettingsForm,), {"quota_fields": list(icss)})
    for org_id, name in icss:
        setattr(form_class, f"quota_{org_id}",
                WholeNumberField(name, message=f"Enter the places for {name} as a whole "
                                               "number, or leave it blank"))
    if with_first_session:
        _SessionFields.add(form_class, "session1_")
    return form_class(**kwargs)


class SessionForm(FlaskForm):
    pass


_SessionFields.add(SessionForm, "")


class DuplicateCohortForm(FlaskForm):
    name = StringField("Name of the new cohort")
    first_day = LocalDateField("Date of its first session")


class CancelForm(FlaskForm):
    reason = TextAreaField("Reason")
