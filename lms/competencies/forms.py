"""Competency, course mapping and evidence forms: shape only. The rules are in
``lms.competencies.services``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from lms.competencies.models import LEVEL_LABELS, Level
from lms.courses.models import STRAND_LABELS

LEVEL_CHOICES = [SelectChoice(str(level.value), LEVEL_LABELS[level]) for level in Level]


class CompetencyForm(FlaskForm):
    """A competency of the framework and its behaviours at each level."""

    name = StringField("Name")
    domain = RadioField("Strand", validate_choice=False,
                        choices=[SelectChoice(s.value, label)
                                 for s, label in STRAND_LABELS.items()])
    description = TextAreaField("Description")
    aware = TextAreaField(f"{LEVEL_LABELS[Level.AWARE]}: what a person does")
    working = TextAreaField(f"{LEVEL_LABELS[Level.WORKING]}: what a person does")
    practitioner = TextAreaField(f"{LEVEL_LABELS[Level.PRACTITIONER]}: what a person does")
    expert = TextAreaField(f"{LEVEL_LABELS[Level.EXPERT]}: what a person does")


class EvidenceForm(FlaskForm):
    """A faculty rating or a self-assessment: competency, level and why."""

    competency = SelectField("Competency", validate_choice=False)
    level = RadioField("Level", validate_choice=False, choices=LEVEL_CHOICES)
    note = TextAreaField("Why")

    def set_competencies(self, competencies) -> None:
        self.competency.choices = [SelectChoice("", "Choose a competency")] + [
            SelectChoice(str(c.id), f"{c.name} ({c.domain_label})") for c in competencies]


def mapping_form(competencies, current: dict[int, int]) -> FlaskForm:
    """A form with one level list per competency (``level_<id>``), starting from ``current``:
    "Does not build it" or a level."""
    choices = [SelectChoice("", "Does not build it"), *LEVEL_CHOICES]
    fields = {f"level_{c.id}": SelectField(c.name, validate_choice=False, choices=choices,
                                           default=str(current.get(c.id, "")))
              for c in competencies}
    form_class = type("CourseMappingForm", (FlaskForm,), fields)
    return form_class()
