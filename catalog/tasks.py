"""Long work run by the task queue's worker (``manage.py db_worker``), each with a
``TaskProgress`` row that its progress page reads.

The queue is Django's tasks API (django-tasks) on a table in PostgreSQL
(django-tasks-db): a task enqueued in a transaction is seen by the worker only when
that transaction commits. Progress is written on a connection of its own, in
autocommit, so that it shows while the work's own transactions are still open.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from django.apps import apps
from django.db import connection, models, transaction
from django_tasks import task

from catalog.models import TaskProgress
from catalog.services import ImportReport, import_vectors
from catalog.uploads import remove_upload, upload_path

# Progress is written at most this often (seconds): the worker's time goes to the work.
PROGRESS_INTERVAL = 0.5


class ProgressWriter:
    """A ``Progress`` callback that writes phase, done and total to a task's
    ``TaskProgress`` row, on a connection of its own (autocommit)."""

    def __init__(self, task_id: Any) -> None:
        self.task_id = str(task_id)
        self.written_at = 0.0
        self._connection: psycopg.Connection[Any] | None = None

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if now - self.written_at < PROGRESS_INTERVAL and not finished:
            return
        self.written_at = now
        self.write(phase=phase, done=done, total=total)

    def write(self, **values: Any) -> None:
        if self._connection is None:
            params = connection.get_connection_params()
            self._connection = psycopg.connect(**params, autocommit=True)
        table = TaskProgress._meta.db_table
        columns = ", ".join(f"{name} = %s" for name in values)
        self._connection.execute(
            f"UPDATE {table} SET {columns}, updated = now() WHERE task_id = %s",
            [*(_json(value) for value in values.values()), self.task_id],
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _json(value: Any) -> Any:
    return psycopg.types.json.Jsonb(value) if isinstance(value, dict) else value


def start_import(
    *,
    token: str,
    model: type[models.Model],
    file_name: str,
    delimiter: str = ",",
    replace: bool = False,
    user: Any = None,
) -> TaskProgress:
    """Queue the import of the uploaded file ``token`` (``catalog.uploads``) into
    ``model``; returns its progress row. The worker picks it up once this commits."""
    with transaction.atomic():
        result = import_file.enqueue(
            token=token,
            model_label=model._meta.label,
            delimiter=delimiter,
            replace=replace,
        )
        return TaskProgress.objects.create(
            task_id=result.id,
            title=f"Import of {file_name} into {model._meta.verbose_name_plural}",
            started_by=user if getattr(user, "pk", None) else None,
        )


@task(takes_context=True)
def import_file(
    context: Any, *, token: str, model_label: str, delimiter: str, replace: bool
) -> dict[str, Any]:
    """Import an uploaded file, all or nothing, as ``manage.py import_vectors`` does;
    the upload is removed afterwards. Returns the report's summary."""
    writer = ProgressWriter(context.task_result.id)
    try:
        writer.write(phase="validating", done=0, total=None)
        with open(upload_path(token), "rb") as stream:
            report = import_vectors(
                stream,
                model=apps.get_model(model_label),
                dry_run=False,
                replace=replace,
                delimiter=delimiter,
                progress=writer,
            )
        summary = report_summary(report)
        writer.write(phase="done" if report.written else "refused", report=summary)
        return summary
    finally:
        remove_upload(token)
        writer.close()


def report_summary(report: ImportReport) -> dict[str, Any]:
    """What an import's progress page shows at the end, as JSON."""
    return {
        "rows": report.rows,
        "new": report.new,
        "updated": report.updated,
        "written": report.written,
        "how": report.how if report.written else "",
        "file_error": report.file_error,
        "index_error": report.index_error,
        "error_count": report.error_count,
        "errors": [bad._asdict() for bad in report.errors],
        "seconds": round(report.seconds, 3),
        "phases": {name: round(seconds, 3) for name, seconds in report.phases.items()},
    }
