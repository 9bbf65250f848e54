"""Background tasks against a real worker process (``manage.py db_worker``): cancel
mid-import and mid-build, a worker killed with SIGKILL mid-import, the task started
again, two workers with two imports.

The import reads its upload from a named pipe that the test writes, so that the
import is caught in the middle of its file, every time."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from catalog.models import Item
from pgvector_admin.indexes.builds import index_validity, rebuild_name
from pgvector_admin.models import TaskProgress
from pgvector_admin.tasks.jobs import start_import, start_index_build
from pgvector_admin.tasks.runs import LOST_REASON
from pgvector_admin.transfer.services import IMPORT_LOCK_KEY, ensure_vector_indexes
from pgvector_admin.transfer.uploads import upload_dir
from tests.factories import task_url
from tests.servers import BASE_DIR
from tests.vector_models.models import Document

pytestmark = pytest.mark.django_db(transaction=True)


def test_database_url() -> str:
    """The test database, as DATABASE_URL for a process of its own."""
    params = connection.get_connection_params()  # the embedded server's socket, if it is that
    host = urllib.parse.quote(str(params.get("host") or "localhost"), safe="")
    user = urllib.parse.quote(str(params.get("user") or ""), safe="")
    password = urllib.parse.quote(str(params.get("password") or ""), safe="")
    return f"postgres://{user}:{password}@{host}:{params.get('port') or 5432}/{params['dbname']}"


test_database_url.__test__ = False  # a helper, not a test


@contextlib.contextmanager
def worker(log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The queue's worker in a process of its own, on the test database."""
    env = {
        **os.environ,
        "PYTEST_VERSION": "1",
        "DATABASE_URL": test_database_url(),
        "PYTHONUNBUFFERED": "1",
    }
    command = ["db_worker", "--no-reload", "--interval", "0.1", "--no-startup-delay"]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", *command, "--backend", "queue"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def wait_for(predicate, *, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def phase(progress: TaskProgress) -> str:
    progress.refresh_from_db()
    return progress.phase


class PipedUpload:
    """An upload that is a named pipe: the worker reads the lines the test writes."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)
        self.path = upload_dir() / self.token
        os.mkfifo(self.path, 0o600)
        self.more = threading.Event()
        self.thread = threading.Thread(target=self._write, daemon=True)
        self.thread.start()

    def _write(self) -> None:
        lines = (f'row {i},"[{i},1,2]"\n'.encode() for i in range(1, 40_001))
        try:
            with open(self.path, "wb") as pipe:
                pipe.write(b"label,embedding\n")
                for number, line in enumerate(lines, 1):
                    pipe.write(line)
                    if number == 25_000:
                        pipe.flush()
                        self.more.wait(timeout=60)  # the rest only when told
        except BrokenPipeError:
            return  # the reader went away

    def finish(self) -> None:
        self.more.set()
        self.thread.join(timeout=30)


def import_lock_is_free() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [IMPORT_LOCK_KEY])
        (free,) = cursor.fetchone()
        if free:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK_KEY])
    return free


@pytest.fixture
def three_items(transactional_db: None) -> None:
    for label in ("a", "b", "c"):
        Item.objects.create(label=label, embedding=[1, 2, 3])


def test_cancel_stops_an_import_mid_file_and_nothing_is_written(
    admin_user, admin_client: Client, three_items: None, tmp_path: Path
) -> None:
    upload = PipedUpload()
    progress = start_import(
        token=upload.token, model=Item, file_name="big.csv", user=admin_user, backend="queue"
    )
    with worker(tmp_path / "worker.log"):
        wait_for(lambda: phase(progress) == "validate" and progress.done >= 10_000, what="rows")
        page = admin_client.get(task_url(progress.pk))
        assert "Cancel the task" in page.content.decode()
        cancelled = admin_client.post(task_url(progress.pk, "cancel"))
        assert cancelled.status_code == 302
        state_url = task_url(progress.pk, "state")
        assert admin_client.get(state_url).json()["cancelling"] is True
        upload.finish()
        wait_for(lambda: phase(progress) == "cancelled", what="the cancel")
        state = admin_client.get(state_url).json()
        assert (state["phase"], state["finished"]) == ("cancelled", True)
        assert sorted(Item.objects.values_list("label", flat=True)) == ["a", "b", "c"]
        assert not (upload_dir() / upload.token).exists()
        assert import_lock_is_free()
        page = admin_client.get(task_url(progress.pk))
        assert "The task was cancelled." in page.content.decode()
        # The worker goes on with the next task.
        token = secrets.token_hex(16)
        (upload_dir() / token).write_bytes(b'label,embedding\nnext,"[1,1,1]"\n')
        following = start_import(token=token, model=Item, file_name="next.csv", backend="queue")
        wait_for(lambda: phase(following) == "done", what="the next import")
    assert Item.objects.filter(label="next").exists()


def test_a_worker_killed_mid_import_leaves_nothing_and_the_task_can_start_again(
    admin_user, admin_client: Client, three_items: None, tmp_path: Path
) -> None:
    upload = PipedUpload()
    progress = start_import(
        token=upload.token, model=Item, file_name="big.csv", user=admin_user, backend="queue"
    )
    with worker(tmp_path / "worker.log") as process:
        wait_for(lambda: phase(progress) == "validate" and progress.done >= 10_000, what="rows")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    upload.finish()
    state_url = task_url(progress.pk, "state")
    # The page notices the worker is gone (its run's lock went with its session).
    wait_for(lambda: admin_client.get(state_url).json()["phase"] == "failed", what="failed")
    state = admin_client.get(state_url).json()
    assert (state["finished"], state["status"], state["reason"]) == (True, "FAILED", LOST_REASON)
    assert sorted(Item.objects.values_list("label", flat=True)) == ["a", "b", "c"]
    assert import_lock_is_free()
    page = admin_client.get(task_url(progress.pk)).content.decode()
    assert "Start it again" in page
    # The file is still on disk: the same import, queued again, runs to the end.
    path = upload_dir() / upload.token
    path.unlink()
    path.write_bytes(
        b"label,embedding\n" + b"".join(f'row {i},"[{i},1,2]"\n'.encode() for i in range(1, 1001))
    )
    again = admin_client.post(task_url(progress.pk, "again"))
    assert again.status_code == 302
    restarted = TaskProgress.objects.exclude(pk=progress.pk).get()
    assert again["Location"] == task_url(restarted.pk)
    assert restarted.title == progress.title
    with worker(tmp_path / "worker.log"):
        wait_for(lambda: phase(restarted) == "done", what="the import started again")
    assert Item.objects.count() == 1003


def documents_with_their_index(rows: int) -> str:
    """``rows`` random 768-d documents, and their HNSW index built; its name."""
    name = "document_embedding_hnsw"
    with connection.cursor() as cursor:
        # Rows in first, the index built after: far quicker than row by row into it.
        cursor.execute(f"DROP INDEX {name}")
        cursor.execute(
            f"INSERT INTO {Document._meta.db_table} (title, embedding) SELECT 'd' || g, v::vector "
            f"FROM generate_series(1, {rows}) g, LATERAL (SELECT array_agg(random()) "
            "AS v FROM generate_series(1, 768) s WHERE g > 0) r"
        )
    assert ensure_vector_indexes(Document) == [name]
    return name


def invalid_indexes() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass AND NOT indisvalid",
            [Document._meta.db_table],
        )
        return cursor.fetchone()[0]


def building(progress: TaskProgress) -> bool:
    return phase(progress).startswith("index: building") and progress.done > 0


def test_cancel_stops_an_index_rebuild_and_leaves_no_invalid_index(
    admin_user, admin_client: Client, tmp_path: Path
) -> None:
    name = documents_with_their_index(8000)
    progress = start_index_build(
        model=Document, names=[name], rebuild=True, user=admin_user, backend="queue"
    )
    with worker(tmp_path / "worker.log"):
        wait_for(lambda: building(progress), what="the build to start")
        admin_client.post(task_url(progress.pk, "cancel"))
        wait_for(lambda: phase(progress) == "cancelled", what="the cancel")
    assert index_validity(name) is True  # the old index serves on
    assert index_validity(rebuild_name(name)) is None  # the copy is gone
    assert invalid_indexes() == 0


def test_a_worker_killed_mid_rebuild_leaves_no_invalid_index_once_noticed(
    admin_user, admin_client: Client, tmp_path: Path
) -> None:
    name = documents_with_their_index(8000)
    progress = start_index_build(
        model=Document, names=[name], rebuild=True, user=admin_user, backend="queue"
    )
    with worker(tmp_path / "worker.log") as process:
        wait_for(lambda: building(progress), what="the build to start")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    state_url = task_url(progress.pk, "state")
    wait_for(lambda: admin_client.get(state_url).json()["phase"] == "failed", what="failed")
    assert index_validity(name) is True
    assert index_validity(rebuild_name(name)) is None
    assert invalid_indexes() == 0


def test_two_workers_take_two_imports_queued_together_and_both_land_whole(
    tmp_path: Path,
) -> None:
    tokens = []
    for first in (1, 5001):
        token = secrets.token_hex(16)
        lines = (f'row {i},"[{i},1,2]"\n' for i in range(first, first + 5000))
        (upload_dir() / token).write_text("label,embedding\n" + "".join(lines))
        tokens.append(token)
    runs = [
        start_import(token=token, model=Item, file_name=f"{n}.csv", backend="queue")
        for n, token in enumerate(tokens)
    ]
    with worker(tmp_path / "one.log"), worker(tmp_path / "two.log"):
        wait_for(lambda: [phase(run) for run in runs] == ["done", "done"], what="both")
    assert Item.objects.count() == 10_000
    assert [run.report["new"] for run in runs] == [5000, 5000]
