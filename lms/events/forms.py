"""Event forms: shape only. The rules are in ``services``, ``networks``, ``festival`` and
``recurrence``.

Typed boxes (numbers, dates, times) keep what was typed when it is not valid, so the page can
show it back with its message; an empty box is ``None`` and the services say what is missing,
so a person sees every problem at once.
"""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from lms.accounts.forms import MultiCheckboxField
from lms.courses.models import STRAND_LABELS
from lms.events.recurrence import FREQUENCY_LABELS, ORDINALS, WEEKDAY_LABELS
from lms.events.services import EDITABLE_STATUSES, MAX_SPEAKERS, STATUS_LABELS
from lms.form_fields import ClockField, DayField
from lms.form_fields import WholeNumberField as NumberField

REMINDER_CHOICES = [(10080, "1 week before"), (2880, "2 days before"), (1440, "1 day before"),
                    (180, "3 hours before"), (60, "1 hour before"), (15, "15 minutes before")]
STATUS_CHOICES = [(s.value, STATUS_LABELS[s]) for s in EDITABLE_STATUSES]
STRAND_CHOICES = [(s.value, label) for s, label in STRAND_LABELS.items()]
ATTENDANCE_CHOICES = [("online", "Online"), ("in_person", "In person")]


def _choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3 wants them."""
    return [SelectChoice(value, label) for value, label in pairs]


# ---------------------------------------------------------------------------- speakers


def _with_speakers(cls: type) -> type:
    """Boxes for up to ``MAX_SPEAKERS`` speakers: ``speaker0_name``, ``speaker0_role`` ..."""
    for i in range(MAX_SPEAKERS):
        n = i + 1
        setattr(cls, f"speaker{i}_name", StringField(f"Speaker {n}: name"))
        setattr(cls, f"speaker{i}_role", StringField(f"Speaker {n}: role (optional)"))
        setattr(cls, f"speaker{i}_organisation",
                StringField(f"Speaker {n}: organisation (optional)"))
        setattr(cls, f"speaker{i}_bio", TextAreaField(f"Speaker {n}: short biography "
                                                      "(optional)"))
    return cls


# ---------------------------------------------------------------------------- events


class _EventFields(FlaskForm):
    title = StringField("Title")
    summary = TextAreaField("Summary")
    description = TextAreaField("Description (optional)")
    capacity = NumberField("Number of places (optional)",
                           message="Enter the number of places as a whole number, like 100")
    status = RadioField("Status", choices=_choices(STATUS_CHOICES), validate_choice=False)
    reminder_minutes = MultiCheckboxField("Reminders to people with a place", coerce=int,
                                          validate_choice=False, choices=_choices(REMINDER_CHOICES))
    after_session_emails = BooleanField("Email people after each session (for example, to "
                                        "ask for feedback when there is a survey)")
    strand = SelectField("Strand (optional)", validate_choice=False,
                         choices=_choices([("", "None"), *STRAND_CHOICES]))


@_with_speakers
class WebinarForm(_EventFields):
    day = DayField("Date")
    start = ClockField("Start time")
    end = ClockField("End time")
    join_url = StringField("Joining link")
    location = StringField("Location (optional)")


class NetworkForm(_EventFields):
    first_day = DayField("First meeting on or after")
    local_start = ClockField("Start time")
    duration_minutes = NumberField("Length of each meeting, in minutes",
                                   message="Enter the length in minutes, like 60")
    frequency = RadioField("How often", validate_choice=False,
                           choices=_choices(FREQUENCY_LABELS.items()))
    interval = NumberField("Every how many weeks or months",
                           message="Enter a whole number, like 2")
    weekdays = MultiCheckboxField("Day of the week", validate_choice=False,
                                  choices=_choices(WEEKDAY_LABELS.items()))
    ordinal = SelectField("For monthly meetings: which week of the month",
                          validate_choice=False,
                          choices=_choices([("", "Not monthly"),
                                            *((str(k), v) for k, v in ORDINALS.items())]))
    ends = RadioField("Ends", validate_choice=False,
                      choices=_choices([("count", "After a number of meetings"),
                                        ("until", "On a date")]))
    count = NumberField("Number of meetings", message="Enter a whole number, like 26")
    until = DayField("Date of the last meeting")
    join_url = StringField("Joining link for every meeting (optional)")
    location = StringField("Location (optional)")


class FestivalForm(_EventFields):
    first_day = DayField("First day")
    last_day = DayField("Last day")
    tracks = TextAreaField("Tracks, one per line")


@_with_speakers
class FestivalSessionForm(FlaskForm):
    track_id = SelectField("Track", validate_choice=False)
    title = StringField("Title")
    description = TextAreaField("Description (optional)")
    day = DayField("Date")
    start = ClockField("Start time")
    end = ClockField("End time")
    location = StringField("Room or location (optional)")
    join_url = StringField("Joining link (optional)")
    capacity = NumberField("Places at this session (optional)",
                           message="Enter the number of places as a whole number, like 40")


class OccurrenceForm(FlaskForm):
    topic = StringField("Topic")
    presenter = StringField("Presenter (optional)")
    day = DayField("Date")
    start = ClockField("Start time")
    end = ClockField("End time")
    location = StringField("Location (optional)")
    join_url = StringField("Joining link (optional)")


class CancelForm(FlaskForm):
    reason = TextAreaField("Reason")


class RecordingForm(FlaskForm):
    url = StringField("Recording link")


FIRST_YEAR, LAST_YEAR = 2000, 2100


def _plausible(field, name: str) -> None:
    """A filter's date within the years the service can hold (year 9999 has no next day)."""
    if isinstance(field.data, date) and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(f"Enter a ‘{name}’ date between {FIRST_YEAR} and {LAST_YEAR}")


class EventFilterForm(FlaskForm):
    """The events list's filters: a GET form, so a filtered list can be bookmarked."""

    class Meta:
        csrf = False

    kind = SelectField("Kind of event", validate_choice=False,
                       choices=_choices([("", "All events"), ("webinar", "Webinars"),
                                         ("network", "Network meetings"),
                                         ("festival", "Festivals")]))
    date_from = DayField("From", name="from", message="Enter a real date for ‘from’, "
                         "like 29 3 2027")
    date_to = DayField("To", name="to", message="Enter a real date for ‘to’, like 29 4 2027")
    person = StringField("Speaker or presenter", validators=[Length(
        max=100, message="Enter 100 characters or fewer for the speaker or presenter")])
    strand = SelectField("Strand", validate_choice=False,
                         choices=_choices([("", "Any strand"), *STRAND_CHOICES]))
    attendance = SelectField("Online or in person", validate_choice=False,
                             choices=_choices([("", "Any"), *ATTENDANCE_CHOICES]))

    def validate_strand(self, field) -> None:
        if field.data and field.data not in STRAND_LABELS:
            raise ValidationError("Select a strand from the list")

    def validate_attendance(self, field) -> None:
        if field.data and field.data not in dict(ATTENDANCE_CHOICES):
            raise ValidationError("Select online, in person or any")

    def validate_date_from(self, field) -> None:
        _plausible(field, "from")

    def validate_date_to(self, field) -> None:
        """A range that ends before it starts finds nothing: say so rather than show none."""
        _plausible(field, "to")
        starts = self.date_from.data
        if isinstance(starts, date) and isinstance(field.data, date) and field.data < starts:
            raise ValidationError("The ‘to’ date must be the same as or after the ‘from’ date")
