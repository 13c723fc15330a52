"""Our own iCalendar writer (``lms.offerings.ics``, issue 19): hostile text reads back intact
through ``icalendar`` (and ``vobject``), no line passes 75 octets or splits a character, iTIP
invitations and cancellations keep their meaning, and the demo's feeds, downloads and
invitations parse to exactly what the ``icalendar`` writer it replaced made
(tests/ics_reference.py), property by property and in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import vobject
from sqlalchemy import select

from lms.accounts.models import User
from lms.clock import to_london, utcnow
from lms.demo import seed_demo
from lms.extensions import db
from lms.notifications.services import link
from lms.offerings import calendar, ics
from lms.offerings import feed as offering_feed
from lms.offerings.models import Booking, BookingState, Enrolment, Offering
from lms.web import offering_page
from tests import ics_reference

EMOJI = "📅🎉👩‍⚕️🏥💊" * 40  # with a joiner (the woman health worker)
WELSH = "Ŵyl Dysgu Gwasanaethau Iechyd: ŷ ŵ â ê î ô û ï ë, Llanfairpwllgwyngyll " * 3
CHINESE = "数据分析与决策支持网络学习活动" * 14
HOSTILE = {
    "semicolon": "Costs; benefits",
    "comma": "Costs, benefits, trade-offs",
    "backslash": "C:\\temp\\n not a newline \\; \\,",
    "newline": "First line\nSecond line",
    "crlf": "First line\r\nSecond line",
    "cr": "First line\rSecond line",
    "colon and quotes": 'Re: "Teams" 10:30; \'quoted\'',
    "injection": "x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil@example\r\nSUMMARY:Injected",
    "emoji 200": EMOJI[:200],
    "welsh 200": WELSH[:200],
    "chinese 200": CHINESE[:200],
    "mixed 200": (WELSH[:60] + CHINESE[:60] + EMOJI[:40] + ";,\n" * 15)[:200],
}


def read_back(value: str) -> str:
    """What a text value should read back as: every line break one ``\\n``."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def physical_lines(content: bytes) -> list[bytes]:
    assert content.endswith(b"\r\n")
    return content[:-2].split(b"\r\n")


def assert_well_formed(content: bytes) -> None:
    for line in physical_lines(content):
        assert len(line) <= 75, line
        line.decode("utf-8")  # no character split across a fold
        assert b"\r" not in line and b"\n" not in line


# ---------------------------------------------------------------------------- the format


@pytest.mark.parametrize("character", ["a", "é", "€", "📅", "👩‍⚕️"])
def test_folding_keeps_lines_within_75_octets_and_unfolds_to_the_line(character):
    for length in range(0, 160):
        line = "DESCRIPTION:" + character * length
        folded = ics.write([line])
        assert_well_formed(folded)
        parts = physical_lines(folded)
        assert all(part.startswith(b" ") for part in parts[1:])
        assert b"".join([parts[0], *(part[1:] for part in parts[1:])]).decode() == line
        # Folds are as late as they can be: a line is split only when it must be.
        if len(line.encode()) <= 75:
            assert len(parts) == 1


def test_a_line_break_that_reaches_the_writer_is_refused_not_written():
    for raw in ("SUMMARY:a\nX-EVIL:1", "SUMMARY:a\rX-EVIL:1", "SUMMARY:a\r\nX-EVIL:1"):
        with pytest.raises(ValueError, match="line break"):
            ics.write(["BEGIN:VCALENDAR", raw, "END:VCALENDAR"])


def test_text_values_are_escaped_and_control_characters_left_out():
    assert ics.text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"
    assert ics.text("a\r\nb\rc\u2028d\u2029e") == "a\\nb\\nc\\nd\\ne"
    assert ics.text("bell\x07, tab\tand\u00a0space\x00") == "bell\\, tab and space"
    assert ics.text("👩\u200d⚕️") == "👩\u200d⚕️"  # the joiner holds the emoji together
    assert ics.text("") == ""


def test_links_that_could_break_a_line_are_left_out():
    assert ics.uri("https://teams.example.com/l/x?a=1;b=2,c") == \
        "https://teams.example.com/l/x?a=1;b=2,c"
    for bad in ("", "https://x/ y", "https://x/\ty", "https://x/\r\nX-EVIL:1", "https://x/\x00",
                "https://x/\u2028"):
        assert ics.uri(bad) is None


def test_parameter_values_are_quoted_on_one_line_with_rfc_6868_escapes():
    assert ics.param('Zoë "Z" O\'Brien, PhD') == '"Zoë ^\'Z^\' O\'Brien, PhD"'
    assert ics.param("A^B\r\n  C;D:E") == '"A^^B C;D:E"'


def test_dates_and_durations():
    moment = datetime(2027, 1, 14, 9, 30, 5, 123456, tzinfo=UTC)
    assert ics.utc(moment) == "20270114T093005Z"
    assert ics.local(to_london(moment.replace(month=7))) == "20270714T103005"
    assert ics.duration(timedelta(hours=1)) == "PT1H"
    assert ics.duration(timedelta(minutes=90)) == "PT90M"
    assert ics.duration(timedelta(days=1)) == "P1D"
    with pytest.raises(ValueError):
        ics.duration(timedelta(0))


# ---------------------------------------------------------------------------- round trips


def _event(value: str, **changes) -> calendar.CalendarEvent:
    start = utcnow() + timedelta(days=3)
    fields = {"session_id": 7, "sequence": 4, "starts_at": start,
              "ends_at": start + timedelta(hours=1), "summary": value, "location": value,
              "join_url": "https://teams.example.com/l/x",
              "page_url": "https://learning.example/webinars/7", "details": [value, value]}
    return calendar.CalendarEvent(**(fields | changes))


@pytest.mark.parametrize("method", [None, "REQUEST", "CANCEL"])
@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_text_round_trips_through_icalendar_to_the_same_values(ctx, value, method):
    event = _event(value, cancelled=method == "CANCEL")
    person = User(full_name=value, email="ann@example.nhs.uk")
    content = calendar.write_calendar([event], method=method, name=value,
                                      feed=method is None, attendee=person)
    assert_well_formed(content)
    expected = read_back(value)
    prefix = "Cancelled: " if method == "CANCEL" else ""
    # vobject, the independent parser, reads exactly the text written.
    other = vobject.readOne(content.decode())
    assert other.x_wr_calname.value == expected
    [other_event] = other.vevent_list
    assert other_event.summary.value == prefix + expected
    assert other_event.location.value == expected
    parsed = icalendar.Calendar.from_ical(content)
    name = " ".join(expected.split())
    if "\\" in value:
        # icalendar unescapes "\\n" (a backslash, then n) as a backslash and a line break: so
        # it reads its own writer's output, and here it reads ours as it read that.
        old = icalendar.Calendar.from_ical(ics_reference.write_calendar(
            [event], method=method, name=value, feed=method is None, attendee=person))
        expected = str(old["X-WR-CALNAME"])
        assert str(old.walk("VEVENT")[0]["SUMMARY"]) == prefix + expected
        if method:  # (and drops a backslash before ";" or "," in a parameter)
            name = old.walk("VEVENT")[0]["ATTENDEE"].params["CN"]
    assert str(parsed["X-WR-CALNAME"]) == expected
    [vevent] = parsed.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == prefix + expected
    assert str(vevent["LOCATION"]) == expected
    assert str(vevent["DESCRIPTION"]) == "\n".join([
        expected, expected, "Joining link: https://teams.example.com/l/x",
        "Details: https://learning.example/webinars/7"])
    assert str(vevent["UID"]) == "session-7@127.0.0.1" and vevent["SEQUENCE"] == 4
    if method:
        assert vevent["ATTENDEE"].params["CN"] == name
    assert str(vevent["URL"]) == "https://learning.example/webinars/7"


def test_an_empty_location_is_left_out_or_says_online(ctx):
    for join_url, expected in (("", None), ("https://teams.example.com/l/x", "Online")):
        content = calendar.write_calendar([_event("Talk", location="", join_url=join_url)])
        [vevent] = icalendar.Calendar.from_ical(content).walk("VEVENT")
        assert (str(vevent["LOCATION"]) if "LOCATION" in vevent else None) == expected


def test_invitations_and_cancellations_keep_their_itip_meaning(ctx):
    person = User(full_name="Ann Example", email="ann@example.nhs.uk")
    invite = icalendar.Calendar.from_ical(
        calendar.write_calendar([_event("Talk")], method="REQUEST", attendee=person))
    cancel = icalendar.Calendar.from_ical(calendar.write_calendar(
        [_event("Talk", cancelled=True, join_url="")], method="CANCEL", attendee=person))
    assert str(invite["METHOD"]) == "REQUEST" and str(cancel["METHOD"]) == "CANCEL"
    [request], [cancellation] = invite.walk("VEVENT"), cancel.walk("VEVENT")
    # One UID and the current SEQUENCE in both: the cancellation removes that very meeting.
    assert str(request["UID"]) == str(cancellation["UID"])
    assert request["SEQUENCE"] == cancellation["SEQUENCE"] == 4
    assert str(request["STATUS"]) == "CONFIRMED" and str(cancellation["STATUS"]) == "CANCELLED"
    assert request["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert cancellation["ATTENDEE"].params["PARTSTAT"] == "DECLINED"
    assert str(request["ORGANIZER"]) == str(cancellation["ORGANIZER"])
    assert str(request["X-MICROSOFT-SKYPETEAMSMEETINGURL"]) == "https://teams.example.com/l/x"
    assert "X-MICROSOFT-SKYPETEAMSMEETINGURL" not in cancellation
    assert str(cancellation["TRANSP"]) == "TRANSPARENT" and "TRANSP" not in request
    with pytest.raises(ValueError, match="iTIP"):
        calendar.write_calendar([_event("Talk")], method="PUBLISH\r\nX-EVIL:1")


# ---------------------------------------------------------------------------- old and new


def components(content: bytes) -> list[tuple]:
    """Every component's properties as ``icalendar`` parses them, in order: (name, value as
    icalendar writes it back, parameters). DTSTAMP (the moment of writing) only checked."""
    found = []
    for component in icalendar.Calendar.from_ical(content).walk():
        found.append(("BEGIN", component.name))
        for name, value in component.property_items(recursive=False, sorted=False)[1:-1]:
            if name == "DTSTAMP":
                assert abs(value.dt - utcnow()) < timedelta(minutes=1)
                continue
            found.append((name, value.to_ical(), sorted(value.params.items())))
    return found


def assert_same(events: list[calendar.CalendarEvent], **options) -> bytes:
    new = calendar.write_calendar(events, **options)
    assert_well_formed(new)
    assert components(new) == components(ics_reference.write_calendar(events, **options))
    return new


def test_the_demo_calendars_parse_to_what_the_icalendar_writer_made(ctx):
    seed_demo()
    people = db.session.scalars(
        select(User).where(User.id.in_(select(Enrolment.user_id).union(
            select(Booking.user_id).where(Booking.state == BookingState.BOOKED))))
        .order_by(User.id)).all()
    compared = 0
    for person in people:
        events = offering_feed.feed_events(person.id)
        feed = offering_feed.personal_feed(person)
        assert components(feed) == components(ics_reference.write_calendar(
            events, name=f"MDSN Learning & Events: {person.full_name}", feed=True))
        compared += len(events)
    assert len(people) > 10 and compared > 100
    # Downloads, invitations and cancellations of every demo session, joining link and all.
    ann = people[0]
    offerings = db.session.scalars(select(Offering).order_by(Offering.id)).all()
    for offering in offerings:
        details = calendar.session_details({s.id: offering.kind for s in offering.sessions})
        events = [calendar.event_for(s, with_join=True, details=details.get(s.id, []))
                  for s in offering.sessions]
        if not events:
            continue
        assert_same(events, name=offering.title)
        assert_same(events[:1], method="REQUEST", attendee=ann)
        for event in events:
            event.cancelled = True
        assert_same(events, method="CANCEL", attendee=ann)
    assert len(offerings) > 10
    # The pages calendars link to are the addresses emails link to (one bound URL map).
    pages = calendar.page_urls({(o.kind, o.id) for o in offerings})
    assert {pages[o.kind, o.id] for o in offerings} == {
        link(offering_page(o.kind), id=o.id) for o in offerings}
