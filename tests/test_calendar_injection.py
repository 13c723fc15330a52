"""No field can add a property or an event to a calendar (issue 16, item 14): a joining link
with a line break is refused where it is typed, and the one writer (``icalendar``) escapes or
leaves out whatever reaches it, in invitations, downloads and feeds alike."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest

from lms.accounts.models import User
from lms.clock import utcnow
from lms.errors import DomainError
from lms.offerings import calendar
from lms.offerings.schedule import check_join_url

INJECTED = "\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil@example\r\nSUMMARY:Injected\r\nX-EVIL:1"
HOSTILE = [INJECTED, INJECTED.replace("\r\n", "\n"), INJECTED.replace("\r\n", "\r"),
           "\u2028BEGIN:VEVENT", "\x00\x1b;,\\:\"'", "a" * 500 + INJECTED]


@pytest.mark.parametrize("tail", HOSTILE + [" x", "\tx", "\x0bx"])
def test_a_joining_link_with_a_line_break_or_space_is_refused(tail):
    with pytest.raises(DomainError, match="joining link"):
        check_join_url("https://teams.example.com/l/x" + tail, "join_url")


def test_an_ordinary_joining_link_is_kept():
    url = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0?context=%7b%7d"
    assert check_join_url(url, "join_url") == url


def _lines(content: bytes) -> list[str]:
    """The content lines, unfolded."""
    return content.decode("utf-8").replace("\r\n ", "").split("\r\n")


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("method", [None, "REQUEST", "CANCEL"])
def test_hostile_values_in_every_field_stay_inside_one_event(ctx, value, method):
    start = utcnow() + timedelta(days=3)
    event = calendar.CalendarEvent(
        session_id=7, sequence=1, starts_at=start, ends_at=start + timedelta(hours=1),
        summary="Talk" + value, cancelled=method == "CANCEL", location="Room" + value,
        join_url="https://teams.example.com/x" + value,
        page_url="https://learning.example/x" + value, details=["Speaker" + value])
    person = User(full_name="Ann" + value, email="ann@example.nhs.uk" + value)
    content = calendar.write_calendar([event], method=method, name="Feed" + value,
                                      feed=method is None, attendee=person)
    lines = _lines(content)
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    assert not any(line.startswith(("X-EVIL", "UID:evil", "SUMMARY:Injected"))
                   for line in lines)
    parsed = icalendar.Calendar.from_ical(content)
    [vevent] = parsed.walk("VEVENT")
    assert str(vevent["UID"]).startswith("session-7@")
    assert str(vevent["SUMMARY"]).removeprefix("Cancelled: ").startswith("Talk")  # as text
    # A link that is not one is left out, never written raw.
    assert "URL" not in vevent and "X-MICROSOFT-SKYPETEAMSMEETINGURL" not in vevent
    for line in lines:
        assert "\r" not in line and "\n" not in line and len(line.encode()) <= 5000


def test_a_clean_event_keeps_its_links_and_attendee(ctx):
    start = utcnow() + timedelta(days=3)
    event = calendar.CalendarEvent(
        session_id=8, sequence=2, starts_at=start, ends_at=start + timedelta(hours=1),
        summary="Talk", join_url="https://teams.example.com/x",
        page_url="https://learning.example/webinars/8")
    person = User(full_name='Zoë "Z" O\'Brien, PhD', email="zoe@example.nhs.uk")
    content = calendar.write_calendar([event], method="REQUEST", attendee=person)
    [vevent] = icalendar.Calendar.from_ical(content).walk("VEVENT")
    assert str(vevent["URL"]) == "https://learning.example/webinars/8"
    assert str(vevent["X-MICROSOFT-SKYPETEAMSMEETINGURL"]) == "https://teams.example.com/x"
    assert str(vevent["ATTENDEE"]) == "mailto:zoe@example.nhs.uk"
    assert vevent["ATTENDEE"].params["CN"] == 'Zoë "Z" O\'Brien, PhD'
    assert str(vevent["ORGANIZER"]).startswith("mailto:")
    assert "DTSTART;TZID=Europe/London:" in content.decode()
