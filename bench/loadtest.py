"""Throughput over HTTP on loopback: gunicorn (2 sync workers) serving ``bench.wsgi:bench_app()``
against a benchmark database, loaded by Debian's ``wrk`` for a bounded time per endpoint.

Signed-in pages get the session cookie of a real sign-in (through the sign-in form, CSRF
and all), passed to wrk as a header. Only 127.0.0.1 is ever addressed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.generate import BENCH_PASSWORD
from bench.pages import Page

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
WORKERS = 2


@dataclass
class Load:
    """One endpoint's result under wrk."""

    key: str
    path: str
    requests_per_second: float
    bad_responses: int
    socket_errors: int
    latency_ms_p50: float | None

    def as_dict(self) -> dict:
        return {"path": self.path, "requests_per_second": round(self.requests_per_second, 1),
                "bad_responses": self.bad_responses, "socket_errors": self.socket_errors,
                "latency_ms_p50": self.latency_ms_p50}


class WrkMissing(RuntimeError):
    """wrk is not installed (``scripts/system-packages.sh bench`` installs it)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn serving ``bench.wsgi:bench_app()`` on a free port of 127.0.0.1, stopped on exit."""

    def __init__(self, database_url: str, log_path: Path, workers: int = WORKERS):
        self.database_url = database_url
        self.log_path = log_path
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> Gunicorn:
        env = {**os.environ, "LMS_CONFIG": "development", "LMS_DATABASE_URL": self.database_url,
               "LMS_MAIL_BACKEND": "memory", "LMS_BASE_URL": self.base,
               "LMS_FEED_CACHE_BYTES": "0",  # the personal feed is built each time
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


def sign_in(base: str, email: str) -> str:
    """The ``Cookie`` header of a session signed in through the real form."""
    with requests.Session() as http:
        form = http.get(base + "/sign-in", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
        data = {"email": email, "password": BENCH_PASSWORD,
                "csrf_token": token.group(1) if token else ""}
        response = http.post(base + "/sign-in", data=data, timeout=30, allow_redirects=False)
        if response.status_code != 302:
            raise RuntimeError(f"signing in as {email} failed ({response.status_code})")
        return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


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


def throughput(database_url: str, pages: list[Page], log_dir: Path, seconds: int = 5,
               connections: int = 4) -> list[Load]:
    """The bare endpoint, then every page, each for ``seconds`` under wrk, in one gunicorn."""
    results: list[Load] = []
    with Gunicorn(database_url, log_dir / "gunicorn.log") as server:
        cookies: dict[str, str] = {}
        targets = [page for page in pages if page.key == "bare"] + [
            page for page in pages if page.key != "bare"]
        for page in targets:
            headers = {}
            if page.email:
                if page.email not in cookies:
                    cookies[page.email] = sign_in(server.base, page.email)
                headers["Cookie"] = cookies[page.email]
            if page.key == "feed_304":
                etag = requests.get(server.base + page.path, timeout=30).headers.get("ETag", "")
                headers["If-None-Match"] = etag
            for _ in range(5):  # warm both workers
                requests.get(server.base + page.path, headers=headers, timeout=30)
            rps, bad, errors, p50, _ = wrk(server.base + page.path, headers, seconds,
                                           connections)
            results.append(Load(page.key, page.path, rps, bad, errors, p50))
    return results
