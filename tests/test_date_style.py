"""Dates and times in one style, the NHS.UK one, on every page and in every email; and date
entry in the NHS.UK date-input pattern (day, month and year boxes).

The crawl walks every page of the authorisation table (each feature's data, plus the demo
region) as each person who may see it, and reads the text people see.
"""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from lms.clock import date_text, time_text, utcnow
from lms.demo import seed_demo
from lms.form_fields import PARTS, DayField
from tests.authz import OK
from tests.crawl import crawl
from tests.test_authorisation import MODULES

# Forms of a date or a time that the NHS.UK style never uses.
FORBIDDEN = {
    "a time with :00 (9:00am, 12:00am)": re.compile(r"\b\d{1,2}:00\s?[ap]\.?m\b", re.I),
    "a 24-hour time (09:30, 14:00, 00:00)": re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b(?!\s?[ap]m)"),
    "an abbreviated month (Jan, Sept)": re.compile(
        r"\b\d{1,2} (Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b|"
        r"\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec) \d{4}\b"),
    "an abbreviated day (Tue 14)": re.compile(
        r"\b(Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun) \d"),
    "an ISO date in text (2027-01-14)": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "a numeric date (14/01/2027)": re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
    "a capital AM or PM": re.compile(r"\b\d{1,2}(:\d{2})?\s?(AM|PM)\b"),
}


class _Text(HTMLParser):
    """The text a person reads: not scripts, styles, or what people typed into boxes."""

    SKIP = {"script", "style", "textarea", "pre", "code"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def style_faults(text: str) -> list[str]:
    faults = []
    for name, pattern in FORBIDDEN.items():
        for match in pattern.finditer(text):
            start = max(match.start() - 40, 0)
            faults.append(f"{name}: …{text[start:match.end() + 20]}…")
    return faults


def test_the_style_checker_catches_each_forbidden_form():
    for bad in ("at 12:00am", "from 09:30 to 14:00", "3 Jan 2027", "Mar 2027", "Tue 14 January",
                "on 2027-01-14", "on 14/01/2027", "at 9:30AM"):
        assert style_faults(bad), bad
    assert style_faults("Tuesday 14 January 2027, 9:30am to 12 noon, or 12 midnight") == []


# The API's reference documents machine formats (RFC 3339), which are not written for people.
NOT_FOR_READING = {"api.docs"}


def _crawl(client, login, people, world: dict | None, module=None) -> tuple[int, dict]:
    """Every GET page of the crawl that answers a page: how many, and their faults."""
    faults: dict[str, list[str]] = {}
    pages = 0
    for url, role in crawl(login, people, world, module, skip=NOT_FOR_READING):
        response = client.get(url)
        response.close()  # a streamed download ends here, in its own request context
        if response.status_code != OK or response.mimetype != "text/html":
            continue
        pages += 1
        found = style_faults(visible_text(response.get_data(as_text=True)))
        if found:
            faults[f"{url} as {role}"] = found
    return pages, faults


def _report(faults: dict[str, list[str]]) -> str:
    return "\n".join(f"{where}: {fault}" for where, found in faults.items() for fault in found)


def _email_faults(mailbox) -> dict[str, list[str]]:
    faults = {}
    for message in mailbox.deliver():
        found = style_faults(message.get_body(("plain",)).get_content())
        if found:
            faults[f"email {message['Subject']!r}"] = found
    return faults


# Features with no page to read (observability answers /metrics in Prometheus' text format).
NO_PAGES = {"tests.authz.observability"}


@pytest.mark.parametrize("module", [m for m in MODULES if m.__name__ not in NO_PAGES],
                         ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_page_and_email_of_a_feature_writes_dates_in_the_one_style(
        app, client, login, people, mailbox, module):
    world = module.world(app, people)
    pages, faults = _crawl(client, login, people, world, module)
    faults.update(_email_faults(mailbox))
    assert pages > 0
    assert faults == {}, _report(faults)


def test_the_demo_region_pages_write_dates_in_the_one_style(app, client, login, people):
    """The lists, dashboards and homes, full of the demo region's courses, events, places,
    completions and surveys."""
    with app.app_context():
        seed_demo()
    pages, faults = _crawl(client, login, people, None)
    assert pages > 40
    assert faults == {}, _report(faults)


# ---------------------------------------------------------------------------- date input


class _DateForm(FlaskForm):
    class Meta:
        csrf = False

    day = DayField("Date")
    release = DayField("Release on", noun="The release date")


def _form(app, **data) -> _DateForm:
    with app.test_request_context(method="POST", data=MultiDict(data)):
        form = _DateForm()
        form.validate()
        return form


def test_three_boxes_make_a_date(app):
    form = _form(app, **{"day-day": "9", "day-month": "3", "day-year": "2027"})
    assert form.day.data == date(2027, 3, 9) and form.day.errors == []
    assert form.release.data is None and form.release.errors == []


def test_a_single_iso_value_is_still_read(app):
    assert _form(app, day="2027-03-09").day.data == date(2027, 3, 9)
    assert _form(app, day="9/3/2027").day.data == date(2027, 3, 9)
    assert _form(app, day="2027-02-30").day.errors == ["Date must be a real date"]


def test_each_date_input_error_says_what_is_wrong_and_marks_its_box(app):
    cases = [
        ({"day-day": "9", "day-month": "", "day-year": "2027"},
         "Date must include a month", {"month"}),
        ({"day-day": "", "day-month": "", "day-year": "2027"},
         "Date must include a day and month", {"day", "month"}),
        ({"day-day": "31", "day-month": "2", "day-year": "2027"},
         "Date must be a real date", {"day", "month", "year"}),
        ({"day-day": "9", "day-month": "March", "day-year": "2027"},
         "Date must be a real date", {"month"}),
        ({"day-day": "9", "day-month": "3", "day-year": "27"}, "Year must include 4 numbers",
         {"year"}),
    ]
    for data, message, boxes in cases:
        form = _form(app, **data)
        assert form.day.errors == [message], data
        assert form.day.bad_parts == boxes, data
        assert form.day.parts() == {part: data[f"day-{part}"] for part in PARTS}, data
    form = _form(app, **{"release-day": "9", "release-year": "2027"})
    assert form.release.errors == ["The release date must include a month"]


def test_a_form_shows_the_date_input_pattern_and_its_errors(client, login, people):
    login(people.faculty)
    page = client.get("/faculty/webinars/new").get_data(as_text=True)
    assert 'type="date"' not in page
    assert '<div class="nhsuk-date-input" id="day-boxes">' in page
    for part in ("day", "month", "year"):
        assert f'name="day-{part}" type="text" inputmode="numeric"' in page
    bad = client.post("/faculty/webinars/new", data={
        "title": "Forecasting", "summary": "x", "status": "open",
        "day-day": "14", "day-month": "", "day-year": "2027", "start": "12:30", "end": "13:30",
        "join_url": "https://teams.example.com/l/x"}).get_data(as_text=True)
    assert '<a href="#day">Date must include a month</a>' in bad
    month_box = re.search(r'<input [^>]*name="day-month"[^>]*>', bad).group(0)
    day_box = re.search(r'<input [^>]*name="day-day"[^>]*>', bad).group(0)
    assert "nhsuk-input--error" in month_box and "nhsuk-input--error" not in day_box
    assert 'value="14"' in day_box  # what was typed is kept


def test_the_style_functions_are_what_the_pages_use():
    """The crawl's patterns agree with the functions: what they write passes."""
    now = utcnow()
    assert style_faults(f"{date_text(now, weekday=True)}, {time_text(now)}") == []
