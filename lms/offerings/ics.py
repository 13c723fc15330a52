"""A small iCalendar (RFC 5545) writer: the one that writes every calendar we send (personal
feeds, downloads, invitations and cancellations; ``lms.offerings.calendar`` says what they
hold).

It knows the format only, not offerings:

- ``text``: a TEXT value, escaped (``\\``, ``;``, ``,`` and line breaks of every kind as
  ``\\n``); control characters are left out, so no value can end its line.
- ``uri``: a URI or CAL-ADDRESS value, or ``None`` when it holds a space or a control
  character (those are never written raw: a line break would start a new property).
- ``param``: a parameter value (a person's name), on one line, double-quoted, with RFC 6868's
  ``^'`` for a double quote and ``^^`` for a caret.
- ``utc`` / ``local``: DATE-TIME values (``20270114T093000Z``, or the clock time to follow
  a ``TZID`` parameter), to the second.
- ``write``: content lines to bytes, UTF-8, each folded at 75 octets (never inside a
  character), ended by CRLF.

Writing a feed of hundreds of sessions is string joins, one ``encode`` and a fold of the few
long lines (a few milliseconds): the ``icalendar`` library this replaced spent most of a
feed's time (~80 ms) building and copying its objects. The tests read everything back with
``icalendar`` and ``vobject`` (tests/test_ics_writer.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

LINE_OCTETS = 75
# A line of this many characters or fewer is within 75 octets, whatever the characters.
_SHORT = LINE_OCTETS // 4
# Every line break a person can type, or paste: CRLF first, so it counts as one.
_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_SPACE = re.compile(r"\s")
# A joiner is kept in text (it holds an emoji sequence, a family or a flag, together); other
# format characters and the controls are left out.
_JOINER = "\u200d"


def _printable(line: str) -> str:
    """One line with its non-printing characters gone (a tab, a no-break space: a space)."""
    if line.isprintable():  # nearly every line: one pass in C
        return line
    return "".join(ch if ch.isprintable() or ch == _JOINER else " " if ch.isspace() else ""
                   for ch in line)


def plain(value: str) -> str:
    """Text as it will read back: line breaks of any kind as ``\\n``, no control characters."""
    if value.isprintable():  # no line break, no control character: nearly every value
        return value
    return "\n".join(_printable(line) for line in _BREAKS.split(value))


def text(value: str) -> str:
    """A TEXT value, escaped: it reads back as ``plain(value)``."""
    return (plain(value).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def uri(value: str) -> str | None:
    """A URI (or ``mailto:`` address) as it is written, or ``None`` (leave the property out)
    when it is empty or holds a space or a control character."""
    # ``\s`` is ``str.isspace``: one pass each in C, not a Python loop per character.
    if not value or not value.isprintable() or _SPACE.search(value):
        return None
    return value


def param(value: str) -> str:
    """A parameter value (a name): on one line, quoted, RFC 6868 escapes for ``^`` and ``"``."""
    one_line = " ".join(plain(value).split())
    return '"' + one_line.replace("^", "^^").replace('"', "^'") + '"'


def utc(moment: datetime) -> str:
    """A DATE-TIME in UTC: ``20270114T093000Z``."""
    return local(moment.astimezone(UTC)) + "Z"


def local(moment: datetime) -> str:
    """A DATE-TIME on its own clock, to follow ``;TZID=…``: ``20270114T093000``."""
    # ``%`` formatting: twice as fast as ``strftime``, and a feed writes 600 of these.
    return "%04d%02d%02dT%02d%02d%02d" % (  # noqa: UP031
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def duration(length: timedelta) -> str:
    """A DURATION of whole seconds: ``PT1H``, ``PT90M``, ``P1D``."""
    seconds = int(length.total_seconds())
    if seconds <= 0:
        raise ValueError("a duration here is positive")
    if seconds % 86400 == 0:
        return f"P{seconds // 86400}D"
    for unit, size in (("H", 3600), ("M", 60), ("S", 1)):
        if seconds % size == 0:
            return f"PT{seconds // size}{unit}"
    raise AssertionError("unreachable")


def fold(line: str) -> str:
    """One content line folded so no physical line passes 75 octets of UTF-8: the first
    holds 75, each further one a space and 74, and a fold never falls inside a character."""
    data = line.encode()
    parts = []
    start, room = 0, LINE_OCTETS
    while len(data) - start > room:
        end = start + room
        while data[end] & 0xC0 == 0x80:  # a continuation byte: back to the character's start
            end -= 1
        parts.append(data[start:end].decode())
        start, room = end, LINE_OCTETS - 1
    parts.append(data[start:].decode())
    return "\r\n ".join(parts)


def write(lines: list[str]) -> bytes:
    """Content lines (each ``NAME;PARAMS:value``, values made with ``text``, ``uri``, ``param``
    and the rest) as an iCalendar stream: UTF-8, CRLF after every line, long lines folded.

    A value holding a line break would have ended its line: it is refused (``ValueError``),
    never written."""
    stream = "\r\n".join(lines)
    breaks = len(lines) - 1
    if stream.count("\n") != breaks or stream.count("\r") != breaks:
        raise ValueError("a content line holds a line break")
    # Only lines that might pass 75 octets are encoded to measure (a character is at most 4
    # octets, an ASCII one 1; ``isascii`` is a flag read): the few long ones are folded, the
    # thousands of others left alone.
    long = [number for number, line in enumerate(lines)
            if len(line) > _SHORT and (len(line) > LINE_OCTETS or not line.isascii())
            and len(line.encode()) > LINE_OCTETS]
    if long:
        lines = list(lines)
        for number in long:
            lines[number] = fold(lines[number])
        stream = "\r\n".join(lines)
    return (stream + "\r\n").encode()
