"""Account forms: shape only. The rules are in ``lms.accounts.services``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.widgets import CheckboxInput, ListWidget

from lms.accounts.models import ROLE_LABELS


def _optional_int(value):
    """A chosen id, or ``None`` for no choice (including numbers no id can be)."""
    try:
        number = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number is None or 0 < number < 2**31 else None


class SignUpForm(FlaskForm):
    full_name = StringField("Full name")
    email = EmailField("Email address")
    job_title = StringField("Job title")
    organisation_id = SelectField("Organisation", coerce=_optional_int, validate_choice=False)
    password = PasswordField("Create a password")
    confirm = PasswordField("Confirm your password")


class SignInForm(FlaskForm):
    email = EmailField("Email address")
    password = PasswordField("Password")


class EmailForm(FlaskForm):
    email = EmailField("Email address")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password")
    confirm = PasswordField("Confirm your new password")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password")
    password = PasswordField("New password")
    confirm = PasswordField("Confirm your new password")
    revoke_tokens = BooleanField("Also stop my API tokens and calendar address working",
                                 default=True)


class ProfileForm(FlaskForm):
    full_name = StringField("Full name")
    job_title = StringField("Job title")
    organisation_id = SelectField("Organisation", coerce=_optional_int, validate_choice=False)


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField("Name or email")
    role = SelectField("Role", validate_choice=False)
    organisation_id = SelectField("Organisation", coerce=_optional_int, validate_choice=False)
    page = IntegerField(default=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [("", "Any role"), *ROLE_LABELS.items()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserAdminForm(FlaskForm):
    roles = MultiCheckboxField("Roles", validate_choice=False)
    organisation_id = SelectField("Organisation", coerce=_optional_int, validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.roles.choices = list(ROLE_LABELS.items())


class SecondFactorForm(FlaskForm):
    code = StringField("Security code")


class TwoFactorSetUpForm(FlaskForm):
    code = StringField("Code from your authenticator app")


class TwoFactorOffForm(FlaskForm):
    password = PasswordField("Your password")
