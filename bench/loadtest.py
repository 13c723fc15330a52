"""Throughput over HTTP on loopback: gunicorn (sync workers) serving ``bench.wsgi:bench_app()``
against a benchmark database, loaded by Debian's ``wrk`` for a bounded time per endpoint.

Two set-ups: the development config on the SQLite file (``sqlite_environment``), and the
production config on PostgreSQL as a deployment runs it (``production_environment``: a
throw-away cluster from ``tests/postgres.py`` filled by ``flask lms seed-bench``, a random
secret key, an https:// base URL, SMTP settings; ``production_problems`` passes unweakened).

Signed-in pages get the session cookie of a real sign-in (through the sign-in form, CSRF,
the admin's authenticator code and all), passed to wrk as a header. Each page is first asked
for as wrk will ask, and must answer as expected (a signed-out redirect would otherwise count
as a fast answer). Only 127.0.0.1 is ever addressed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path

import requests

from bench.generate import BENCH_PASSWORD
from bench.generate_learning import ADMIN_TOTP_SECRET
from bench.pages import Page
from tests.postgres import free_port
from tests.wall_clock import wall_clock_environment

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
WORKERS = 2
# A page whose share of the bare endpoint comes in under this much of its target (or misses
# it) is measured again, paired with the bare endpoint (bare, page, bare, page, ...): its share
# is then the median of the pairs' ratios, each taken a few seconds apart, so one noisy
# moment in a long run neither fails nor passes it.
CONFIRM_BELOW = 1.10
CONFIRM_PAIRS = 3


@dataclass
class Load:
    """One endpoint's result under wrk."""

    key: str
    path: str
    requests_per_second: float
    bad_responses: int
    socket_errors: int
    latency_ms_p50: float | None
    # Page / bare ratios of the paired measurement (``CONFIRM_BELOW``); empty when the first
    # pass was far enough from the target.
    paired_shares: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = {"path": self.path, "requests_per_second": round(self.requests_per_second, 1),
               "bad_responses": self.bad_responses, "socket_errors": self.socket_errors,
               "latency_ms_p50": self.latency_ms_p50}
        if self.paired_shares:
            out["paired_shares"] = [round(share, 4) for share in self.paired_shares]
        return out


def needs_pairing(share: float, target: float | None) -> bool:
    """Whether a first-pass share is close enough to its target (or under it) to be measured
    again, paired with the bare endpoint."""
    return target is not None and share < target * CONFIRM_BELOW


class WrkMissing(RuntimeError):
    """wrk is not installed (``scripts/system-packages.sh bench`` installs it)."""


def sqlite_environment(database_url: str) -> dict[str, str]:
    """The app's settings for the development config on a SQLite benchmark file."""
    return {"LMS_CONFIG": "development", "LMS_DATABASE_URL": database_url,
            "LMS_MAIL_BACKEND": "memory"}


def production_environment(database_url: str, secret_key: str) -> dict[str, str]:
    """The production config as a deployment gives it (``lms.config.production_problems``
    finds nothing to refuse): PostgreSQL, a strong secret, an https:// address, SMTP. No mail
    leaves: the pages only read, and no scheduler runs beside the workers."""
    return {"LMS_CONFIG": "production", "LMS_DATABASE_URL": database_url,
            "LMS_SECRET_KEY": secret_key, "LMS_BASE_URL": "https://learning.bench.invalid",
            "LMS_MAIL_BACKEND": "smtp", "LMS_SMTP_HOST": HOST, "LMS_SMTP_PORT": "2525",
            "LMS_MAIL_SENDER": "MDSN Learning & Events <learning@bench.invalid>"}


class Gunicorn:
    """gunicorn serving ``bench.wsgi:bench_app()`` on a free port of 127.0.0.1, stopped on exit.
    ``settings``: the ``LMS_*`` variables of the set-up (``sqlite_environment``,
    ``production_environment``)."""

    def __init__(self, settings: dict[str, str], log_path: Path, workers: int = WORKERS):
        self.settings = settings
        self.log_path = log_path
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> Gunicorn:
        # A server on the wall clock, even when the tests run under `faketime`.
        env = {**wall_clock_environment(), "LMS_BASE_URL": self.base, **self.settings,
               "PYTHONPATH": str(ROOT)}
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(gunicorn), "--workers", str(self.workers), "--worker-class", "sync",
             "--bind", f"{HOST}:{self.port}", "--log-level", "warning", "bench.wsgi:bench_app()"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped; see {self.log_path}")
            try:
                if requests.get(self.base + "/bench/bare", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not answer in time; see {self.log_path}")

    def __exit__(self, *exc_info) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()


def _csrf(form: str) -> str:
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    return token.group(1) if token else ""


def sign_in(base: str, email: str) -> str:
    """The ``Cookie`` header of a session signed in through the real form (and, for the
    admin, the authenticator code step). The cookies are carried by hand: under the
    production config they are ``Secure``, which a client keeps off plain http, and the
    benchmark talks plain http to 127.0.0.1 where a deployment's proxy would end TLS."""
    jar: dict[str, str] = {}

    def cookie() -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}

    def keep(response: requests.Response) -> requests.Response:
        for header in response.raw.headers.getlist("Set-Cookie"):
            name, _, rest = header.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]
        return response

    form = keep(requests.get(base + "/sign-in", timeout=10)).text
    response = keep(requests.post(base + "/sign-in", headers=cookie(), timeout=30,
                                  allow_redirects=False,
                                  data={"email": email, "password": BENCH_PASSWORD,
                                        "csrf_token": _csrf(form)}))
    if response.status_code == 302 and response.headers["Location"].endswith("/sign-in/code"):
        import pyotp

        page = keep(requests.get(base + "/sign-in/code", headers=cookie(), timeout=10))
        # The code for the server's clock (its Date header), as the admin's phone shows it.
        server_now = parsedate_to_datetime(page.headers["Date"])
        response = keep(requests.post(
            base + "/sign-in/code", headers=cookie(), timeout=30, allow_redirects=False,
            data={"code": pyotp.TOTP(ADMIN_TOTP_SECRET).at(server_now),
                  "csrf_token": _csrf(page.text)}))
    if response.status_code != 302 or "/sign-in" in response.headers.get("Location", ""):
        raise RuntimeError(f"signing in as {email} failed ({response.status_code})")
    return cookie()["Cookie"]


def _number(pattern: str, text: str, default: float = 0.0) -> float:
    found = re.search(pattern, text)
    return float(found.group(1)) if found else default


def _latency_ms(text: str) -> float | None:
    found = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if not found:
        return None
    value, unit = float(found.group(1)), found.group(2)
    return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 2)


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int,
        threads: int = 1) -> tuple[float, int, int, float | None, str]:
    """Run wrk once: (requests/s, non-2xx/3xx responses, socket errors, median latency ms,
    wrk's output)."""
    binary = shutil.which("wrk")
    if binary is None:
        raise WrkMissing("wrk is not installed: run `scripts/system-packages.sh bench` as root")
    command = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
               "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True,
                            timeout=seconds + 60, check=True).stdout
    rps = _number(r"Requests/sec:\s+([\d.]+)", output)
    bad = int(_number(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return rps, bad, errors, _latency_ms(output), output


class WrongAnswer(RuntimeError):
    """A page did not answer as the benchmark expects (signed out, an error)."""


def throughput(settings: dict[str, str], pages: list[Page], log_dir: Path, seconds: int = 5,
               connections: int = 4, workers: int = WORKERS,
               cookies: dict[str, str] | None = None) -> list[Load]:
    """The bare endpoint, then every page, each for ``seconds`` under wrk, in one gunicorn
    with ``workers`` sync workers. ``cookies`` (email → Cookie header) are reused and filled:
    a session stays valid across gunicorn restarts with the same secret key, and the admin's
    authenticator code may be used only once."""
    results: list[Load] = []
    cookies = {} if cookies is None else cookies
    name = settings["LMS_CONFIG"] + f"-{workers}"
    with Gunicorn(settings, log_dir / f"gunicorn-{name}.log", workers) as server:
        targets = [page for page in pages if page.key == "bare"] + [
            page for page in pages if page.key != "bare" and page.over_http]
        asked: dict[str, dict[str, str]] = {}
        for page in targets:
            headers = asked[page.key] = _headers_for(server, page, cookies)
            for _ in range(2 * workers + 1):  # warm every worker
                answer = requests.get(server.base + page.path, headers=headers, timeout=30,
                                      allow_redirects=False)
                if answer.status_code != page.expect:
                    raise WrongAnswer(f"{page.path} answered {answer.status_code}, not "
                                      f"{page.expect} ({name}; see {server.log_path})")
            rps, bad, errors, p50, _ = wrk(server.base + page.path, headers, seconds,
                                           connections)
            results.append(Load(page.key, page.path, rps, bad, errors, p50))
        bare = next((load for load in results if load.key == "bare"), None)
        if bare is not None and bare.requests_per_second:
            for page, load in zip(targets, results, strict=True):
                if needs_pairing(load.requests_per_second / bare.requests_per_second,
                                 page.share_target):
                    load.paired_shares = paired_shares(
                        server.base, (bare.path, asked["bare"]), (page.path, asked[page.key]),
                        seconds, connections)
    return results


def _headers_for(server: Gunicorn, page: Page, cookies: dict[str, str]) -> dict[str, str]:
    """What wrk sends for ``page``: the signed-in person's cookie, and for the feed's 304 the
    feed's current ETag."""
    headers = {}
    if page.email:
        if page.email not in cookies:
            cookies[page.email] = sign_in(server.base, page.email)
        headers["Cookie"] = cookies[page.email]
    if page.key == "feed_304":
        etag = requests.get(server.base + page.path, timeout=30).headers.get("ETag", "")
        headers["If-None-Match"] = etag
    return headers


def paired_shares(base: str, bare: tuple[str, dict[str, str]], page: tuple[str, dict[str, str]],
                  seconds: int, connections: int, pairs: int = CONFIRM_PAIRS) -> list[float]:
    """The page's throughput over the bare endpoint's, measured back to back ``pairs``
    times (bare, page, bare, page, ...): one ratio per pair. ``bare`` and ``page`` are
    (path, headers)."""
    shares = []
    for _ in range(pairs):
        bare_rps = wrk(base + bare[0], bare[1], seconds, connections)[0]
        page_rps = wrk(base + page[0], page[1], seconds, connections)[0]
        shares.append(page_rps / bare_rps if bare_rps else 0.0)
    return shares


@contextmanager
def postgres_database(scale: float, seed: int, log_dir: Path) -> Iterator[tuple[str, float]]:
    """A throw-away PostgreSQL cluster (``tests/postgres.py``) with one database filled as
    an operator would: ``flask lms seed-bench --create-schema`` with ``LMS_DATABASE_URL``
    pointing at it, then ``VACUUM ANALYZE``. Yields (its URL, seconds the seeding took);
    stopped and removed after."""
    from tests.postgres import PostgresServer

    with PostgresServer() as server:
        url = server.create_database("lms_bench")
        flask = Path(sys.executable).with_name("flask")
        env = {**wall_clock_environment(), "LMS_CONFIG": "development", "LMS_DATABASE_URL": url,
               "LMS_MAIL_BACKEND": "memory", "PYTHONPATH": str(ROOT)}
        started = time.perf_counter()
        with (log_dir / "seed-bench-postgresql.log").open("w") as log:
            done = subprocess.run(
                [str(flask), "--app", "lms", "lms", "seed-bench", "--scale", f"{scale:g}",
                 "--seed", str(seed), "--create-schema"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=1800,
                check=False)
        if done.returncode != 0:
            raise RuntimeError(f"seed-bench on PostgreSQL failed; see {log.name}")
        # As after any bulk load: the planner's statistics, before the first query.
        import psycopg

        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        yield url, round(time.perf_counter() - started, 1)
