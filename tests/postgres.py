"""A throw-away PostgreSQL 15 cluster for the test session.

``PostgresServer().start()`` makes a cluster in a fresh temporary folder (trust
authentication, no fsync), starts it on a free port of 127.0.0.1, and ``stop()`` shuts it
down and removes the folder. PostgreSQL will not run as root, so when the tests run as root
the binaries run as the ``postgres`` user through ``runuser``.

Tests use it through the ``postgres_server`` and ``pg_app`` fixtures in ``conftest.py``.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from tests.wall_clock import wall_clock_environment

PG_BIN = Path(os.environ.get("LMS_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"
INSTALL_HINT = (
    "`make test` installs the Debian `postgresql` package (scripts/system-packages.sh test); "
    "or install it yourself: sudo apt-get install -y postgresql"
)


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL binaries are missing or the cluster would not start."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing is listening on (just now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _running_as_root() -> bool:
    return os.geteuid() == 0


class PostgresServer:
    """One cluster: ``start()``, ``create_database()``/``url()``, ``drop_database()``,
    ``stop()``. Also a context manager."""

    def __init__(self, bin_dir: Path = PG_BIN):
        self.bin_dir = Path(bin_dir)
        self.folder: Path | None = None
        self.port: int | None = None
        self._names = itertools.count(1)

    # ------------------------------------------------------------------------ paths

    @property
    def data_dir(self) -> Path:
        assert self.folder is not None, "server not started"
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.folder is not None, "server not started"
        return self.folder / "socket"

    @property
    def log_file(self) -> Path:
        assert self.folder is not None, "server not started"
        return self.folder / "server.log"

    @property
    def running(self) -> bool:
        return self.folder is not None and self.port is not None

    # ------------------------------------------------------------------------ processes

    def _check_binaries(self) -> None:
        missing = [
            name
            for name in ("initdb", "pg_ctl", "postgres")
            if not os.access(self.bin_dir / name, os.X_OK)
        ]
        if missing:
            raise PostgresUnavailable(
                f"PostgreSQL 15 is not installed: no {', '.join(missing)} in {self.bin_dir}. "
                + INSTALL_HINT
            )
        if _running_as_root():
            try:
                pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise PostgresUnavailable(
                    "Running as root, but there is no `postgres` user to run PostgreSQL as. "
                    + INSTALL_HINT
                ) from None
            if shutil.which("runuser") is None:
                raise PostgresUnavailable(
                    "Running as root, but `runuser` (util-linux) is missing, so PostgreSQL "
                    "cannot be started as the `postgres` user."
                )

    def _command(self, binary: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / binary), *args]
        if _running_as_root():
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        return command

    def _run(self, binary: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            self._command(binary, *args),
            cwd=self.folder,  # readable by the postgres user, unlike perhaps the caller's cwd
            env=wall_clock_environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _fail(self, what: str, result: subprocess.CompletedProcess) -> PostgresUnavailable:
        return PostgresUnavailable(
            f"{what} failed (exit {result.returncode}).\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\n"
            f"server log (tail):\n{self._log_tail()}"
        )

    # ------------------------------------------------------------------------ life cycle

    def start(self) -> PostgresServer:
        """Create the cluster and start it; raises ``PostgresUnavailable`` if it cannot."""
        if self.running:
            return self
        self._check_binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="lms-pg-"))
        try:
            self.socket_dir.mkdir()
            if _running_as_root():
                account = pwd.getpwnam(SUPERUSER)
                for path in (self.folder, self.socket_dir):
                    os.chown(path, account.pw_uid, account.pw_gid)
            result = self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-A",
                "trust",
                "-U",
                SUPERUSER,
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            )
            if result.returncode != 0:
                raise self._fail("initdb", result)
            self._start_on_free_port()
        except BaseException:
            self._remove_folder()
            raise
        atexit.register(self.stop)  # in case the session ends without its teardown
        return self

    def _start_on_free_port(self, attempts: int = 3) -> None:
        # The free port can be taken between finding it and the server binding it; retry.
        for attempt in range(1, attempts + 1):
            port = free_port()
            result = self._pg_ctl_start(port)
            if result.returncode == 0:
                self.port = port
                return
            self._kill_postmaster()  # a half-started server must not be left behind
            if attempt == attempts:
                raise self._fail("pg_ctl start", result)

    def _pg_ctl_start(self, port: int) -> subprocess.CompletedProcess:
        options = (
            f"-p {port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            # As production should be on SSD storage (README "Performance"): the default 4
            # makes PostgreSQL scan whole tables rather than probe an index a few times.
            "-c random_page_cost=1.1"
        )
        return self._run(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-o", options,
            "-w", "-t", "60", "start",
        )

    def pause(self) -> None:
        """Shut the server down (fast) but keep its cluster and port, as if the database
        went away; ``resume`` brings it back on the same port with the same data."""
        assert self.running, "server not started"
        result = self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop",
                           timeout=60)
        if result.returncode != 0:
            raise self._fail("pg_ctl stop", result)

    def resume(self) -> None:
        """Start a paused server again, on the port it had."""
        assert self.running, "server not started"
        result = self._pg_ctl_start(self.port)
        if result.returncode != 0:
            raise self._fail("pg_ctl start", result)

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder. Safe to call twice."""
        if self.folder is None:
            return
        if self.port is not None and (self.data_dir / "postmaster.pid").exists():
            result = self._run(
                "pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop", timeout=60
            )
            if result.returncode != 0:
                self._kill_postmaster()
        self.port = None
        self._remove_folder()

    def _kill_postmaster(self) -> None:
        """Last resort: stop the postmaster this object started, by the pid it recorded."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGQUIT)  # immediate shutdown; children go with it
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.05)
            os.kill(pid, signal.SIGKILL)

    def _remove_folder(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ------------------------------------------------------------------------ databases

    def url(self, dbname: str) -> str:
        """The SQLAlchemy URL of database ``dbname`` on this server."""
        assert self.running, "server not started"
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def connect_admin(self) -> psycopg.Connection:
        """An autocommit connection to the ``postgres`` maintenance database."""
        assert self.running, "server not started"
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        )

    def unique_name(self, prefix: str = "lms_test") -> str:
        """A database name no other test of this session uses."""
        return f"{prefix}_{next(self._names)}_{uuid.uuid4().hex[:8]}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (a unique name if none is given); returns its URL."""
        name = name or self.unique_name()
        with self.connect_admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing any connection still open to it."""
        with self.connect_admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
