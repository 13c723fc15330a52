"""The benchmark runs: its generator at tiny scales (counts grow with the scale), the
``seed-bench`` command (refused in production and on a database with people), the
in-process page timing of every page of the journeys, whose query counts must not depend on
the scale, the verdict (a missed target fails the run and is named; met targets pass), and
the HTTP set-up on PostgreSQL under the production config. No timings are asserted:
``make bench`` measures them."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from sqlalchemy import text

from bench.generate import ADMIN, DEFAULT_SEED, DSU_LEAD, FACULTY, generate
from bench.pages import find_pages, time_page
from bench.report import missed, render_markdown, render_pages
from bench.run import render_table, verdict
from bench.workloads import teams_import, teams_report
from bench.wsgi import with_bare
from lms import create_app
from lms.attendance.reports import read_report
from lms.extensions import db

SMALL, LARGE = 0.02, 0.04
# Pages whose query count still grows with the data (issue 19: the `lazy` work fixes them;
# `make bench` names them under "missed:" until then). Every other page must be flat here.
NOT_YET_FLAT: tuple[str, ...] = ()
GROWS = ("user_account", "cohort", "enrolment", "session_booking", "attendance",
         "completion", "survey_answer", "certificate", "competency_evidence")


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> dict[float, tuple[Flask, dict]]:
    """A benchmark database at each of two tiny scales, with an app on each."""
    made = {}
    for scale in (SMALL, LARGE):
        folder: Path = tmp_path_factory.mktemp(f"bench-{scale:g}")
        app = with_bare(create_app(
            "testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'b.sqlite3'}",
            MAIL_OUTBOX_DIR=str(folder / "outbox")))
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


def test_every_page_of_the_journeys_answers_with_the_same_queries_at_both_scales(scaled):
    timings = {}
    for scale, (app, _) in scaled.items():
        timings[scale] = {page.key: time_page(app, page, runs=2, warm=1)
                          for page in find_pages(app)}
    keys = set(timings[SMALL])
    # Every persona's pages are there, each held to its kind's targets.
    assert {"home_public", "events", "events_month", "webinar", "huddles", "festival",
            "search", "help", "home_learner", "agenda", "materials", "assignment",
            "learning_record", "cpd", "certificates", "feed_304", "home_dsu", "dsu_dashboard",
            "nominations", "nominate", "home_faculty", "register", "survey_results",
            "marking", "cohort_people", "region_dashboard", "messages", "home_admin",
            "audit", "users"} <= keys
    for key in keys:
        small, large = timings[SMALL][key], timings[LARGE][key]
        assert small.status == large.status == small.page.expect, (key, small.status,
                                                                   large.status)
        flat = (not small.queries_vary and not large.queries_vary
                and small.queries == large.queries)
        # The list only shrinks: a page on it that has become flat is taken off.
        assert flat != (key in NOT_YET_FLAT), (key, small.queries, large.queries)
    assert timings[LARGE]["feed_304"].queries < timings[LARGE]["feed"].queries
    # Polled, the feed is answered from the built feeds kept per ETag: the ETag's query only;
    # "built" is timed with that cache off, so every run builds.
    assert timings[LARGE]["feed_polled"].queries == timings[LARGE]["feed_304"].queries
    assert timings[LARGE]["feed_polled"].bytes == timings[LARGE]["feed"].bytes > 0
    # The admin's pages are the admin's, not the two-step set-up page they would be sent to
    # without the second step.
    assert timings[LARGE]["audit"].bytes > 0 and timings[LARGE]["users"].status == 200
    info = {key: {"label": t.page.label, "kind": t.page.kind, "path": t.page.path,
                  "p95_target_ms": t.page.target_ms, "share_target": t.page.share_target}
            for key, t in timings[SMALL].items()}
    results = {"scales": [f"{SMALL:g}", f"{LARGE:g}"], "page_info": info,
               "pages": {f"{scale:g}": {key: t.as_dict() for key, t in found.items()}
                         for scale, found in timings.items()}}
    table = render_pages(results)
    assert "| Personal feed, 304 " in table and "| Audit log " in table


def test_the_kinds_of_page_have_the_issues_targets(scaled):
    app, _ = scaled[LARGE]
    pages = {p.key: p for p in find_pages(app)}
    assert pages["catalogue"].share_target == 0.45
    assert pages["cohort"].share_target == 0.25
    assert pages["feed_304"].share_target == 0.60
    assert pages["feed_polled"].share_target == 0.20 and pages["feed_polled"].over_http
    # The build is held to its time in process (issue 4), not to a share over HTTP.
    assert pages["feed"].target_ms == 20 and pages["feed"].share_target is None
    assert not pages["feed"].over_http and pages["feed"].config == {"FEED_CACHE_BYTES": 0}
    assert pages["events"].share_target == pages["my_learning"].share_target == 0.20
    assert pages["register"].share_target == pages["audit"].share_target == 0.05
    assert pages["register"].target_ms == pages["dsu_dashboard"].target_ms == 50
    assert pages["events"].target_ms is None and pages["bare"].share_target is None
    assert {p.kind for p in pages.values() if p.email in (DSU_LEAD, FACULTY, ADMIN)} == {
        "staff"}


def results_of(shares: dict[str, float], p95: dict[str, float],
               queries: dict[str, tuple[int, int]]) -> dict:
    """A results dict as ``bench.run`` writes it, for three pages and the bare endpoint:
    throughput on two set-ups from ``shares`` (of a bare 1,000 req/s), in-process p95 and
    query counts at scales 0.1 and 1."""
    info = {"bare": {"label": "Bare endpoint (the floor)", "kind": "public", "path": "/b",
                     "p95_target_ms": None, "share_target": None},
            "catalogue": {"label": "Catalogue", "kind": "public", "path": "/courses",
                          "p95_target_ms": None, "share_target": 0.45},
            "register": {"label": "Register (latest huddle)", "kind": "staff", "path": "/r",
                         "p95_target_ms": 50, "share_target": 0.05}}

    def timing(key: str, scale: str) -> dict:
        small, large = queries.get(key, (0, 0))
        return {"path": info[key]["path"], "status": 200, "expect": 200, "bytes": 10,
                "median_ms": 1.0, "p95_ms": p95.get(key, 1.0), "cpu_median_ms": 1.0,
                "queries": small if scale == "0.1" else large, "queries_vary": False,
                "runs": 30, "target_ms": info[key]["p95_target_ms"]}

    def loads(database: str, workers: int) -> dict:
        return {"database": database, "workers": workers, "loads": {
            key: {"path": info[key]["path"], "requests_per_second": 1000 * shares.get(key, 1),
                  "bad_responses": 0, "socket_errors": 0, "latency_ms_p50": 1.0}
            for key in info}}

    return {"meta": {"started": "2026-12-05T05:00:00+00:00", "seconds": 300,
                     "load_average_start": [1.0, 1, 1], "load_average_end": [1.2, 1, 1]},
            "scales": ["0.1", "1"], "page_info": info, "errors": {},
            "pages": {scale: {key: timing(key, scale) for key in info}
                      for scale in ("0.1", "1")},
            "http": {"sqlite:2": loads("sqlite", 2), "postgresql:4": loads("postgresql", 4)}}


def test_met_targets_pass_the_run(capsys):
    results = results_of({"catalogue": 0.5, "register": 0.06}, {"register": 49.0},
                         {"catalogue": (1, 1), "register": (8, 8)})
    assert missed(results) == []
    assert verdict(missed(results)) == 0
    assert "Every target met." in capsys.readouterr().out
    markdown = render_markdown(results, [])
    assert "| Catalogue | public | 1 / 1 |" in markdown and "500 (50%)" in markdown
    assert "PostgreSQL, 4 workers" in markdown and "Missed: none." in markdown


def test_each_kind_of_missed_target_fails_the_run_and_names_the_page(capsys):
    # The catalogue's share just under 45% on one set-up, the register's p95 at its 50 ms
    # and its queries growing with the data.
    results = results_of({"catalogue": 0.5, "register": 0.06}, {"register": 50.0},
                         {"catalogue": (1, 1), "register": (8, 9)})
    results["http"]["postgresql:4"]["loads"]["catalogue"]["requests_per_second"] = 440
    problems = missed(results)
    assert problems == [
        "Catalogue: 44% of bare (PostgreSQL, 4 workers), target >= 45%, short by 1%",
        "Register (latest huddle): queries differ between scales (8 at 0.1, 9 at 1)",
        "Register (latest huddle): p95 50.0 ms in process at scale 1, target < 50 ms",
    ]
    assert verdict(problems) == 1
    out = capsys.readouterr().out
    assert "missed: 3 target(s)" in out and "- Catalogue: 44% of bare" in out
    # A share target above 100% cannot be met, whatever the page does.
    results = results_of({"catalogue": 0.9}, {}, {})
    results["page_info"]["catalogue"]["share_target"] = 1.5
    assert [p.split(":")[0] for p in missed(results)] == ["Catalogue", "Catalogue"]
    # A page whose process crashed (a fault in C) is named, and its row shows no numbers.
    crashed = results_of({"catalogue": 0.5}, {}, {})
    crashed["pages"]["1"]["register"] = {"crashed": True, "status": 0, "queries": 0,
                                         "queries_vary": False, "median_ms": 0.0,
                                         "p95_ms": 0.0, "cpu_median_ms": 0.0}
    assert missed(crashed) == ["Register (latest huddle): the process crashed at scale 1"]
    assert "| Register (latest huddle) | staff | 0 / - |" in render_markdown(crashed, [])
    # A section that failed to run fails the run too.
    failed = results_of({"catalogue": 0.5}, {}, {})
    failed["errors"]["http postgresql:4"] = "Traceback...\nRuntimeError: gunicorn stopped"
    assert missed(failed) == ["http postgresql:4: failed to run (RuntimeError: gunicorn "
                              "stopped)"]


def test_a_page_near_its_target_is_judged_by_its_paired_runs():
    # First pass 44% (a noisy moment): the paired runs say 47%, 46%, 50%: met, shown as paired.
    results = results_of({"catalogue": 0.5, "register": 0.06}, {}, {})
    catalogue = results["http"]["postgresql:4"]["loads"]["catalogue"]
    catalogue["requests_per_second"] = 440
    catalogue["paired_shares"] = [0.47, 0.46, 0.50]
    assert missed(results) == []
    assert "440 (47%, paired)" in render_markdown(results, [])
    # And the other way: a first pass that met it, paired runs that do not.
    catalogue["requests_per_second"] = 460
    catalogue["paired_shares"] = [0.50, 0.44, 0.43]
    assert missed(results) == ["Catalogue: 44% of bare (PostgreSQL, 4 workers, the median of 3 "
                               "paired runs), target >= 45%, short by 1%"]


def test_the_pairs_run_bare_then_page_and_only_for_pages_near_their_target(monkeypatch):
    from bench import loadtest

    assert loadtest.needs_pairing(0.65, 0.60) and loadtest.needs_pairing(0.50, 0.60)
    assert not loadtest.needs_pairing(0.67, 0.60) and not loadtest.needs_pairing(0.1, None)
    asked = []
    answers = iter([1000, 610, 900, 600, 1100, 550])

    def wrk(url, headers, seconds, connections):
        asked.append((url.rsplit("/", 1)[1], headers.get("Cookie")))
        return next(answers), 0, 0, 1.0, None

    monkeypatch.setattr(loadtest, "wrk", wrk)
    shares = loadtest.paired_shares("http://127.0.0.1:1", ("/bare", {}),
                                    ("/feed", {"Cookie": "c"}), 5, 4)
    assert asked == [("bare", None), ("feed", "c")] * 3
    assert shares == [0.61, 600 / 900, 0.5]


def test_a_tiny_run_exits_1_when_a_target_is_set_out_of_reach(monkeypatch, tmp_path,
                                                              capsys):
    """The real run, in process only, at a tiny scale, with the register's p95 target set
    to 0 ms: the run exits 1 and says so by name."""
    import bench.run as run_module
    from bench import pages as page_module

    monkeypatch.setattr(run_module, "DATA", tmp_path / "data")
    monkeypatch.setitem(page_module.PAGE_P95_TARGETS, "register", 0)
    status = run_module.main(["--scales", f"{SMALL:g}", "--only", "pages", "--runs", "2",
                              "--same-process",
                              "--out", str(tmp_path / "r.json"),
                              "--markdown", str(tmp_path / "r.md")])
    out = capsys.readouterr().out
    assert status == 1
    missed_list = out[out.index("missed:"):]
    assert "Register (latest huddle): p95 " in missed_list and "target < 0 ms" in missed_list
    assert "target < 0 ms" in (tmp_path / "r.md").read_text()


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
    assert page.target_ms == 50  # a staff page (issue 19)


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
    table = render_table({"scales": ["1"], "pages": {},
                          "certificates": result.as_dict()})
    assert "0.50x (0.50x)" in table and "same: 1 page(s)" in table and "0 warnings" in table
    assert "501 / 499" in table and "6.0 / 38.0" in table and "20.5 / 3.2, 21.0 / 2.0" in table
    warned = CertificateResult(80, 40, 70, 35, 1000, 30.0, "done", warnings=["Ignored src"],
                               equivalent="same", rendered_by=[1000])
    rows = render_table({"scales": ["1"], "pages": {},
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
    table = render_table({"scales": ["1"], "pages": {},
                          "submissions_zip": result})
    assert "4 files of 3 MB" in table and "| NO " not in table
    over = render_table({"scales": ["1"], "pages": {},
                         "submissions_zip": {**result, "peak_mb": ZIP_PEAK_MB + 1}})
    assert "| NO " in over


@pytest.mark.postgres
def test_postgresql_under_the_production_config_serves_every_persona(tmp_path):
    """The HTTP set-up of `make bench` on PostgreSQL, without wrk: a throw-away cluster
    filled by `flask lms seed-bench`, gunicorn under the production config (which refuses to
    start on anything unsafe), and a real sign-in for each persona, the admin's through the
    authenticator code, each answered with their page, not a redirect."""
    import secrets

    import requests

    from bench.loadtest import Gunicorn, postgres_database, production_environment, sign_in
    from bench.workloads import bench_app

    with postgres_database(SMALL, DEFAULT_SEED, tmp_path) as (url, seconds):
        assert seconds > 0
        app = bench_app(url, tmp_path / "outbox")
        with app.app_context():
            # seed-bench and gunicorn run on the wall clock (the server's), not the tests'.
            wall = db.session.scalar(text("SELECT now()"))
            db.session.rollback()
        with time_machine.travel(wall, tick=True):
            pages = {p.key: p for p in find_pages(app)}
        with app.app_context():
            db.engine.dispose()
        settings = production_environment(url, secrets.token_hex(32))
        assert settings["LMS_CONFIG"] == "production"
        with Gunicorn(settings, tmp_path / "gunicorn.log", workers=1) as server:
            for key in ("catalogue", "cohort", "home_dsu", "marking", "users"):
                page = pages[key]
                headers = {"Cookie": sign_in(server.base, page.email)} if page.email else {}
                answer = requests.get(server.base + page.path, headers=headers, timeout=30,
                                      allow_redirects=False)
                assert answer.status_code == 200, (key, answer.status_code,
                                                   answer.headers.get("Location"))
        log = (tmp_path / "gunicorn.log").read_text()
        assert '"endpoint": "admin.users", "status": 200' in log  # the production JSON log
