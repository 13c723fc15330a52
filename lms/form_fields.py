"""Form fields every feature's forms share: text in, a typed value out.

On bad text the field keeps what was typed (so the page can show it back) and carries an
error; the rules about the value itself stay in the services.
"""

from __future__ import annotations

import re
from abc import ABCMeta, abstractmethod
from datetime import date, datetime, time

from wtforms import StringField


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


class DayField(TypedField):
    """A date: what ``<input type="date">`` sends (2027-03-29), or typed as 29/3/2027."""

    message = "Enter a real date, like 29/3/2027"

    def parse(self, text: str) -> date:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        match = re.fullmatch(r"(\d{1,2})[/. -](\d{1,2})[/. -](\d{4})", text)
        if not match:
            raise ValueError(text)
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)

    def show(self, value) -> str:
        return value.isoformat()


class ClockField(TypedField):
    """A 24-hour clock time: what ``<input type="time">`` sends (09:30), or 9.30."""

    message = "Enter a real time, like 09:30 or 14:00"

    def parse(self, text: str) -> time:
        match = re.fullmatch(r"(\d{1,2})[:.](\d{2})(?::\d{2})?", text)
        if not match:
            raise ValueError(text)
        return time(int(match.group(1)), int(match.group(2)))

    def show(self, value) -> str:
        return value.strftime("%H:%M") if isinstance(value, time | datetime) else str(value)
