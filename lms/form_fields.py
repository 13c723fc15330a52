"""Form fields every feature's forms share: text in, a typed value out.

On bad text the field keeps what was typed (so the page can show it back) and carries an
error; the rules about the value itself stay in the services.
"""

from __future__ import annotations

import re
from abc import ABCMeta, abstractmethod
from datetime import date, datetime, time

from wtforms import StringField
from wtforms.utils import unset_value

from lms.clock import time_text


class TypedField(StringField, metaclass=ABCMeta):
    """A text box whose value is parsed by ``parse`` and shown back by ``show``."""

    message = "Enter a valid value"

    def __init__(self, label=None, validators=None, message: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        if message:
            self.message = message

    @abstractmethod
    def parse(self, text: str):
        """The value for ``text``, or ``ValueError``."""

    def show(self, value) -> str:
        return str(value)

    def process_formdata(self, valuelist):
        text = ((valuelist[0] if valuelist else "") or "").strip()
        if not text:
            self.data = None
            return
        try:
            self.data = self.parse(text)
        except (ValueError, ArithmeticError):
            self.data = text
            raise ValueError(self.message) from None

    def _value(self) -> str:
        if self.data is None:
            return ""
        return self.data if isinstance(self.data, str) else self.show(self.data)


class WholeNumberField(TypedField):
    message = "Enter a whole number"

    def parse(self, text: str) -> int:
        if not re.fullmatch(r"[0-9]{1,9}", text.replace(",", "")):
            raise ValueError(text)
        return int(text.replace(",", ""))


PARTS = ("day", "month", "year")


class DayField(TypedField):
    """A date in the NHS.UK date-input pattern: three boxes, ``<name>-day``, ``<name>-month``
    and ``<name>-year``. A single value under ``<name>`` (2027-03-29, or 29/3/2027) is still
    read, for the API and for tests.

    Errors name what is wrong ("Date must include a month", "Date must be a real date") and
    ``bad_parts`` says which boxes to mark.
    """

    message = "{label} must be a real date"

    def __init__(self, label=None, validators=None, message: str | None = None,
                 noun: str | None = None, **kwargs):
        super().__init__(label, validators, message, **kwargs)
        self.noun = noun  # what errors call it, when the label reads badly in a sentence
        self.bad_parts: set[str] = set()
        self.typed: dict[str, str] = {}

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.bad_parts, self.typed = set(), {}
        if formdata is not None and self.name not in formdata:
            self.typed = {part: (formdata.get(f"{self.name}-{part}") or "").strip()
                          for part in PARTS}
        super().process(formdata, data, extra_filters)

    def _text(self, template: str) -> str:
        return template.format(label=self.noun or (self.label.text if self.label else "Date"))

    def _from_parts(self) -> date | None:
        typed = self.typed
        missing = [part for part in PARTS if not typed[part]]
        if missing:
            self.bad_parts = set(missing)
            names = " and ".join(missing) if len(missing) < 3 else "day, month and year"
            raise ValueError(self._text("{label} must include a " + names))
        not_numbers = {part for part in PARTS if not typed[part].isdigit()}
        if not_numbers:
            self.bad_parts = not_numbers
            raise ValueError(self._text(self.message))
        if len(typed["year"]) != 4:
            self.bad_parts = {"year"}
            raise ValueError("Year must include 4 numbers")
        try:
            return date(int(typed["year"]), int(typed["month"]), int(typed["day"]))
        except ValueError:
            self.bad_parts = set(PARTS)
            raise ValueError(self._text(self.message)) from None

    def parse(self, text: str) -> date:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        match = re.fullmatch(r"(\d{1,2})[/. -](\d{1,2})[/. -](\d{4})", text)
        if not match:
            raise ValueError(text)
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)

    def process_formdata(self, valuelist):
        if not valuelist and any(self.typed.values()):
            try:
                self.data = self._from_parts()
            except ValueError:
                self.data = "/".join(self.typed[part] for part in PARTS)
                raise
            return
        self.typed = {}
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self._text(self.message)) from None

    def show(self, value) -> str:
        return value.isoformat()

    def parts(self) -> dict[str, str]:
        """What each box shows: what was typed, or the day's numbers."""
        if self.typed:
            return self.typed
        if isinstance(self.data, date):
            return {"day": str(self.data.day), "month": str(self.data.month),
                    "year": str(self.data.year)}
        if isinstance(self.data, str):  # one bad value (29/2/2027): shown back in its boxes
            typed = re.split(r"[/. -]", self.data)
            if len(typed) == 3:
                return dict(zip(PARTS, typed, strict=True))
        return dict.fromkeys(PARTS, "")


class ClockField(TypedField):
    """A time of day, typed as people write it: 9:30am, 2pm, 12 noon, or 14:00 (and 9.30).
    It is shown back in the NHS.UK style ("9:30am"), which it reads again."""

    message = "Enter a real time, like 9:30am or 2pm"

    def parse(self, text: str) -> time:
        text = text.lower().replace(" ", "")
        named = {"12noon": time(12), "noon": time(12), "midday": time(12),
                 "12midnight": time(0), "midnight": time(0)}
        if text in named:
            return named[text]
        match = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?(?::\d{2})?(am|pm)?", text)
        if not match or (match.group(2) is None and match.group(3) is None):
            raise ValueError(text)
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if match.group(3):
            if not 1 <= hour <= 12:
                raise ValueError(text)
            hour = hour % 12 + (12 if match.group(3) == "pm" else 0)
        return time(hour, minute)

    def show(self, value) -> str:
        if not isinstance(value, time | datetime):
            return str(value)
        return time_text(value if isinstance(value, time) else value.time())
