"""Forms for signing in with an NHS account: shape only (the rules are in ``services``)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField

from lms.accounts.forms import _optional_int


class LinkForm(FlaskForm):
    password = PasswordField("Password")


class JoinForm(FlaskForm):
    full_name = StringField("Full name")
    organisation_id = SelectField("Organisation", coerce=_optional_int, validate_choice=False)


class DomainForm(FlaskForm):
    domain = StringField("Email domain")
