"""A background task's run in the worker: its progress written as it goes, its cancel
button obeyed, and its worker's death noticed.

Each run holds a connection of its own (autocommit) besides Django's, on which it:

- writes progress (phase, done, total), seen at once while the work's own
  transaction is still open;
- holds a session advisory lock, ``(TASK_LOCK_CLASS, progress id)``, for as long as
  the run lives. PostgreSQL drops it with the session, so a run whose lock nobody holds
  while the queue still says "running" lost its worker (killed, or its machine gone):
  ``reap_lost_tasks`` marks it failed;
- is asked, a few times a second by a thread of the run, whether someone pressed
  cancel. Then the work's current statement is cancelled (PostgreSQL rolls the
  transaction back) and the next progress report raises ``TaskCancelled`` — but only
  while the work is in a phase that may stop: a phase marked ``final`` (an import's
  index rebuild after its rows were committed) runs to its end.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
from django.db import DatabaseError, connections
from django.utils import timezone
from django.utils.translation import gettext_lazy

from pgvector_admin.features import background_tasks_available
from pgvector_admin.models import TaskProgress

# The first key of the runs' advisory locks ("task"); the second is the progress id.
TASK_LOCK_CLASS = 0x7461736B
# Progress is written at most this often (seconds): the worker's time goes to the work.
PROGRESS_INTERVAL = 0.5
# How often the run asks whether cancel was pressed (seconds).
CANCEL_POLL_INTERVAL = 0.25
# A run claimed by a worker that has not taken its lock after this long lost it.
CLAIM_GRACE_SECONDS = 60

FINISHED_PHASES = {"done", "checked", "refused", "failed", "cancelled"}

# Marks a column set to the server's clock.
_NOW = object()


class TaskCancelled(Exception):
    """Raised in the work when its cancel button was pressed."""


class TaskRun:
    """The run of one task, as a context manager around its work::

        with TaskRun(progress_id) as run:
            run.phase("validating")
            work(progress=run.progress)

    ``run.progress`` is a ``pgvector_admin.transfer.services.Progress`` callback. A phase whose name
    starts with one of ``final_phases`` cannot be cancelled.
    """

    def __init__(self, progress_id: int, *, final_phases: Iterable[str] = ()) -> None:
        self.progress_id = progress_id
        self.final_phases = tuple(final_phases)
        self.cancelled = False
        self._phase = ""
        self._written_at = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._work = connections["default"]
        self._control: psycopg.Connection[Any] | None = None
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> TaskRun:
        self._work.ensure_connection()
        if self._work.pg_version >= 140000:
            # If the worker dies, PostgreSQL stops the statement it was running within a
            # second, instead of running it to its end for nobody (PostgreSQL 14+).
            with self._work.cursor() as cursor:
                cursor.execute("SET client_connection_check_interval = '1s'")
        params = self._work.get_connection_params()
        self._control = psycopg.connect(**params, autocommit=True)
        self._control.execute(
            "SELECT pg_advisory_lock(%s, %s)", [TASK_LOCK_CLASS, self.progress_id]
        )
        requested = self._execute(
            "UPDATE {table} SET updated = now() WHERE id = %s RETURNING cancel_requested",
            [self.progress_id],
        )
        if requested:
            self.cancelled = True
            self.close()
            raise TaskCancelled("cancelled before it started")
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Stop watching for cancel; release the run's lock with its connection. After
        a cancel Django's connection is closed too (not returned to the pool as it is):
        whatever the cancelled work left in its session (a temporary table, a lock)
        goes with it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        with self._lock:
            if self._control is not None:
                self._control.close()
                self._control = None
        if self.cancelled and self._work.connection is not None:
            # Closed before Django returns it to its pool, which then drops it.
            self._work.connection.close()
            self._work.close()

    # Progress -----------------------------------------------------------------------

    def phase(self, name: str, *, done: int = 0, total: int | None = None) -> None:
        """Enter a phase (written at once); raises ``TaskCancelled`` if cancel was
        pressed and this phase may stop."""
        with self._lock:
            changed = name != self._phase
            self._phase = name
            if self._stoppable():
                raise TaskCancelled
        self._write(phase=name, done=done, total=total, new_phase=changed)

    def progress(self, phase: str, done: int, total: int | None) -> None:
        """The work's progress callback: a new phase is written at once, the rest at
        most every ``PROGRESS_INTERVAL`` seconds."""
        if phase != self._phase:
            self.phase(phase, done=done, total=total)
            return
        if self.cancelled and self._stoppable():
            raise TaskCancelled
        now = time.monotonic()
        finished = total is not None and done >= total
        if now - self._written_at >= PROGRESS_INTERVAL or finished:
            self._write(phase=phase, done=done, total=total)

    def finish(self, **values: Any) -> None:
        """Write the end (``phase``, ``report``, ``download``...), through Django's
        connection: it commits with the work's own writes."""
        TaskProgress.objects.filter(pk=self.progress_id).update(
            **values, phase_started=timezone.now()
        )

    def _stoppable(self) -> bool:
        final = bool(self.final_phases) and self._phase.startswith(self.final_phases)
        return self.cancelled and not final

    def _write(self, *, new_phase: bool = False, **values: Any) -> None:
        self._written_at = time.monotonic()
        columns = ", ".join(f"{name} = %s" for name in values)
        started = ", phase_started = now()" if new_phase else ""
        self._execute(
            f"UPDATE {{table}} SET {columns}{started}, updated = now() WHERE id = %s "
            "RETURNING cancel_requested",
            [*(_json(value) for value in values.values()), self.progress_id],
        )

    def _execute(self, sql: str, params: list[Any]) -> bool:
        """Run an UPDATE ... RETURNING cancel_requested on the run's own connection."""
        with self._lock:
            assert self._control is not None
            row = self._control.execute(
                sql.format(table=TaskProgress._meta.db_table), params
            ).fetchone()
        requested = bool(row and row[0])
        if requested:
            self.cancelled = True
        return requested

    # Cancel -------------------------------------------------------------------------

    def _watch(self) -> None:
        """Until the run ends: ask whether cancel was pressed; once it was, cancel the
        work's statement while its phase may stop (a cancel that arrives between
        statements is ignored by PostgreSQL, so it is sent again)."""
        while not self._stop.wait(CANCEL_POLL_INTERVAL):
            try:
                if not self.cancelled:
                    self._execute(
                        "SELECT cancel_requested FROM {table} WHERE id = %s", [self.progress_id]
                    )
                with self._lock:
                    if self._stoppable() and self._work.connection is not None:
                        self._work.connection.cancel_safe(timeout=5)
            except psycopg.Error:
                continue  # the next poll tries again; the work goes on meanwhile


def _json(value: Any) -> Any:
    return psycopg.types.json.Jsonb(value) if isinstance(value, dict | list) else value


# The worker's death ------------------------------------------------------------------


def queue_row(task_id: str | None) -> Any:
    """The queue's row of a task (django-tasks-db's ``DBTaskResult``; None when the
    task ran another way, the row is gone, or django-tasks-db is not installed)."""
    if not background_tasks_available():
        return None
    from django_tasks_db.models import DBTaskResult

    try:
        key = uuid.UUID(task_id or "")
    except ValueError:
        return None
    return DBTaskResult.objects.filter(id=key).first()


def run_is_alive(progress_id: int) -> bool:
    """Whether a worker holds the run's lock: it is running the task now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s AND objid = %s AND objsubid = 2 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [TASK_LOCK_CLASS, progress_id],
        )
        return cursor.fetchone() is not None


LOST_REASON = gettext_lazy(
    "The worker running this task stopped before the task finished (it was killed, or "
    "lost its connection to the database). Nothing of it was written: start it again."
)

# Per kind of task, what to clean up after a run that lost its worker (a concurrent
# index build leaves an invalid index behind). Filled by pgvector_admin.tasks.jobs.
CLEANUPS: dict[str, Callable[[TaskProgress], None]] = {}


def reap_lost_tasks() -> list[int]:
    """Mark failed every task the queue says is running whose worker is gone, after
    cleaning up what each left; returns their progress ids."""
    if not background_tasks_available():
        return []
    from django_tasks_db.models import DBTaskResult

    running = DBTaskResult.objects.filter(status="RUNNING")
    by_id = {str(result.id): result for result in running}
    if not by_id:
        return []
    lost = []
    now = timezone.now()
    for progress in TaskProgress.objects.filter(task_id__in=list(by_id)).exclude(
        phase__in=FINISHED_PHASES
    ):
        result = by_id[progress.task_id]
        claimed_long_ago = (
            result.started_at is not None
            and (now - result.started_at).total_seconds() > CLAIM_GRACE_SECONDS
        )
        if progress.phase == "waiting" and not claimed_long_ago:
            continue  # claimed a moment ago: its run is taking its lock
        if run_is_alive(progress.pk):
            continue
        cleanup = CLEANUPS.get(progress.kind)
        if cleanup is not None:
            try:
                cleanup(progress)
            except DatabaseError:
                continue  # the dead worker's statement still holds a lock: next time
        TaskProgress.objects.filter(pk=progress.pk).update(
            phase="failed", report={"reason": str(LOST_REASON)}
        )
        DBTaskResult.objects.filter(id=uuid.UUID(progress.task_id), status="RUNNING").update(
            status="FAILED",
            finished_at=now,
            exception_class_path="pgvector_admin.tasks.runs.WorkerLost",
            traceback=f"WorkerLost: {LOST_REASON}",
        )
        lost.append(progress.pk)
    return lost
