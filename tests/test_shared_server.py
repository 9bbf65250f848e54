"""One embedded server shared by quickstart, serve, a shell and the task workers, in any
order, and a task worker that dies started again: quickstart's worker is SIGKILLed, its
replacement finishes an import queued from a shell; quickstart and serve answer
searches side by side for a minute with no 503; each stops in turn, and the server
stops only with the last."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import psutil
import pytest

from tests.factories import task_url
from tests.servers import (
    HttpSession,
    free_port,
    keep_reading,
    postgres_processes,
    read_until,
    run_python,
    start_manage,
    wait_until_no_postgres,
)
from tests.test_settings import PRODUCTION_ENV
from tests.test_supervise import quickstart, worker_processes

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="shares an embedded server of its own"
)

SEARCH_SECONDS = 60.0


def wait_for(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def queue_import(env: dict[str, str]) -> int:
    """Queue an import from a shell of its own (a third process on the data folder)."""
    result = run_python(
        env,
        """
        import django
        django.setup()
        from django.contrib.auth.models import User
        from catalog.models import Item
        from pgvector_admin.tasks.jobs import start_import
        from pgvector_admin.transfer.uploads import save_upload
        token = save_upload([b'label,embedding\\nfrom the shell,"[1,2,3]"\\n'])
        user = User.objects.get(username="admin")
        print(start_import(token=token, model=Item, file_name="shell.csv", user=user).pk)
        """,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


def test_quickstart_and_serve_share_one_server_and_a_killed_worker_comes_back(
    tmp_path: Path,
) -> None:
    pgdata = tmp_path / "pgdata"
    shared = {
        "EMBEDDED_PGDATA": str(pgdata),
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_SUPERUSER_PASSWORD": "shared-admin-password",
    }
    os.environ.update(shared)  # quickstart() takes the environment it finds
    try:
        with quickstart(pgdata) as (dev, dev_port):
            # The worker quickstart started, killed: another takes its place.
            (worker,) = wait_for(lambda: worker_processes(pgdata), timeout=30, what="a worker")
            worker.send_signal(signal.SIGKILL)
            replacement = wait_for(
                lambda: [p for p in worker_processes(pgdata) if p.pid != worker.pid],
                timeout=30,
                what="the worker's replacement",
            )
            restarted = read_until(dev, r"Started the task worker again", timeout=30)
            assert re.search(r"exited with code -9", "".join(restarted))
            keep_reading(dev)  # runserver logs every request

            # serve on the same data folder, with no worker of its own.
            env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION"}}
            env |= {
                **PRODUCTION_ENV,
                **shared,
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                "DJANGO_SECURE_SSL_REDIRECT": "0",
            }
            env.pop("DJANGO_DEBUG", None)
            serve_port = free_port()
            served = start_manage(
                "serve", f"127.0.0.1:{serve_port}", "--workers", "2", "--task-workers", "0", env=env
            )
            try:
                read_until(served, r"Booting worker", timeout=120)
                keep_reading(served)  # gunicorn logs every request
                # The replacement is seen as a task worker by the pages.
                seen = run_python(
                    env,
                    "import django; django.setup(); "
                    "from pgvector_admin.tasks.workers import workers_connected; "
                    "print(workers_connected())",
                )
                assert int(seen.stdout.split()[-1]) >= 1, seen.stderr
                # The import queued from a shell is run by the replacement worker.
                task = queue_import(env)
                clients = []
                for port in (dev_port, serve_port):
                    client = HttpSession(port)
                    client.log_in("admin", "shared-admin-password")
                    clients.append(client)

                def state() -> dict:
                    status, body = clients[1].get(task_url(task, "state"))
                    assert status == 200
                    return json.loads(body)

                finished = wait_for(
                    lambda: (s := state())["finished"] and s, timeout=60, what="the import"
                )
                assert finished["phase"] == "done", finished
                assert all(p.is_running() for p in replacement)

                statuses: dict[int, int] = {}
                deadline = time.monotonic() + SEARCH_SECONDS
                while time.monotonic() < deadline:
                    for client in clients:
                        status, _ = client.get("/admin/catalog/item/search/?vector=1,2,3&k=5")
                        statuses[status] = statuses.get(status, 0) + 1
                assert set(statuses) == {200}, statuses

                # quickstart leaves first: serve goes on on the same server.
                dev.send_signal(signal.SIGINT)
                assert dev.wait(timeout=60) == 0
                assert postgres_processes(pgdata), "the server stopped under serve"
                status, page = clients[1].get("/admin/catalog/item/search/?vector=1,2,3&k=5")
                assert status == 200
                assert b"from the shell" in page
                served.send_signal(signal.SIGTERM)
                assert served.wait(timeout=60) == 0
            finally:
                if served.poll() is None:
                    for child in psutil.Process(served.pid).children(recursive=True):
                        child.kill()
                    served.kill()
                    served.wait()
    finally:
        for name in shared:
            os.environ.pop(name, None)
    assert wait_until_no_postgres(pgdata, timeout=20)
    assert worker_processes(pgdata) == []
