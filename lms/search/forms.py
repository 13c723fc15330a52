"""The search box: a GET form (bookmarkable, no CSRF token in the address)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SearchField, StringField
from wtforms.validators import Length, NumberRange, Optional

from lms.search.services import MAX_QUERY


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField("Words to search for", validators=[
        Length(max=MAX_QUERY, message=f"Enter {MAX_QUERY} characters or fewer")])
    kind = StringField("Kind", validators=[Optional()])
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=10_000)])
