"""Nothing of ours is left running: quickstart stopped with Ctrl-C or SIGTERM takes
runserver and the embedded PostgreSQL it started down with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from django.conf import settings

from tests.servers import (
    free_port,
    postgres_processes,
    read_until,
    start_manage,
    wait_until_no_postgres,
)

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="runs quickstart on an embedded server of its own"
)


@contextmanager
def quickstart(pgdata: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``manage.py quickstart`` on a data folder of its own, until it serves; killed
    (with everything it started) if the test leaves it running."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_VERSION"}
    env |= {"EMBEDDED_PGDATA": str(pgdata)}
    process = start_manage("quickstart", f"127.0.0.1:{port}", env=env)
    try:
        read_until(process, r"Quit the server with", timeout=180)
        yield process, port
    finally:
        if process.poll() is None:
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()
        process.wait(timeout=30)


def worker_processes(pgdata: Path) -> list[psutil.Process]:
    """The task workers quickstart started for the server on ``pgdata``."""
    found = []
    for process in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmdline = process.info["cmdline"] or []
            environ = process.info["environ"] or {}
        except psutil.Error:
            continue
        if "db_worker" in cmdline and environ.get("EMBEDDED_PGDATA") == str(pgdata):
            found.append(process)
    return found


def runserver_processes(port: int) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "runserver" in cmdline and f"127.0.0.1:{port}" in cmdline:
            found.append(process)
    return found


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stopping_quickstart_stops_runserver_and_its_embedded_server(
    tmp_path: Path, stop: signal.Signals
) -> None:
    pgdata = tmp_path / "pgdata"
    with quickstart(pgdata) as (process, port):
        assert postgres_processes(pgdata)
        assert runserver_processes(port)
        assert worker_processes(pgdata)  # the task worker runs beside the server
        process.send_signal(stop)
        assert process.wait(timeout=30) == 0
    # Generous: a loaded machine (the suite runs in two processes) stops it slower.
    assert wait_until_no_postgres(pgdata, timeout=60)
    assert runserver_processes(port) == []
    assert worker_processes(pgdata) == []


def test_the_embedded_server_outlives_quickstart_while_another_process_uses_it(
    tmp_path: Path,
) -> None:
    pgdata = tmp_path / "pgdata"
    holder_code = (
        "import sys; from pathlib import Path; from project.embedded import ensure_server; "
        "ensure_server(Path(sys.argv[1]), database='vector_catalog'); "
        "print('attached', flush=True); sys.stdin.readline()"
    )
    with quickstart(pgdata) as (process, _port):
        holder = subprocess.Popen(
            [sys.executable, "-c", holder_code, str(pgdata)],
            cwd=settings.BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "attached"
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    try:
        assert not wait_until_no_postgres(pgdata, timeout=3), "stopped under another user"
    finally:
        holder.communicate("\n", timeout=60)
    assert wait_until_no_postgres(pgdata, timeout=15)
