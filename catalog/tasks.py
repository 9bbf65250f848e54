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

    def __init__(self, progress_id: int) -> None:
        self.progress_id = progress_id
        self.written_at = 0.0
        self.phase = ""
        self._connection: psycopg.Connection[Any] | None = None

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if now - self.written_at < PROGRESS_INTERVAL and not finished:
            return
        self.written_at = now
        self.write(phase=phase, done=done, total=total)

    def write(self, **values: Any) -> None:
        """Write ``values`` to the row; a new phase starts its clock again."""
        if "phase" in values and values["phase"] != self.phase:
            self.phase = values["phase"]
            self._write(phase_started=_NOW, **values)
        else:
            self._write(**values)

    def _write(self, **values: Any) -> None:
        if self._connection is None:
            params = connection.get_connection_params()
            self._connection = psycopg.connect(**params, autocommit=True)
        table = TaskProgress._meta.db_table
        columns = ", ".join(
            f"{name} = now()" if value is _NOW else f"{name} = %s" for name, value in values.items()
        )
        params = [_json(value) for value in values.values() if value is not _NOW]
        self._connection.execute(
            f"UPDATE {table} SET {columns}, updated = now() WHERE id = %s",
            [*params, self.progress_id],
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


# Marks a column set to the server's clock.
_NOW = object()


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
    backend: str | None = None,
) -> TaskProgress:
    """Queue the import of the uploaded file ``token`` (``catalog.uploads``) into
    ``model``; returns its progress row. The worker picks it up once this commits."""
    with transaction.atomic():
        progress = TaskProgress.objects.create(
            title=f"Import of {file_name} into {model._meta.verbose_name_plural}",
            started_by=user if getattr(user, "pk", None) else None,
        )
        queued = import_file.using(backend=backend) if backend else import_file
        result = queued.enqueue(
            progress_id=progress.pk,
            token=token,
            model_label=model._meta.label,
            delimiter=delimiter,
            replace=replace,
            file_name=file_name,
        )
        progress.task_id = result.id
        progress.save(update_fields=["task_id"])
    progress.refresh_from_db()
    return progress


@task()
def import_file(
    *,
    progress_id: int,
    token: str,
    model_label: str,
    delimiter: str,
    replace: bool,
    file_name: str,
) -> dict[str, Any]:
    """Import an uploaded file, all or nothing, as ``manage.py import_vectors`` does;
    the upload is removed afterwards. Returns the report's summary, which is also
    written to the progress row, with a log entry for whoever started it."""
    model = apps.get_model(model_label)
    writer = ProgressWriter(progress_id)
    try:
        writer.write(phase="validating", done=0, total=None)
        with open(upload_path(token), "rb") as stream:
            report = import_vectors(
                stream,
                model=model,
                dry_run=False,
                replace=replace,
                delimiter=delimiter,
                progress=writer,
            )
    finally:
        remove_upload(token)
        writer.close()
    summary = report_summary(report) | {
        "file_name": file_name,
        "model": str(model._meta.verbose_name_plural),
    }
    # The end, through Django's own connection: seen by the page once this commits.
    phase = "done" if report.written else "refused"
    TaskProgress.objects.filter(pk=progress_id).update(phase=phase, report=summary)
    if report.written:
        _log_import(progress_id, model, report, file_name)
    return summary


def _log_import(
    progress_id: int, model: type[models.Model], report: ImportReport, name: str
) -> None:
    """One admin log entry per import, in the name of whoever started it."""
    from django.contrib.admin.models import ADDITION, LogEntry
    from django.contrib.contenttypes.models import ContentType

    user_id = (
        TaskProgress.objects.filter(pk=progress_id).values_list("started_by", flat=True).first()
    )
    if user_id is None:
        return
    LogEntry.objects.create(
        user_id=user_id,
        content_type=ContentType.objects.get_for_model(model),
        object_repr=f"import of {name}"[:200],
        action_flag=ADDITION,
        change_message=(
            f"Imported {report.new} new and {report.updated} updated "
            f"{model._meta.verbose_name_plural} from {name}."
        ),
    )


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
