"""Attendance forms: shape only. The rules are in ``lms.attendance.services``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField, IntegerField, StringField


class CheckInForm(FlaskForm):
    code = StringField("Check-in code")


class AddPersonForm(FlaskForm):
    email = EmailField("Email address of the person")


class ImportForm(FlaskForm):
    report = FileField("Attendance report")
    min_percent = IntegerField("Share of the session that counts as present (%)", default=50)


class MatchForm(FlaskForm):
    email = EmailField("Email address of the person this row is")


class SignOffForm(FlaskForm):
    note = StringField("Note (optional)")
