"""Forms of the calls for talks: shape only (the rules are ``services`` and ``schedule``)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from lms.accounts.forms import MultiCheckboxField
from lms.courses.models import STRAND_LABELS
from lms.form_fields import ClockField, DayField

STRAND_CHOICES = [SelectChoice(s.value, label) for s, label in STRAND_LABELS.items()]
SCORE_CHOICES = [SelectChoice(value, label) for value, label in (
    ("5", "5: excellent"), ("4", "4: good"), ("3", "3: fair"), ("2", "2: weak"),
    ("1", "1: not for this call"))]


class CallForm(FlaskForm):
    title = StringField("Title of the call")
    wanted = TextAreaField("What is wanted")
    strands = MultiCheckboxField("Strands", choices=STRAND_CHOICES, validate_choice=False)
    lengths = MultiCheckboxField("Talk lengths", validate_choice=False)
    closes_on = DayField("Last day for proposals", noun="The last day for proposals")
    hide_scores = BooleanField("Reviewers see others' scores only after giving their own")
    session_ids = MultiCheckboxField("Meetings free for a talk", validate_choice=False)


class ProposalForm(FlaskForm):
    title = StringField("Title of your talk")
    abstract = TextAreaField("Abstract")
    strand = RadioField("Strand", validate_choice=False)
    length = RadioField("Length", validate_choice=False)
    co_presenters = TextAreaField("Co-presenters (optional)")
    preferred_dates = StringField("Preferred dates (optional)")
    slides_shareable = BooleanField("My slides can be shared with members after the talk")


class ReviewForm(FlaskForm):
    score = RadioField("Score", choices=SCORE_CHOICES, validate_choice=False)
    comment = TextAreaField("Comment (optional)")


class ReviewerForm(FlaskForm):
    email = StringField("Email address of the reviewer")


class MeetingAcceptForm(FlaskForm):
    session_id = RadioField("Meeting", validate_choice=False)
    message = TextAreaField("Message to the presenters (optional)")


class FestivalAcceptForm(FlaskForm):
    track_id = SelectField("Track", validate_choice=False)
    day = DayField("Day")
    start = ClockField("Start time")
    location = StringField("Location (optional)")
    join_url = StringField("Joining link (optional)")
    message = TextAreaField("Message to the presenters (optional)")


class DecideForm(FlaskForm):
    message = TextAreaField("Message to the proposer")
