"""Workloads that write: certificates (one, and a bulk issue of 1,000), 200 concurrent
bookings for 20 places (SQLite and PostgreSQL), and reminder sweeps (10,000 due, alone and
with two schedulers at once). They run on a copy of the scale-1 database (and a throw-away
PostgreSQL server), never on the databases the page timings read.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, insert, select

from lms import create_app
from lms.accounts.models import Organisation, User
from lms.attendance.models import Attendance, Completion
from lms.clock import LONDON, utcnow
from lms.courses.models import Cohort, Course
from lms.events.models import ReminderSent, Webinar
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.offerings.models import Enrolment, Offering, OfferingLead, Session


def bench_app(database_url: str, outbox: Path) -> Flask:
    """The app on a benchmark database, emails kept in memory."""
    from bench.wsgi import with_bare

    return with_bare(create_app("development", SQLALCHEMY_DATABASE_URI=database_url,
                                MAIL_BACKEND="memory", MAIL_OUTBOX_DIR=str(outbox)))


def _next_ids(*models: type) -> list[int]:
    return [(db.session.scalar(select(func.max(model.id))) or 0) + 1 for model in models]


def _learners(count: int, offset: int = 0) -> list[int]:
    """Ids of ordinary learners (no other role), the same ones every time."""
    from lms.accounts.models import UserRole

    others = select(UserRole.user_id).where(UserRole.role != "learner")
    return list(db.session.scalars(
        select(User.id).where(User.id.not_in(others)).order_by(User.id)
        .offset(offset).limit(count)))


def _webinar(title: str, starts: datetime, ends: datetime, status: str, people: list[int],
             state: str) -> tuple[int, int, list[int]]:
    """A webinar with one session and ``people`` in ``state``, written in bulk. Returns
    (offering id, session id, enrolment ids)."""
    offering_id, session_id, enrolment_id = _next_ids(Offering, Session, Enrolment)
    faculty = db.session.scalar(select(User.id).where(User.email.like("bench-faculty@%")))
    db.session.execute(insert(Webinar), [{
        "id": offering_id, "kind": "webinar", "title": title, "status": status,
        "booking_mode": "open", "capacity": None, "offer_hours": 48, "quotas_released": False,
        "created_at": starts - timedelta(days=30), "updated_at": starts - timedelta(days=30),
        "reminder_minutes": [1440, 60], "after_session_emails": True, "summary": "",
        "description": ""}])
    db.session.execute(insert(OfferingLead), [{"offering_id": offering_id, "user_id": faculty}])
    db.session.execute(insert(Session), [{
        "id": session_id, "offering_id": offering_id, "title": "", "starts_at": starts,
        "ends_at": ends, "location": "", "join_url": "https://teams.example.com/l/bench",
        "capacity": None, "status": "scheduled", "sequence": 0, "created_at": starts}])
    ids = list(range(enrolment_id, enrolment_id + len(people)))
    db.session.execute(insert(Enrolment), [{
        "id": eid, "offering_id": offering_id, "user_id": uid, "state": state,
        "waitlist_position": None, "offer_expires_at": None, "quota_organisation_id": None,
        "nominated_by_id": None, "created_at": starts - timedelta(days=7),
        "updated_at": starts - timedelta(days=7)} for eid, uid in zip(ids, people, strict=True)])
    return offering_id, session_id, ids


# ---------------------------------------------------------------------------- certificates


@dataclass
class CertificateResult:
    bare_ms: float
    app_ms: float
    bare_cpu_ms: float
    app_cpu_ms: float
    bulk_count: int
    bulk_seconds: float
    bulk_status: str
    worker_peak_mb: list[float] = field(default_factory=list)
    parent_peak_mb: float = 0.0
    bulk_cpu_parent: float = 0.0
    bulk_cpu_workers: float = 0.0
    warnings: list[str] = field(default_factory=list)
    equivalent: str = ""
    rendered_by: list[int] = field(default_factory=list)
    # per worker, from /proc/<pid>/schedstat: seconds on a core, seconds runnable but waiting
    # for one (the other helpers' load): wall time minus the waiting is what free cores give
    worker_schedule: list[tuple[float, float]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.app_ms / self.bare_ms if self.bare_ms else 0.0

    @property
    def cpu_ratio(self) -> float:
        return self.app_cpu_ms / self.bare_cpu_ms if self.bare_cpu_ms else 0.0

    def as_dict(self) -> dict:
        return {"bare_ms": round(self.bare_ms, 1), "app_ms": round(self.app_ms, 1),
                "ratio": round(self.ratio, 3), "bare_cpu_ms": round(self.bare_cpu_ms, 1),
                "app_cpu_ms": round(self.app_cpu_ms, 1), "cpu_ratio": round(self.cpu_ratio, 3),
                "weasyprint_warnings": self.warnings[:10], "equivalent": self.equivalent,
                "bulk_count": self.bulk_count,
                "bulk_seconds": round(self.bulk_seconds, 2), "bulk_status": self.bulk_status,
                "bulk_cpu_parent_s": round(self.bulk_cpu_parent, 1),
                "bulk_cpu_workers_s": round(self.bulk_cpu_workers, 1),
                "worker_peak_rss_mb": [round(m, 1) for m in self.worker_peak_mb],
                "pdfs_per_worker": self.rendered_by,
                "worker_on_cpu_waiting_s": [[round(a, 1), round(b, 1)]
                                            for a, b in self.worker_schedule],
                "parent_peak_rss_mb": round(self.parent_peak_mb, 1)}


class _Warnings(logging.Handler):
    """Collects what WeasyPrint logs at WARNING and above (an ignored font, image or
    stylesheet) while the comparison runs: a fair comparison logs nothing."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage()[:200])


def pdf_shape(pdf: bytes) -> tuple[int, list[str]]:
    """(page count, fonts embedded) of a PDF, read by poppler's ``pdfinfo`` and ``pdffonts``;
    subset tags (``ABCDEF+``) left out, so two renderings of one page compare equal."""
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        info = subprocess.run(["pdfinfo", file.name], capture_output=True, text=True,
                              check=True).stdout
        fonts = subprocess.run(["pdffonts", file.name], capture_output=True, text=True,
                               check=True).stdout
    pages = next(int(line.split()[-1]) for line in info.splitlines()
                 if line.startswith("Pages:"))
    embedded = sorted(f"{line.split()[0].partition('+')[2] or line.split()[0]}"
                      f" (emb {line.split()[-5]})"
                      for line in fonts.splitlines()[2:] if line.strip())
    return pages, embedded


def _status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (bulk issue's spawned pool workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


class PeakMemory:
    """Samples the peak resident memory (VmHWM) of this process's pool workers."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self.schedule: dict[int, tuple[float, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            for child in _children(me):
                self.peaks[child] = max(self.peaks.get(child, 0), _status_kb(child, "VmHWM"))
                try:  # seconds on a core, and runnable but waiting for one (other load)
                    on_cpu, waiting, _ = Path(f"/proc/{child}/schedstat").read_text().split()
                    self.schedule[child] = (int(on_cpu) / 1e9, int(waiting) / 1e9)
                except (OSError, ValueError):
                    pass
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()


def _bulk_offering(count: int) -> int:
    """A finished webinar with ``count`` people who completed it and have no certificate."""
    people = _learners(count)
    ends = utcnow() - timedelta(days=2)
    offering_id, session_id, enrolments = _webinar(
        "Bench: bulk certificates", ends - timedelta(hours=1), ends, "finished", people,
        "completed")
    attendance_id, completion_id = _next_ids(Attendance, Completion)
    db.session.execute(insert(Attendance), [{
        "id": attendance_id + i, "session_id": session_id, "user_id": uid, "status": "present",
        "source": "import", "minutes": 55, "note": "", "recorded_by_id": None,
        "recorded_at": ends} for i, uid in enumerate(people)])
    db.session.execute(insert(Completion), [{
        "id": completion_id + i, "enrolment_id": eid, "completed_at": ends,
        "attendance_percent": 100} for i, eid in enumerate(enrolments)])
    db.session.commit()
    return offering_id


def certificates(app: Flask, renders: int = 8, bulk_count: int = 1000,
                 workers: int = 2) -> CertificateResult:
    """One certificate rendered by a bare WeasyPrint call and by the app (interleaved, warm,
    wall and CPU time), checked to give the same pages and fonts with no WeasyPrint warning;
    then a bulk issue of ``bulk_count`` with ``workers`` processes."""
    from lms.certificates import bulk, rendering
    from lms.certificates.models import Certificate
    from lms.offerings.services import get_offering

    caught = _Warnings()
    weasy_log = logging.getLogger("weasyprint")
    weasy_log.addHandler(caught)
    try:
        with app.test_request_context():
            certificate = db.session.scalar(select(Certificate).where(
                Certificate.template == "course").order_by(Certificate.id).limit(1))
            html = rendering.certificate_html(certificate, standalone=True)
            bare_pdf = rendering.bare_render(html)
            app_pdf = rendering.render_pdf(certificate)
            bare, through_app, bare_cpu, app_cpu = [], [], [], []
            for _ in range(renders):
                wall, cpu = time.perf_counter(), time.process_time()
                rendering.bare_render(html)
                bare.append((time.perf_counter() - wall) * 1000)
                bare_cpu.append((time.process_time() - cpu) * 1000)
                wall, cpu = time.perf_counter(), time.process_time()
                rendering.render_pdf(certificate)
                through_app.append((time.perf_counter() - wall) * 1000)
                app_cpu.append((time.process_time() - cpu) * 1000)
    finally:
        weasy_log.removeHandler(caught)
    bare_shape, app_shape = pdf_shape(bare_pdf), pdf_shape(app_pdf)
    equivalent = (f"same: {app_shape[0]} page(s), {', '.join(app_shape[1])}"
                  if bare_shape == app_shape else f"DIFFERENT: bare {bare_shape}, app {app_shape}")

    with app.test_request_context():
        offering_id = _bulk_offering(bulk_count)
        batch = bulk.start_batch(None, get_offering(offering_id))
        db.session.commit()
        before_self = resource.getrusage(resource.RUSAGE_SELF)
        before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        with PeakMemory() as memory:
            started = time.perf_counter()
            batch = bulk.run_batch(batch.id, workers=workers)
            seconds = time.perf_counter() - started
        after_self = resource.getrusage(resource.RUSAGE_SELF)
        after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        status = f"{batch.status}: {batch.done} of {batch.total}"
        rendered_by = sorted(getattr(batch, "rendered_by", {}).values(), reverse=True)
        db.session.rollback()
    return CertificateResult(
        statistics.median(bare), statistics.median(through_app),
        statistics.median(bare_cpu), statistics.median(app_cpu),
        bulk_count, seconds, status,
        sorted(kb / 1024 for kb in memory.peaks.values()),
        _status_kb(os.getpid(), "VmHWM") / 1024,
        # The parent's CPU includes the sampling thread's (small: /proc every 0.2 s).
        (after_self.ru_utime + after_self.ru_stime) - (before_self.ru_utime + before_self.ru_stime),
        (after_children.ru_utime + after_children.ru_stime)
        - (before_children.ru_utime + before_children.ru_stime),
        caught.messages, equivalent, rendered_by, sorted(memory.schedule.values()))


# ---------------------------------------------------------------------------- booking


@dataclass
class BookingResult:
    backend: str
    attempts: int
    places: int
    seconds: float
    enrolled: int
    waiting_positions_ok: bool
    errors: list[str]

    @property
    def exact(self) -> bool:
        return (self.enrolled == self.places and self.waiting_positions_ok
                and not self.errors)

    def as_dict(self) -> dict:
        return {"backend": self.backend, "attempts": self.attempts, "places": self.places,
                "seconds": round(self.seconds, 3), "enrolled": self.enrolled,
                "waiting_positions_ok": self.waiting_positions_ok,
                "errors": self.errors[:5], "exact": self.exact}


def _booking_cohort(places: int) -> int:
    course = Course(title=f"Bench booking {time.time_ns()}", summary="s", kind="short_course",
                    strand="analytical_capability", format="online")
    cohort = Cohort(course=course, name="Rush", title="Bench booking: Rush", capacity=places,
                    booking_mode="open", status="open")
    start = utcnow() + timedelta(days=10)
    cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=1)))
    db.session.add(cohort)
    db.session.commit()
    return cohort.id


def booking(app: Flask, backend: str, attempts: int = 200, places: int = 20) -> BookingResult:
    """``attempts`` people book the same cohort of ``places`` at once, one thread each,
    through the real engine. Time from the threads' release to the last commit."""
    from lms.errors import DomainError
    from lms.offerings import services as engine

    with app.app_context():
        cohort_id = _booking_cohort(places)
        people = _learners(attempts)
        db.session.remove()
    released: list[float] = []
    barrier = threading.Barrier(len(people), action=lambda: released.append(time.perf_counter()))
    errors: list[str] = []
    lock = threading.Lock()

    def one(user_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                engine.book(db.session.get(User, user_id), db.session.get(Cohort, cohort_id))
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                with lock:
                    errors.append(error.message)
            except Exception as error:  # noqa: BLE001 - reported as a failure
                db.session.rollback()
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one, args=(uid,)) for uid in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    seconds = time.perf_counter() - released[0] if released else 0.0
    with app.app_context():
        rows = db.session.execute(select(Enrolment.state, Enrolment.waitlist_position).where(
            Enrolment.offering_id == cohort_id)).all()
        db.session.remove()
    enrolled = sum(1 for state, _ in rows if state == "enrolled")
    positions = sorted(p for state, p in rows if state == "waitlisted")
    return BookingResult(backend, len(people), places, seconds, enrolled,
                         positions == list(range(1, len(people) - places + 1))
                         and len(rows) == len(people), errors)


def booking_postgres(log_dir: Path, attempts: int = 200, places: int = 20) -> BookingResult:
    """The same rush on a throw-away PostgreSQL server (tests/postgres.py)."""
    from lms.accounts.services import ensure_organisations
    from tests.postgres import PostgresServer

    with PostgresServer() as server:
        url = server.create_database("lms_bench")
        app = bench_app(url, log_dir / "outbox")
        with app.app_context():
            db.create_all()
            ensure_organisations()
            db.session.flush()
            bsol = db.session.scalar(select(Organisation.id).where(Organisation.code == "BSOL"))
            from lms.accounts.services import hash_password

            secret = hash_password("bench-password-2026")
            now = utcnow()
            db.session.execute(insert(User), [{
                "email": f"rush{i}@example.nhs.uk", "full_name": f"Rush {i:03d}",
                "job_title": "Analyst", "organisation_id": bsol, "password_hash": secret,
                "email_verified_at": now, "created_at": now} for i in range(attempts)])
            db.session.commit()
        try:
            return booking(app, "postgresql", attempts, places)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


# ---------------------------------------------------------------------------- reminders


@dataclass
class ReminderResult:
    due: int
    sent: int
    seconds: float
    pre_sweep_sent: int
    two_due: int = 0
    two_sent: list[int] = field(default_factory=list)
    two_seconds: float = 0.0
    claims: int = 0
    distinct_claims: int = 0
    emails: int = 0

    @property
    def exactly_once(self) -> bool:
        return (self.two_due > 0 and sum(self.two_sent) == self.two_due == self.claims
                == self.distinct_claims == self.emails)

    def as_dict(self) -> dict:
        return {"due": self.due, "sent": self.sent, "seconds": round(self.seconds, 2),
                "pre_sweep_sent": self.pre_sweep_sent, "two_schedulers": {
                    "due": self.two_due, "sent_by_each": self.two_sent,
                    "seconds": round(self.two_seconds, 2), "claims": self.claims,
                    "distinct_claims": self.distinct_claims, "emails": self.emails,
                    "exactly_once": self.exactly_once}}


def _due_webinars(prefix: str, now: datetime, sessions: int, per_session: int
                  ) -> tuple[list[int], int]:
    """``sessions`` webinars starting 50 minutes after ``now``, each with ``per_session``
    confirmed places (fewer if there are not so many people): their one-hour reminders are
    all due. Returns the session ids and how many reminders are due."""
    people = _learners(per_session)
    starts = now + timedelta(minutes=50)
    ids = []
    for number in range(sessions):
        _, session_id, _ = _webinar(f"{prefix} {number + 1}", starts, starts + timedelta(hours=1),
                                    "open", people, "enrolled")
        ids.append(session_id)
    db.session.commit()
    return ids, len(ids) * len(people)


def _sweep_process(url: str, outbox: str, now_iso: str, barrier, results) -> None:
    """One scheduler's sweep, in a process of its own with its own app and connections."""
    from lms.events.reminders import send_due_reminders

    app = bench_app(url, Path(outbox))
    with app.app_context():
        barrier.wait()
        started = time.time()
        sent = send_due_reminders(now=datetime.fromisoformat(now_iso))
        results.put((sent, started, time.time()))
        db.session.remove()
        db.engine.dispose()


def reminders(app: Flask, log_dir: Path, sessions: int = 20, per_session: int = 500
              ) -> ReminderResult:
    """A sweep of ``sessions * per_session`` due reminders, timed; then as many again with
    two scheduler processes sweeping at once, checked to go exactly once."""
    from lms.events.reminders import send_due_reminders

    with app.app_context():
        now = utcnow()
        pre = send_due_reminders(now=now)  # whatever the data has due anyway
        _, due = _due_webinars("Bench reminders", now, sessions, per_session)
        started = time.perf_counter()
        sent = send_due_reminders(now=now)
        seconds = time.perf_counter() - started
        second, two_due = _due_webinars("Bench two schedulers", now, sessions, per_session)
        url = str(db.engine.url)
        db.session.remove()
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [context.Process(target=_sweep_process,
                                 args=(url, str(log_dir / "outbox"), now.isoformat(), barrier,
                                       results)) for _ in range(2)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(60)
    with app.app_context():
        claims = db.session.execute(
            select(ReminderSent.session_id, ReminderSent.user_id, ReminderSent.kind)
            .where(ReminderSent.session_id.in_(second))).all()
        emails = db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.subject.like("Reminder: Bench two schedulers%")))
        db.session.remove()
    return ReminderResult(
        due=due, sent=sent, seconds=seconds, pre_sweep_sent=pre,
        two_due=two_due, two_sent=[n for n, _, _ in outcomes],
        two_seconds=max(end for _, _, end in outcomes) - min(s for _, s, _ in outcomes),
        claims=len(claims), distinct_claims=len(set(claims)), emails=emails or 0)


# ---------------------------------------------------------------------------- Teams import


@dataclass
class ImportTiming:
    rows: int
    unmatched_rows: int
    bytes: int
    seconds: list[float]
    cpu_seconds: list[float]
    queries: int
    matched: int
    present: int
    unmatched: int
    reimport_seconds: float
    reimport_refused: str

    def as_dict(self) -> dict:
        return {"rows": self.rows, "unmatched_rows": self.unmatched_rows, "bytes": self.bytes,
                "median_s": round(statistics.median(self.seconds), 3),
                "max_s": round(max(self.seconds), 3),
                "cpu_median_s": round(statistics.median(self.cpu_seconds), 3),
                "runs": len(self.seconds), "queries": self.queries, "matched": self.matched,
                "present": self.present, "unmatched": self.unmatched,
                "reimport_s": round(self.reimport_seconds, 3),
                "reimport_refused": self.reimport_refused}


def _teams_time(moment: datetime) -> str:
    """A time as Teams writes it for an organiser in the UK: ``12/1/27, 9:58:41 AM``."""
    local = moment.astimezone(LONDON)
    return f"{local.month}/{local.day}/{local:%y}, {local.hour % 12 or 12}:{local:%M:%S %p}"


def _teams_duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return " ".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s"))
                    if n) or "0s"


def teams_report(title: str, starts: datetime, ends: datetime,
                 people: list[tuple[str, str]], seed: int = 5) -> bytes:
    """A Teams attendance report as Teams writes it (UTF-16 with a byte order mark, tabs,
    CRLF; a summary, a participants table and an in-meeting activities table, as in
    ``tests/data/teams_attendance_report.csv``) for a meeting organised by the bench faculty
    member and attended by ``people`` (name, email). Some leave and rejoin: two activity rows,
    one participant row with the total. Deterministic for a given ``seed``."""
    import random

    rng = random.Random(seed)
    length = int((ends - starts).total_seconds())
    organiser = ("Bench Faculty", "bench-faculty@example.nhs.uk")
    participants, activities, total = [], [], 0
    for number, (name, email) in enumerate([organiser, *people]):
        role = "Organizer" if number == 0 else "Attendee"
        joined = starts - timedelta(seconds=rng.randint(0, 300)) if number == 0 else \
            starts + timedelta(seconds=rng.randint(-120, length // 2))
        left = ends if number == 0 else min(
            ends + timedelta(seconds=60), joined + timedelta(seconds=rng.randint(600, length)))
        # One in six drops out for a while and comes back: two activity rows.
        spans = [(joined, left)]
        if number and rng.random() < 1 / 6 and (left - joined).total_seconds() > 1200:
            gap_at = joined + (left - joined) / 3
            spans = [(joined, gap_at), (gap_at + timedelta(minutes=5), left)]
        seconds = sum(int((b - a).total_seconds()) for a, b in spans)
        total += seconds
        shown = email.title() if number % 7 == 3 else email  # Teams keeps the case typed
        participants.append("\t".join((name, _teams_time(joined), _teams_time(left),
                                       _teams_duration(seconds), shown, email, role)))
        for a, b in spans:
            activities.append("\t".join((name, _teams_time(a), _teams_time(b),
                                         _teams_duration(int((b - a).total_seconds())),
                                         shown, role)))
    count = len(participants)
    lines = [
        "1. Summary",
        f"Meeting title\t{title}",
        f"Attended participants\t{count}",
        f"Start time\t{_teams_time(starts)}",
        f"End time\t{_teams_time(ends)}",
        f"Meeting duration\t{_teams_duration(length)}",
        f"Average attendance time\t{_teams_duration(total // count)}",
        "",
        "2. Participants",
        "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole",
        *participants,
        "",
        "3. In-Meeting Activities",
        "Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole",
        *activities,
        "",
    ]
    return "\r\n".join(lines).encode("utf-16")


def _import_session() -> tuple[int, list[tuple[str, str]]]:
    """The latest Analyst Network huddle that has taken place (the network with the most
    members), and the people to list in its report: its members first, then other learners
    if the network is smaller than the report."""
    from lms.events.models import NetworkSeries

    series = db.session.scalar(select(NetworkSeries.id).where(
        NetworkSeries.title == "Midlands Analyst Network huddles"))
    session_id = db.session.scalar(
        select(Session.id).where(Session.offering_id == series, Session.ends_at < utcnow())
        .order_by(Session.starts_at.desc()).limit(1))
    members = db.session.execute(
        select(User.full_name, User.email).join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.offering_id == series, Enrolment.state == "enrolled")
        .order_by(User.id)).all()
    others = db.session.execute(
        select(User.full_name, User.email).where(User.id.in_(_learners(5000)))
        .order_by(User.id)).all()
    seen = {email for _, email in members}
    people = [tuple(r) for r in members] + [tuple(r) for r in others if r[1] not in seen]
    return session_id, people


def teams_import(app: Flask, rows: int = 600, unmatched: int = 5, runs: int = 5
                 ) -> ImportTiming:
    """Import a ``rows``-row Teams report (people in the database, plus ``unmatched`` who
    are not) into the latest huddle with ``import_report``: ``runs`` times, each on a fresh
    session and rolled back, so each is a first import; then once committed, and the same
    file again, which is refused and changes nothing (timed too). Runs on a copy of the
    database: it writes."""
    from bench.pages import counting_queries
    from lms.attendance.completion import refresh_completion
    from lms.attendance.imports import import_report
    from lms.errors import DomainError

    with app.app_context():
        session_id, people = _import_session()
        session = db.session.get(Session, session_id)
        # The scheduler's daily completion pass has run since the earlier meetings (the
        # generator writes marks, not the warnings that pass sends), so the import does what
        # it would in production, not a first-ever pass over two years of huddles.
        refresh_completion(session.offering)
        db.session.commit()
        listed = people[:rows] + [(f"Visitor {n}", f"visitor{n}@consultancy.example")
                                  for n in range(unmatched)]
        data = teams_report(session.title, session.starts_at, session.ends_at, listed)
        db.session.remove()

    def once(commit: bool) -> tuple[float, float, int, object]:
        with app.app_context(), counting_queries(app) as counted:
            actor = db.session.scalar(select(User).where(User.email.like("bench-faculty@%")))
            session = db.session.get(Session, session_id)
            started, cpu_started = time.perf_counter(), time.thread_time()
            result = import_report(actor, session, data, "attendance-report.csv")
            if commit:
                db.session.commit()
            else:
                db.session.flush()
            seconds, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
            db.session.rollback()
            db.session.remove()
        return seconds, cpu, counted[0], result

    seconds, cpu = [], []
    queries, result = 0, None
    for _ in range(runs):
        s, c, queries, result = once(commit=False)
        seconds.append(s)
        cpu.append(c)
    s, c, _, result = once(commit=True)
    seconds.append(s)
    cpu.append(c)
    with app.app_context():
        actor = db.session.scalar(select(User).where(User.email.like("bench-faculty@%")))
        session = db.session.get(Session, session_id)
        started = time.perf_counter()
        try:
            import_report(actor, session, data, "attendance-report.csv")
            refused = ""
        except DomainError as error:
            refused = error.message
        reimport = time.perf_counter() - started
        db.session.rollback()
        db.session.remove()
    return ImportTiming(rows=min(rows, len(people)), unmatched_rows=unmatched, bytes=len(data),
                        seconds=seconds, cpu_seconds=cpu, queries=queries,
                        matched=result.matched, present=result.present,
                        unmatched=result.unmatched, reimport_seconds=reimport,
                        reimport_refused=refused)
