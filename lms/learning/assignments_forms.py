"""Project-work forms: shape only. The rules are in ``lms.learning.assignments`` and
``lms.learning.groups``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from lms.competencies.models import LEVEL_LABELS, Level
from lms.form_fields import ClockField, DayField, WholeNumberField
from lms.learning.assignments_models import OUTCOME_LABELS

LEVEL_CHOICES = [SelectChoice("", "Not evidenced")] + [
    SelectChoice(str(level.value), LEVEL_LABELS[level]) for level in Level]


def assignment_form(competencies, current: dict[int, int] | None = None, **data) -> FlaskForm:
    """The assignment form with one level list per competency (``level_<id>``)."""
    current = current or {}
    fields = {f"level_{c.id}": SelectField(c.name, validate_choice=False,
                                           choices=LEVEL_CHOICES,
                                           default=str(current.get(c.id, "")))
              for c in competencies}
    form_class = type("AssignmentForm", (AssignmentFields,), fields)
    return form_class(data=data or None)


class AssignmentFields(FlaskForm):
    title = StringField("Title")
    brief = TextAreaField("Brief")
    due_day = DayField("Date it is due")
    due_time = ClockField("Time it is due")
    for_groups = BooleanField("Group work: one submission for each project group")
    counts_to_completion = BooleanField("Must be met to complete the course")


class SubmitForm(FlaskForm):
    text = TextAreaField("Your work")
    files = MultipleFileField("Files")


class MarkForm(FlaskForm):
    outcome = RadioField("Outcome", validate_choice=False,
                         choices=[SelectChoice(k.value, v) for k, v in OUTCOME_LABELS.items()])
    feedback = TextAreaField("Feedback")
    resubmit_day = DayField("Resubmit by (if not yet met)")


class BulkMarkForm(MarkForm):
    submissions = SelectMultipleField("Submissions", validate_choice=False, coerce=str)


class ExtensionForm(FlaskForm):
    person = SelectField("Person", validate_choice=False)
    due_day = DayField("New date it is due")
    due_time = ClockField("New time it is due")


class SpreadForm(FlaskForm):
    count = WholeNumberField("How many groups")


class GroupForm(FlaskForm):
    name = StringField("Group name")
    members = SelectMultipleField("Members", validate_choice=False, coerce=str)
