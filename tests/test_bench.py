"""The benchmark runs: its generator at tiny scales (counts grow with the scale), the
``seed-bench`` command (refused in production and on a database with people), and the
in-process page timing, whose query counts must not depend on the scale. No timings are
asserted: ``make bench`` measures them."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from bench.generate import DEFAULT_SEED, generate
from bench.pages import find_pages, time_page
from bench.run import render_table
from bench.workloads import NO_FEED_CACHE, teams_import, teams_report
from lms import create_app
from lms.attendance.reports import read_report
from lms.extensions import db

SMALL, LARGE = 0.02, 0.04
# The pages of the features this benchmark watches most closely; the dashboards are timed
# by `make bench` too.
PAGES = ("catalogue", "course", "cohort", "my_learning", "register", "survey_results",
         "feed", "feed_304")
GROWS = ("user_account", "cohort", "enrolment", "session_booking", "attendance",
         "completion", "survey_answer", "certificate", "competency_evidence")


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> dict[float, tuple[Flask, dict]]:
    """A benchmark database at each of two tiny scales, with an app on each."""
    made = {}
    for scale in (SMALL, LARGE):
        folder: Path = tmp_path_factory.mktemp(f"bench-{scale:g}")
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'b.sqlite3'}",
                         MAIL_OUTBOX_DIR=str(folder / "outbox"), **NO_FEED_CACHE)
        with app.app_context():
            db.create_all()
            counts = generate(scale)
            db.session.remove()
        made[scale] = (app, counts)
    return made


def test_the_generator_counts_grow_with_the_scale(scaled):
    small, large = scaled[SMALL][1], scaled[LARGE][1]
    assert small["user_account"] == round(3000 * SMALL)
    assert small["organisation"] == large["organisation"] == 14
    for table in GROWS:
        assert small[table] > 0, table
        assert 1.6 <= large[table] / small[table] <= 2.4, (table, small[table], large[table])


def fingerprint(scale: float, seed: int = DEFAULT_SEED) -> str:
    """A digest of what the generator wrote at ``scale`` with ``seed``, in a fresh database."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    digest = hashlib.sha256()
    with app.app_context():
        db.create_all()
        generate(scale, seed)
        for statement in (
            "SELECT email, organisation_id FROM user_account ORDER BY id",
            "SELECT offering_id, user_id, state, waitlist_position FROM enrolment ORDER BY id",
            "SELECT session_id, user_id, status FROM attendance ORDER BY id",
            "SELECT id, question_id, number, text FROM survey_answer ORDER BY id",
            "SELECT serial, code, user_id FROM certificate ORDER BY id",
        ):
            for row in db.session.execute(text(statement)):
                digest.update(repr(tuple(row)).encode())
        db.session.remove()
    return digest.hexdigest()


def test_the_generator_is_deterministic():
    assert fingerprint(SMALL) == fingerprint(SMALL)
    assert fingerprint(SMALL, seed=1) != fingerprint(SMALL)


def test_pages_cost_the_same_number_of_queries_at_both_scales(scaled):
    timings = {}
    for scale, (app, _) in scaled.items():
        pages = {p.key: p for p in find_pages(app)}
        timings[scale] = {key: time_page(app, pages[key], runs=2, warm=1) for key in PAGES}
    for key in PAGES:
        small, large = timings[SMALL][key], timings[LARGE][key]
        assert small.status == large.status == small.page.expect, (key, small.status,
                                                                   large.status)
        assert not small.queries_vary and not large.queries_vary, key
        assert small.queries == large.queries, (key, small.queries, large.queries)
    assert timings[LARGE]["feed_304"].queries < timings[LARGE]["feed"].queries
    table = render_table({
        "scales": [f"{SMALL:g}", f"{LARGE:g}"],
        "page_labels": {key: timings[SMALL][key].page.label for key in PAGES},
        "pages": {f"{scale:g}": {key: t.as_dict() for key, t in found.items()}
                  for scale, found in timings.items()},
    })
    assert "Personal feed, 304: queries" in table


def test_seed_bench_fills_an_empty_database_once(app, runner):
    result = runner.invoke(args=["lms", "seed-bench", "--scale", str(SMALL)])
    assert result.exit_code == 0, result.output
    assert f"{round(3000 * SMALL)} user_account" in result.output
    again = runner.invoke(args=["lms", "seed-bench", "--scale", str(SMALL)])
    assert again.exit_code != 0 and "without people" in again.output


def test_seed_bench_refuses_the_production_config(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_CONFIG_NAME", "production")
    result = runner.invoke(args=["lms", "seed-bench", "--scale", str(SMALL)])
    assert result.exit_code != 0
    assert "production" in result.output


def test_the_busiest_survey_has_2000_responses_at_scale_1(scaled):
    app, _ = scaled[LARGE]
    page = {p.key: p for p in find_pages(app)}["survey_results"]
    assert page.label == f"Survey results ({round(2000 * LARGE)} responses)"
    assert page.target_ms == 100


def test_the_bench_teams_report_is_read_as_teams_writes_it():
    people = [(f"Person {n}", f"p{n}@example.nhs.uk") for n in range(40)]
    starts = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
    data = teams_report("Huddle", starts, starts + timedelta(hours=1), people)
    assert data[:2] == b"\xff\xfe"  # UTF-16 with a byte order mark
    text = data.decode("utf-16")
    assert "1. Summary\r\n" in text and "2. Participants\r\n" in text
    assert "3. In-Meeting Activities\r\n" in text
    report = read_report(data, "meeting-attendance.csv")
    assert report.kind == "teams"
    assert sorted(r.email for r in report.rows) == sorted(e for _, e in people)
    assert all(0 < r.minutes <= 61 for r in report.rows)


def test_the_teams_import_section_runs_at_a_tiny_scale(scaled, tmp_path):
    """On a copy of the tiny database (the section writes): every listed person with an
    account is matched, the visitors are not, and the same file again is refused."""
    source, _ = scaled[LARGE]
    copy = tmp_path / "work.sqlite3"
    with sqlite3.connect(source.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
                         ) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{copy}",
                     MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    result = teams_import(app, rows=600, unmatched=3, runs=2).as_dict()
    assert 0 < result["rows"] <= 600
    assert (result["matched"], result["unmatched"]) == (result["rows"], 3)
    assert result["runs"] == 3 and result["queries"] > 0
    assert "already been imported" in result["reimport_refused"]
    table = render_table({"scales": [f"{LARGE:g}"], "teams_import": result})
    assert f"Import of a {result['rows']:,}-row Teams report" in table


def test_the_certificates_rows_say_what_was_compared():
    """The table's certificate rows from a result as the workload returns it: wall and CPU
    ratios, whether the two PDFs matched with no WeasyPrint warning, and PDFs per worker."""
    from bench.workloads import CertificateResult

    result = CertificateResult(bare_ms=80, app_ms=40, bare_cpu_ms=70, app_cpu_ms=35,
                               bulk_count=1000, bulk_seconds=30.0, bulk_status="done: 1000 of 1000",
                               worker_peak_mb=[110.0, 112.0], bulk_cpu_parent=6.0,
                               bulk_cpu_workers=38.0, warnings=[],
                               equivalent="same: 1 page(s), Certificate-Sans (emb yes)",
                               rendered_by=[501, 499],
                               worker_schedule=[(20.5, 3.25), (21.0, 2.0)])
    table = render_table({"scales": ["1"], "page_labels": {}, "pages": {},
                          "certificates": result.as_dict()})
    assert "0.50x (0.50x)" in table and "same: 1 page(s)" in table and "0 warnings" in table
    assert "501 / 499" in table and "6.0 / 38.0" in table and "20.5 / 3.2, 21.0 / 2.0" in table
    warned = CertificateResult(80, 40, 70, 35, 1000, 30.0, "done", warnings=["Ignored src"],
                               equivalent="same", rendered_by=[1000])
    rows = render_table({"scales": ["1"], "page_labels": {}, "pages": {},
                         "certificates": warned.as_dict()})
    assert "1 warnings" in rows and rows.count("| NO ") >= 2


@pytest.mark.postgres
def test_seed_bench_on_postgresql_leaves_the_sequences_ready_for_new_rows(pg_app):
    """Bulk inserts give ids themselves; afterwards every id sequence is past the largest id,
    so the first booking (a new person, course, cohort, place and its history) just works."""
    from sqlalchemy import func, select

    from lms.accounts.models import User
    from lms.clock import utcnow
    from lms.courses.models import Cohort, Course
    from lms.offerings import services as offerings
    from lms.offerings.models import Enrolment, Session
    from tests.conftest import organisation

    result = pg_app.test_cli_runner().invoke(args=["lms", "seed-bench", "--scale", "0.01"])
    assert result.exit_code == 0, result.output
    with pg_app.app_context():
        behind = []
        for table in db.metadata.sorted_tables:
            if "id" not in table.c:
                continue
            sequence = db.session.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                                         {"t": table.name})
            if sequence is None:
                continue
            largest = db.session.scalar(select(func.max(table.c.id))) or 0
            read = f"SELECT last_value + is_called::int FROM {sequence}"  # noqa: S608
            upcoming = db.session.scalar(text(read))
            if upcoming <= largest:
                behind.append((table.name, upcoming, largest))
        assert behind == []

        person = User(email="new.after.seeding@example.nhs.uk", full_name="New Person",
                      organisation=organisation("BSOL"), job_title="Analyst",
                      email_verified_at=utcnow())
        course = Course(title="After seeding", summary="s", kind="short_course",
                        strand="analytical_capability", format="online", published=True)
        cohort = Cohort(course=course, name="Spring", title="After seeding: Spring",
                        capacity=10, status="open", booking_mode="open")
        start = utcnow() + timedelta(days=30)
        cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=2)))
        db.session.add_all([person, cohort])
        db.session.flush()
        place = offerings.book(person, cohort)
        db.session.commit()
        assert db.session.get(Enrolment, place.id).user_id == person.id


def test_the_submissions_zip_section_streams_with_little_held(tmp_path):
    """The project-work zip workload at a small size: every file is in the zip, intact, and
    what the stream held at once is far below one file; the table says so, and says NO when
    the peak goes over the target."""
    from bench.run import ZIP_PEAK_MB
    from bench.zip_workload import submissions_zip

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'z.sqlite3'}",
                     MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    result = submissions_zip(app, tmp_path, people=4, file_mb=3).as_dict()
    assert result["intact"] and result["files"] == 4 and result["zip_mb"] >= 12
    assert result["peak_mb"] < 1, "the stream held about a whole file"
    table = render_table({"scales": ["1"], "page_labels": {}, "pages": {},
                          "submissions_zip": result})
    assert "4 files of 3 MB" in table and "| NO " not in table
    over = render_table({"scales": ["1"], "page_labels": {}, "pages": {},
                         "submissions_zip": {**result, "peak_mb": ZIP_PEAK_MB + 1}})
    assert "| NO " in over
