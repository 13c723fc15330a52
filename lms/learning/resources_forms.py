"""The resource form: shape only; the rules are in ``lms.learning.resources``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice


class ResourceForm(FlaskForm):
    kind = RadioField("What are you sharing?", validate_choice=False,
                      choices=[SelectChoice("link", "A link"), SelectChoice("file", "A file")])
    title = StringField("Title")
    description = TextAreaField("Short description (optional)")
    tags = StringField("Tags (optional)")
    url = StringField("Web address")
    file = FileField("File")
    members_only = BooleanField("Only the network's members can see it", default=True)


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Search resources")
