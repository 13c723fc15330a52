"""Certificate forms: shape only. The rules are in ``lms.certificates.services``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from lms.certificates.models import TEMPLATE_LABELS


class TemplateForm(FlaskForm):
    template = RadioField("Certificate template", validate_choice=False,
                          choices=[SelectChoice(t.value, label)
                                   for t, label in TEMPLATE_LABELS.items()])


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason")


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search box, like a web address typed in

    code = StringField("Verification code")
