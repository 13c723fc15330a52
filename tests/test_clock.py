"""The clock the suite runs on, and the habits that keep it the only one.

Every test starts at ``TEST_NOW`` (tests/conftest.py), so a test that builds dates from "now"
gets the same dates whatever the hour it runs at. These tests fail if that pin is lost, and if
code reads the time in a way the pin, or London's calendar, does not govern: ``date.today()``
and naive ``datetime.now()`` give the machine's local date, not London's, and
``datetime.utcnow()`` is naive.
"""

from __future__ import annotations

import ast
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from lms.clock import LONDON, to_london, utcnow
from tests import conftest
from tests.conftest import DEFAULT_NOW, TEST_NOW, _moment_from

ROOT = Path(__file__).resolve().parents[1]
# Where the time may be read straight from Python: the one clock.
CLOCK = ROOT / "lms" / "clock.py"


def test_every_test_starts_at_the_same_moment():
    assert abs(utcnow() - TEST_NOW) < timedelta(seconds=30)
    assert abs(datetime.now(UTC) - TEST_NOW) < timedelta(seconds=30)
    assert abs(time.time() - TEST_NOW.timestamp()) < 30


def test_the_pinned_clock_ticks():
    """Ticking, so code that waits on time.time() (throttles, polling) still moves on."""
    before = utcnow()
    time.sleep(0.01)
    assert utcnow() > before


def test_a_test_that_moves_the_clock_comes_back_to_the_pinned_one():
    with time_machine.travel(datetime(2030, 1, 1, tzinfo=UTC)):
        assert utcnow().year == 2030
    assert abs(utcnow() - TEST_NOW) < timedelta(minutes=1)
    conftest._clock.shift(timedelta(days=1))  # as a careless test might; the next one is back


def test_the_next_test_starts_at_the_pinned_moment_again():
    """Runs after the test above shifted the clock a day on (pytest keeps the file's order)."""
    assert abs(utcnow() - TEST_NOW) < timedelta(seconds=30)


@pytest.mark.real_clock
def test_a_real_clock_test_runs_on_the_wall_clock():
    wall = datetime.fromtimestamp(time_machine.escape_hatch.time.time(), UTC)
    assert abs(utcnow() - wall) < timedelta(seconds=30)


def test_the_default_moment_is_an_ordinary_morning():
    """Far from midnight, a month's end and a clock change, and London is not on UTC."""
    local = to_london(DEFAULT_NOW)
    assert 8 <= local.hour <= 17 and 3 <= local.day <= 25 and local.weekday() < 5
    assert local.utcoffset() != timedelta(0)
    for days in (-7, 7):
        assert to_london(DEFAULT_NOW + timedelta(days=days)).utcoffset() == local.utcoffset()


@pytest.mark.parametrize(("setting", "expected"), [
    (None, DEFAULT_NOW),
    ("", DEFAULT_NOW),
    ("2027-03-27T22:30:00", datetime(2027, 3, 27, 22, 30, tzinfo=UTC)),
    ("2026-12-31T23:59:30+00:00", datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)),
    ("2027-07-01T00:30:00+01:00", datetime(2027, 6, 30, 23, 30, tzinfo=UTC)),
])
def test_lms_test_now_chooses_the_moment(setting, expected):
    assert _moment_from(setting) == expected


def test_lms_test_now_wall_takes_the_wall_clock():
    """``wall`` reads the clock as the run starts, which is what `faketime` sets."""
    with time_machine.travel(datetime(2028, 2, 29, 23, 30, 0, 250_000, tzinfo=UTC)):
        assert _moment_from("wall") == datetime(2028, 2, 29, 23, 30, tzinfo=UTC)


# ---------------------------------------------------------------------------- the habits
FORBIDDEN = {
    ("date", "today"): "the machine's local date; use to_london(utcnow()).date()",
    ("datetime", "today"): "naive local time; use lms.clock.utcnow()",
    ("datetime", "utcnow"): "naive; use lms.clock.utcnow()",
    ("time", "localtime"): "the machine's local time; use lms.clock.to_london()",
}


def _python_files() -> list[Path]:
    found = []
    for folder in ("lms", "tests", "bench", "migrations"):
        found.extend(p for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts)
    return sorted(found)


def _misreadings(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    in_app = path.is_relative_to(root / "lms") and path != CLOCK
    problems = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
        where = f"{path.relative_to(root)}:{node.lineno}"
        why = FORBIDDEN.get((name, node.func.attr))
        if why:
            problems.append(f"{where} {name}.{node.func.attr}(): {why}")
        elif (name, node.func.attr) == ("datetime", "now"):
            if not node.args and not node.keywords:
                problems.append(f"{where} datetime.now() without a zone: naive local time")
            elif in_app:
                problems.append(f"{where} datetime.now(): read the time through lms.clock")
    return problems


def test_time_is_read_only_in_ways_the_pin_and_london_govern():
    problems = [p for path in _python_files() for p in _misreadings(path)]
    assert problems == []


def test_the_habit_check_sees_what_it_forbids(tmp_path):
    (tmp_path / "lms").mkdir()
    sample = tmp_path / "lms" / "sample.py"
    sample.write_text("import datetime as dt\nfrom datetime import UTC, date, datetime\n"
                      "a = date.today()\nb = dt.date.today()\nc = datetime.now()\n"
                      "d = datetime.utcnow()\ne = datetime.now(UTC)\nf = utcnow()\n")
    found = [line.split(" ")[:2] for line in _misreadings(sample, tmp_path)]
    assert found == [["lms/sample.py:3", "date.today():"], ["lms/sample.py:4", "date.today():"],
                     ["lms/sample.py:5", "datetime.now()"],
                     ["lms/sample.py:6", "datetime.utcnow():"],
                     ["lms/sample.py:7", "datetime.now():"]]


def test_london_today_is_not_the_utc_date_late_on_a_summer_evening():
    """Why ``date.today()`` is forbidden: at 23:30 UTC in summer London is already tomorrow."""
    with time_machine.travel(datetime(2027, 6, 30, 23, 30, tzinfo=UTC), tick=False):
        assert to_london(utcnow()).date() == date(2027, 7, 1)
        assert utcnow().date() == date(2027, 6, 30)
        assert datetime.now(LONDON).date() == date(2027, 7, 1)


def test_servers_the_tests_start_get_no_faketime():
    """PostgreSQL, Chromium and gunicorn run on the real clock even under `faketime`."""
    from tests.wall_clock import wall_clock_environment

    faked = {"PATH": "/usr/bin", "FAKETIME": "@2026-12-31 23:59:30",
             "FAKETIME_SHARED": "/faketime_sem_1 /faketime_shm_1",
             "LD_PRELOAD": "/usr/$LIB/faketime/libfaketime.so.1 /opt/other.so"}
    assert wall_clock_environment(faked) == {"PATH": "/usr/bin", "LD_PRELOAD": "/opt/other.so"}
    assert "LD_PRELOAD" not in wall_clock_environment(
        {"LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"})


def test_the_nhs_style_for_dates_and_times():
    from lms.clock import date_text, span_text, time_text, when_text

    winter = datetime(2027, 1, 14, 9, 30, tzinfo=UTC)  # 9:30 in London (GMT)
    summer = datetime(2027, 7, 1, 11, 0, tzinfo=UTC)  # 12 noon in London (BST)
    assert when_text(winter) == "Thursday 14 January 2027, 9:30am"
    assert time_text(summer) == "12 noon"
    assert time_text(datetime(2027, 1, 14, 0, 0, tzinfo=UTC)) == "12 midnight"
    assert time_text(datetime(2027, 1, 14, 14, 0, tzinfo=UTC)) == "2pm"
    assert time_text(datetime(2027, 1, 14, 0, 5, tzinfo=UTC)) == "12:05am"
    assert date_text(date(2027, 3, 2)) == "2 March 2027"
    assert date_text(date(2027, 3, 2), weekday=True) == "Tuesday 2 March 2027"
    # 23:30 UTC on 30 June is already 1 July in London.
    assert date_text(datetime(2027, 6, 30, 23, 30, tzinfo=UTC)) == "1 July 2027"
    morning = span_text(winter, winter.replace(hour=12, minute=0))
    assert morning == "Thursday 14 January 2027, 9:30am to 12 noon"
    overnight = span_text(winter, winter.replace(day=15, hour=1, minute=0))
    assert overnight.endswith("to Friday 15 January 2027, 1am")
