"""``make bench``: generate region-scale data, measure, print one table, write
``bench/results.json``.

    python -m bench.run                      # everything (a few minutes)
    python -m bench.run --only pages         # some sections: pages, http, certificates,
                                             #   booking, reminders, teams_import,
                                             #   submissions_zip
    python -m bench.run --profile register   # a pyinstrument profile of one page, scale 1

Databases are made in ``instance/bench/`` (SQLite, schema from the models) and remade on each
run. Timings are wall-clock on a shared 2-core machine: the load average is recorded with
them, and query counts (which do not depend on the machine) are the sturdier signal.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import secrets
import sqlite3
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench import pages as page_timing
from bench.generate import DEFAULT_SEED, generate
from bench.report import missed, render_markdown, render_pages, target_scale

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "instance" / "bench"
RESULTS = ROOT / "bench" / "results.json"
SECTIONS = ("pages", "http", "certificates", "booking", "reminders", "teams_import",
            "submissions_zip")
# The HTTP set-ups, as ``database:workers``: SQLite under the development config, and
# PostgreSQL under the production config at 2 and 4 workers (issue 19).
HTTP_RUNS = "sqlite:2,postgresql:2,postgresql:4"
# The region as it is at a tenth and at full size (query counts equal: no N+1), and a
# national roll-out (scale 5: CPU flat from 1 to 5, issue 19). HTTP runs at scale 1.
SCALES = "0.1,1,5"
MARKDOWN = ROOT / "bench" / "results.md"
CERTIFICATE_RATIO = 1.2
BULK_SECONDS = 35
WORKER_MB = 250
REMINDER_SECONDS = 10
IMPORT_SECONDS = 2
# Zipping a cohort's submissions holds at most this much at once (one file is 10 MB).
ZIP_PEAK_MB = 2


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def database_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_database(scale: float, seed: int) -> tuple[Path, dict, float]:
    """A new SQLite database of the given scale: (path, rows per table, seconds)."""
    from bench.workloads import bench_app
    from lms.extensions import db

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"scale-{scale:g}.sqlite3"
    for stale in DATA.glob(f"{path.name}*"):
        stale.unlink()
    app = bench_app(database_url(path), DATA / "outbox")
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        counts = generate(scale, seed)
        seconds = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return path, counts, seconds


def copy_database(source: Path, name: str) -> Path:
    """A consistent copy (SQLite's backup API), for workloads that write."""
    target = DATA / name
    for stale in DATA.glob(f"{name}*"):
        stale.unlink()
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


# ---------------------------------------------------------------------------- the table


def _yes(ok: bool | None) -> str:
    return "-" if ok is None else ("yes" if ok else "NO")


SECTION = "\x00"  # marks a row that starts a section of the table


def rows_for(results: dict) -> list[tuple[str, str, str, str, str]]:
    """(measurement, -, scale 1, target, met) for every line of the workloads' table (the
    pages have their own: ``bench.report``); a section's first row has its measurement
    prefixed with ``SECTION``."""
    rows: list[tuple[str, str, str, str, str]] = []
    large = target_scale(results)
    certificates = results.get("certificates")
    if certificates:
        rows.append((SECTION + "CERTIFICATES", "", f"scale {large}", "", ""))
        rows.append(("One certificate: bare WeasyPrint / app ms (CPU ms)", "",
                     f"{certificates['bare_ms']:.0f} / {certificates['app_ms']:.0f}"
                     f" ({certificates['bare_cpu_ms']:.0f} / {certificates['app_cpu_ms']:.0f})",
                     "", ""))
        rows.append(("One certificate: app / bare, wall (CPU)", "",
                     f"{certificates['ratio']:.2f}x ({certificates['cpu_ratio']:.2f}x)",
                     f"<= {CERTIFICATE_RATIO}x",
                     _yes(max(certificates["ratio"], certificates["cpu_ratio"])
                          <= CERTIFICATE_RATIO)))
        warned = certificates["weasyprint_warnings"]
        rows.append(("One certificate: same PDF both ways, WeasyPrint warnings", "",
                     f"{certificates['equivalent']}; {len(warned)} warnings",
                     "same, 0", _yes(certificates["equivalent"].startswith("same")
                                     and not warned)))
        rows.append((f"Bulk issue of {certificates['bulk_count']:,}: seconds", "",
                     f"{certificates['bulk_seconds']:.1f} ({certificates['bulk_status']})",
                     f"< {BULK_SECONDS}",
                     _yes(certificates["bulk_seconds"] < BULK_SECONDS
                          and certificates["bulk_status"].startswith("done"))))
        rows.append(("Bulk issue: CPU seconds, parent / workers", "",
                     f"{certificates['bulk_cpu_parent_s']:.1f} / "
                     f"{certificates['bulk_cpu_workers_s']:.1f}", "", ""))
        schedule = certificates.get("worker_on_cpu_waiting_s", [])
        rows.append(("Bulk issue: per worker, s on a core / s waiting for one", "",
                     ", ".join(f"{a:.1f} / {b:.1f}" for a, b in schedule) or "-", "", ""))
        per_worker = certificates.get("pdfs_per_worker", [])
        rows.append(("Bulk issue: PDFs rendered per worker process", "",
                     " / ".join(str(n) for n in per_worker) or "(in process)",
                     "2 workers", _yes(len(per_worker) == 2)))
        peaks = certificates["worker_peak_rss_mb"]
        rows.append(("Bulk issue: peak RSS per worker MB", "",
                     ", ".join(f"{m:.0f}" for m in peaks) or "(rendered in process)",
                     f"< {WORKER_MB}", _yes(bool(peaks) and max(peaks) < WORKER_MB)))
    booking = results.get("booking")
    if booking:
        rows.append((SECTION + "BOOKING: 200 at once for 20 places", "", "", "", ""))
        for result in booking:
            rows.append((f"{result['backend']}: seconds, enrolled, waiting list", "",
                         f"{result['seconds']:.2f} s, {result['enrolled']}, "
                         f"{'1..180 ok' if result['waiting_positions_ok'] else 'WRONG'}"
                         + (f", {len(result['errors'])} errors" if result["errors"] else ""),
                         "exact", _yes(result["exact"])))
    reminders = results.get("reminders")
    if reminders:
        two = reminders["two_schedulers"]
        rows.append((SECTION + "REMINDERS", "", "", "", ""))
        rows.append((f"Sweep of {reminders['due']:,} due: seconds", "",
                     f"{reminders['seconds']:.1f} ({reminders['sent']:,} sent)",
                     f"< {REMINDER_SECONDS}",
                     _yes(reminders["seconds"] < REMINDER_SECONDS
                          and reminders["sent"] == reminders["due"])))
        rows.append((f"Two schedulers, {two['due']:,} due: sent by each, seconds", "",
                     f"{' + '.join(str(n) for n in two['sent_by_each'])}, "
                     f"{two['seconds']:.1f} s", "exactly once", _yes(two["exactly_once"])))
    teams = results.get("teams_import")
    if teams:
        rows.append((SECTION + "TEAMS ATTENDANCE IMPORT (in-process)", "", f"scale {large}",
                     "", ""))
        rows.append((f"Import of a {teams['rows']:,}-row Teams report: s median / max (CPU)",
                     "", f"{teams['median_s']:.2f} / {teams['max_s']:.2f} "
                     f"({teams['cpu_median_s']:.2f}), {teams['queries']:,} queries",
                     f"< {IMPORT_SECONDS} s", _yes(teams["median_s"] < IMPORT_SECONDS)))
        rows.append(("  matched, present, unmatched", "",
                     f"{teams['matched']}, {teams['present']}, {teams['unmatched']}",
                     f"{teams['rows']}, -, {teams['unmatched_rows']}",
                     _yes(teams["matched"] == teams["rows"]
                          and teams["unmatched"] == teams["unmatched_rows"])))
        rows.append(("  the same file again: s (refused, nothing changes)", "",
                     f"{teams['reimport_s']:.3f}", "refused",
                     _yes(bool(teams["reimport_refused"]))))
    zipped = results.get("submissions_zip")
    if zipped:
        rows.append((SECTION + "PROJECT WORK: every submission as one zip (streamed)", "", "",
                     "", ""))
        rows.append((f"{zipped['files']} files of {zipped['file_mb']} MB: s, zip MB", "",
                     f"{zipped['seconds']:.1f} s, {zipped['zip_mb']:.0f} MB", "intact",
                     _yes(zipped["intact"])))
        rows.append(("  peak memory held while zipping, MB", "", f"{zipped['peak_mb']:.2f}",
                     f"< {ZIP_PEAK_MB}", _yes(zipped["peak_mb"] < ZIP_PEAK_MB)))
    for name, error in results.get("errors", {}).items():
        rows.append((f"{name}: FAILED", "", error.splitlines()[-1][:60], "", "NO"))
    return rows


def render_table(results: dict) -> str:
    """The workloads' table (certificates, booking, reminders, imports, zips) as text."""
    rows = rows_for(results)
    if not rows:
        return ""
    header = ("measurement", "", "", "target", "met")
    rows = [(r[0].lstrip(SECTION), *r[1:]) if r[0].startswith(SECTION) else r
            for r in rows]
    starts = {i for i, r in enumerate(rows_for(results)) if r[0].startswith(SECTION)}
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    out = [line, "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
           + " |"]
    for index, row in enumerate(rows):
        if index in starts and index:
            out.append(line)
        out.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True))
                   + " |")
    out.append(line)
    return "\n".join(out)


# ---------------------------------------------------------------------------- running


def time_scale(path: str, data: str, runs: int, keys: list[str] | None = None,
               record: str | None = None) -> dict:
    """The pages (``keys``, default all) of the database at ``path``, timed in process:
    {page key: timing}. With ``record``, each timing is also appended to that file as soon
    as it is measured (a JSON line), so a crash loses only the page it happened on."""
    import logging

    from bench.workloads import bench_app

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    app = bench_app(database_url(Path(path)), Path(data) / "outbox")
    timings = {}
    for page in page_timing.find_pages(app):
        if keys is not None and page.key not in keys:
            continue
        timing = page_timing.time_page(app, page, runs=runs if not page.dashboard
                                       else max(10, runs // 2))
        timings[page.key] = timing.as_dict()
        if record:
            with open(record, "a") as out:
                out.write(json.dumps({page.key: timings[page.key]}) + "\n")
        log(f"  {page.key}: {timing.median_ms:.1f} / {timing.p95_ms:.1f} ms, "
            f"{timing.queries} queries, status {timing.status}")
    return timings


def time_scale_apart(path: Path, runs: int, keys: list[str]) -> dict:
    """``time_scale`` in a fresh process; if that process dies (a crash in C), the page it
    was on is recorded as crashed and the rest are timed in another fresh process."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    record = DATA / f"{path.stem}-pages.jsonl"
    record.unlink(missing_ok=True)
    timings: dict = {}
    left = list(keys)
    while left:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            try:
                timings.update(pool.submit(time_scale, str(path), str(DATA), runs, left,
                                           str(record)).result())
                return timings
            except BrokenProcessPool:
                done = {}
                if record.exists():
                    for line in record.read_text().splitlines():
                        done.update(json.loads(line))
                timings.update(done)
                left = [key for key in left if key not in done]
                crashed = left.pop(0)
                log(f"  {crashed}: the process CRASHED (see the fault above)")
                timings[crashed] = {"crashed": True, "status": 0, "queries": 0,
                                    "queries_vary": False, "median_ms": 0.0, "p95_ms": 0.0,
                                    "cpu_median_ms": 0.0, "bytes": 0, "runs": 0}
    return timings


def run(args: argparse.Namespace) -> dict:
    from bench.workloads import bench_app

    scales = sorted(float(s) for s in args.scales.split(","))
    sections = set(args.only.split(",")) if args.only else set(SECTIONS)
    results: dict = {
        "meta": {"started": datetime.now(UTC).isoformat(timespec="seconds"),
                 "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                 "cores": os.cpu_count(), "load_average_start": os.getloadavg(),
                 "seed": args.seed, "runs_per_page": args.runs},
        "scales": [f"{s:g}" for s in scales], "generated": {}, "pages": {}, "errors": {},
    }
    databases: dict[float, Path] = {}
    for scale in scales:
        log(f"generating scale {scale:g}")
        path, counts, seconds = make_database(scale, args.seed)
        databases[scale] = path
        results["generated"][f"{scale:g}"] = {"seconds": round(seconds, 1), "rows": counts}
        log(f"  {seconds:.1f} s: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    at = target_scale(results)
    main_db = databases[float(at)]
    apps = {scale: bench_app(database_url(path), DATA / "outbox")
            for scale, path in databases.items()}
    found = page_timing.find_pages(apps[float(at)])
    results["page_info"] = {p.key: {"label": p.label, "kind": p.kind, "path": p.path,
                                    "p95_target_ms": p.target_ms, "share_target": p.share_target}
                            for p in found}

    if "pages" in sections:
        # Each scale in a fresh process: no scale's objects and caches weigh on the next (and
        # a crash seen in C at scale 5, after the smaller scales in one process, is avoided).
        for scale in scales:
            log(f"timing pages at scale {scale:g}")
            if args.same_process:
                results["pages"][f"{scale:g}"] = time_scale(str(databases[scale]), str(DATA),
                                                            args.runs)
            else:
                results["pages"][f"{scale:g}"] = time_scale_apart(
                    databases[scale], args.runs, [page.key for page in found])

    def section(name: str, work) -> None:
        if name not in sections:
            return
        log(f"{name}")
        try:
            results[name] = work()
        except Exception:  # noqa: BLE001 - one section failing must not lose the others
            results["errors"][name] = traceback.format_exc()
            log(f"  {name} failed:\n{results['errors'][name]}")

    def http() -> dict:
        from bench.loadtest import (
            postgres_database,
            production_environment,
            sqlite_environment,
            throughput,
        )

        wanted = [(database, int(workers)) for database, workers in
                  (run.split(":") for run in args.http.split(",") if run)]
        out: dict = {}

        def measure(database: str, workers: int, settings: dict, pages: list,
                    cookies: dict) -> None:
            name = f"{database}:{workers}"
            log(f"  {name}")
            try:
                loads = throughput(settings, pages, DATA, seconds=args.seconds,
                                   connections=args.connections, workers=workers,
                                   cookies=cookies)
                out[name] = {"database": database, "workers": workers,
                             "loads": {load.key: load.as_dict() for load in loads}}
            except Exception:  # noqa: BLE001 - the other set-ups still run
                results["errors"][f"http {name}"] = traceback.format_exc()
                log(f"  {name} failed:\n{results['errors'][f'http {name}']}")

        cookies: dict[str, str] = {}
        for database, workers in wanted:
            if database == "sqlite":
                measure(database, workers, sqlite_environment(database_url(main_db)), found,
                        cookies)
        postgres = [workers for database, workers in wanted if database == "postgresql"]
        if postgres:
            log(f"  PostgreSQL: a throw-away cluster, seed-bench --scale {at}")
            with postgres_database(float(at), args.seed, DATA) as (url, seconds):
                results["generated"]["postgresql"] = {"scale": at, "seconds": seconds}
                app = bench_app(url, DATA / "outbox")
                pages = page_timing.find_pages(app)
                with app.app_context():
                    from lms.extensions import db

                    db.engine.dispose()
                settings = production_environment(url, secrets.token_hex(32))
                cookies = {}
                for workers in postgres:
                    measure("postgresql", workers, settings, pages, cookies)
        return out

    section("http", http)
    work_db = copy_database(main_db, "work.sqlite3") if sections & {
        "certificates", "booking", "reminders", "teams_import"} else None
    work_app = bench_app(database_url(work_db), DATA / "outbox") if work_db else None

    def certificates() -> dict:
        from bench.workloads import certificates as run_certificates

        return run_certificates(work_app).as_dict()

    def booking() -> list:
        from bench.workloads import booking as run_booking
        from bench.workloads import booking_postgres

        outcomes = [run_booking(work_app, "sqlite").as_dict()]
        try:
            outcomes.append(booking_postgres(DATA).as_dict())
        except Exception:  # noqa: BLE001 - PostgreSQL may be missing; say so in the table
            results["errors"]["booking on PostgreSQL"] = traceback.format_exc()
        return outcomes

    def reminders() -> dict:
        from bench.workloads import reminders as run_reminders

        return run_reminders(work_app, DATA).as_dict()

    def teams_import() -> dict:
        from bench.workloads import teams_import as run_teams_import

        return run_teams_import(work_app).as_dict()

    section("certificates", certificates)
    section("booking", booking)
    section("reminders", reminders)
    section("teams_import", teams_import)

    def submissions_zip() -> dict:
        from bench.zip_workload import submissions_zip as run_zip

        return run_zip(apps[float(at)], DATA).as_dict()

    section("submissions_zip", submissions_zip)
    results["meta"]["load_average_end"] = os.getloadavg()
    results["meta"]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    return results


def profile(args: argparse.Namespace) -> None:
    """Print a pyinstrument profile of one page at scale 1 (or the largest given)."""
    from bench.workloads import bench_app

    scale = float(target_scale({"scales": [f"{float(s):g}" for s in
                                           args.scales.split(",")]}))
    path = DATA / f"scale-{scale:g}.sqlite3"
    if not path.exists():
        log(f"generating scale {scale:g}")
        path, _, _ = make_database(scale, args.seed)
    app = bench_app(database_url(path), DATA / "outbox")
    page = next(p for p in page_timing.find_pages(app) if p.key == args.profile)
    print(page_timing.profile_page(app, page))


def main(argv: list[str] | None = None) -> int:
    import logging


    # A bare WeasyPrint call cannot find the app's fonts (that is the point of it); quiet.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default=SCALES, help=f"comma-separated (default {SCALES})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page")
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per endpoint")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--only", default="", help=f"some of: {','.join(SECTIONS)}")
    parser.add_argument("--profile", default="", help="profile one page key and stop")
    parser.add_argument("--http", default=HTTP_RUNS,
                        help=f"HTTP set-ups as database:workers (default {HTTP_RUNS})")
    parser.add_argument("--same-process", action="store_true",
                        help="time every scale's pages in this process, not one fresh "
                        "process per scale (the tests do, on their pinned clock)")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--markdown", default=str(MARKDOWN),
                        help="where the page table goes in Markdown (for the README)")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args)
        return 0
    started = time.perf_counter()
    results = run(args)
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    problems = missed(results, rows_for(results))
    results["missed"] = problems
    Path(args.out).write_text(json.dumps(results, indent=2, default=str) + "\n")
    Path(args.markdown).write_text(render_markdown(results, problems))
    print(render_pages(results))
    print(render_table(results))
    print(f"\nWritten to {args.out} and {args.markdown} in {results['meta']['seconds']:.0f} s "
          f"(load average {results['meta']['load_average_start'][0]:.1f} at the start, "
          f"{results['meta']['load_average_end'][0]:.1f} at the end).")
    return verdict(problems)


def verdict(problems: list[str]) -> int:
    """Print what was missed; the exit status: 1 when anything was, else 0."""
    if not problems:
        print("\nEvery target met.")
        return 0
    print(f"\nmissed: {len(problems)} target(s)")
    for line in problems:
        print(f"  - {line}")
    return 1

if __name__ == "__main__":
    import faulthandler

    faulthandler.enable()  # a crash in C (seen at scale 5) prints where it happened
    sys.exit(main())
