"""A task's run (pgvector_admin.tasks.runs): cancel obeyed in a statement and between them, not
in a final phase, and a run whose worker is gone noticed and marked failed."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from pgvector_admin.models import TaskProgress
from pgvector_admin.tasks.runs import (
    LOST_REASON,
    TaskCancelled,
    TaskRun,
    reap_lost_tasks,
    run_is_alive,
)

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(work) -> tuple[threading.Thread, dict]:
    """Run ``work`` in a thread with a database connection of its own."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_cancel_stops_the_statement_running_and_rolls_it_back() -> None:
    progress = TaskProgress.objects.create(title="sleep")

    def work() -> None:
        with TaskRun(progress.pk) as run:
            run.phase("sleeping")
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(60)")

    started = time.monotonic()
    thread, outcome = in_thread(work)
    wait_for(lambda: TaskProgress.objects.get(pk=progress.pk).phase == "sleeping")
    assert run_is_alive(progress.pk)
    TaskProgress.objects.filter(pk=progress.pk).update(cancel_requested=True)
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert time.monotonic() - started < 30  # pg_sleep(60) did not run out
    error = outcome["error"]
    assert "canceling statement due to user request" in str(error)
    assert not run_is_alive(progress.pk)  # the lock went with the run


def test_cancel_between_statements_raises_at_the_next_progress_report() -> None:
    progress = TaskProgress.objects.create(title="loop")
    reports = []

    def work() -> None:
        with TaskRun(progress.pk) as run:
            for done in range(10_000):
                run.progress("counting", done, 10_000)
                reports.append(done)
                time.sleep(0.01)

    thread, outcome = in_thread(work)
    wait_for(lambda: len(reports) > 5)
    TaskProgress.objects.filter(pk=progress.pk).update(cancel_requested=True)
    thread.join(timeout=20)
    assert isinstance(outcome["error"], TaskCancelled)
    assert len(reports) < 10_000


def test_a_final_phase_is_not_cancelled() -> None:
    progress = TaskProgress.objects.create(title="final")

    def work() -> str:
        with TaskRun(progress.pk, final_phases=("index",)) as run:
            run.phase("index: building")
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(1.5)")
            run.progress("index: building", 1, 1)
            return "finished"

    thread, outcome = in_thread(work)
    wait_for(lambda: TaskProgress.objects.get(pk=progress.pk).phase == "index: building")
    TaskProgress.objects.filter(pk=progress.pk).update(cancel_requested=True)
    thread.join(timeout=20)
    assert outcome == {"value": "finished"}


def test_a_run_cancelled_before_it_started_does_not_start() -> None:
    progress = TaskProgress.objects.create(title="never", cancel_requested=True)
    with pytest.raises(TaskCancelled), TaskRun(progress.pk):
        pytest.fail("the work ran")


def test_a_running_task_whose_worker_is_gone_is_marked_failed() -> None:
    progress = TaskProgress.objects.create(title="lost", phase="loading", kind="import")
    result = DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status="RUNNING",
        task_path="pgvector_admin.tasks.jobs.import_file",
        args_kwargs={"args": [], "kwargs": {}},
        queue_name="default",
        backend_name="queue",
        run_after=timezone.now(),
        started_at=timezone.now(),
        priority=0,
    )
    TaskProgress.objects.filter(pk=progress.pk).update(task_id=str(result.id))
    # A worker holding the run's lock is alive: nothing is reaped.
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as worker:
        worker.execute("SELECT pg_advisory_lock(%s, %s)", [0x7461736B, progress.pk])
        assert reap_lost_tasks() == []
    # Its session ended (the worker was killed): the task failed, and says why.
    assert reap_lost_tasks() == [progress.pk]
    progress.refresh_from_db()
    assert progress.phase == "failed"
    assert progress.report["reason"] == LOST_REASON
    result.refresh_from_db()
    assert result.status == "FAILED"


@pytest.mark.parametrize(
    ("phase", "label"),
    [
        ("waiting", "waiting for a worker"),
        ("validate", "checking every line"),
        ("load", "loading the rows"),
        ("index: building", "building the index"),
        ("index: document_embedding_hnsw", "index document_embedding_hnsw"),
        (
            "index: building index: loading tuples (blocks)",
            "building the index: loading tuples, in blocks",
        ),
        ("index: building index: loading tuples (tuples)", "building the index: loading tuples"),
    ],
)
def test_a_phase_is_shown_in_words(phase: str, label: str) -> None:
    from pgvector_admin.admin.tasks import phase_label

    assert phase_label(phase) == label
