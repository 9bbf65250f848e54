"""Long work run by the task queue's worker (``manage.py db_worker``): imports, index
builds and exports, each with a ``TaskProgress`` row that its progress page reads.

The queue is Django's tasks API (django-tasks) on a table in PostgreSQL
(django-tasks-db): a task enqueued in a transaction is seen by the worker only when
that transaction commits. Each run is a ``pgvector_admin.tasks.runs.TaskRun``: progress on a
connection of its own, the cancel button obeyed, a killed worker noticed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pgvector_admin.indexes.builds import (
    CLEANING_UP,
    SWAPPING,
    build_index,
    clean_up_build,
    create_index,
    drop_index,
    index_from_spec,
)
from pgvector_admin.models import TaskProgress
from pgvector_admin.numbers import grouped
from pgvector_admin.tasks.framework import task
from pgvector_admin.tasks.permissions import refusal
from pgvector_admin.tasks.runs import CLEANUPS, TaskCancelled, TaskRun, queue_row, reap_lost_tasks
from pgvector_admin.transfer.rights import ImportRights
from pgvector_admin.transfer.services import ImportReport, export_chunks, import_vectors
from pgvector_admin.transfer.uploads import new_file, remove_upload, upload_path

# What a cancelled task left, by kind.
CANCELLED_REASONS = {
    "import": gettext_lazy("Cancelled: nothing was written."),
    "check": gettext_lazy("Cancelled: nothing was written, and the uploaded file was removed."),
    "index": gettext_lazy(
        "Cancelled: the unfinished index was dropped; the indexes already built serve on."
    ),
    "export": gettext_lazy("Cancelled: no file was kept."),
    "embed": gettext_lazy(
        "Cancelled: the rows embedded until then keep their new vectors; start it again "
        "to go on from where it stopped."
    ),
}


# What a change did to an index (pgvector_admin.indexes.builds), as its task's page says.
INDEX_OUTCOMES = {
    "present": gettext_lazy("present"),
    "built": gettext_lazy("built"),
    "rebuilt": gettext_lazy("rebuilt"),
    "created": gettext_lazy("created"),
    "dropped": gettext_lazy("dropped"),
}


def _queue(
    kind: str,
    *,
    title: str,
    user: Any,
    arguments: dict[str, Any],
    backend: str | None,
) -> TaskProgress:
    """Create the progress row of a task of ``kind``, then put the task on the queue.
    Not in one transaction: a backend that runs the task at once (the tests') runs it
    outside any, as the worker does (``CREATE INDEX CONCURRENTLY`` needs that)."""
    progress = TaskProgress.objects.create(
        title=title,
        started_by=user if getattr(user, "pk", None) else None,
        kind=kind,
        arguments=arguments,
        # The worker writes the task's report in the language of whoever started it.
        language=translation.get_language() or "",
    )
    work = KINDS[kind]
    queued = work.using(backend=backend) if backend else work
    result = queued.enqueue(progress_id=progress.pk, **arguments)
    TaskProgress.objects.filter(pk=progress.pk).update(task_id=result.id)
    progress.refresh_from_db()
    return progress


def start_again(progress: TaskProgress, *, user: Any, backend: str | None = None) -> TaskProgress:
    """Queue the same work as ``progress``'s task (one that failed, or was cancelled) as
    a new task, for ``user``. ``PermissionError`` when ``user`` may not run it now,
    ``ValueError`` when it cannot be (an import's file is gone)."""
    refused = refusal(user, kind=progress.kind, arguments=progress.arguments)
    if refused:
        raise PermissionError(refused)
    if progress.kind in {"import", "check"}:
        upload_path(progress.arguments["token"])  # FileNotFoundError says it is gone
    if backend is None:  # the queue the task went to the first time
        backend = _backend_of(progress)
    return _queue(
        progress.kind,
        title=progress.title,
        user=user,
        arguments=progress.arguments,
        backend=backend,
    )


def cancel(progress: TaskProgress) -> str:
    """Ask for ``progress``'s task to stop. A task still waiting is taken off the queue
    at once; a running one stops at its next safe point (an import writes nothing, a
    build leaves no index behind). Returns what happened, in words."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    TaskProgress.objects.filter(pk=progress.pk).update(cancel_requested=True)
    taken_off = DBTaskResult.objects.filter(id=progress.task_id, status="READY").update(
        status="FAILED",
        finished_at=timezone.now(),
        exception_class_path="pgvector_admin.tasks.runs.TaskCancelled",
        traceback="TaskCancelled: cancelled before it started",
    )
    if taken_off:
        _finish_cancelled(progress)
        return _("The task was cancelled before it started.")
    return _("Cancelling: the task stops at its next safe point and writes nothing.")


def _finish_cancelled(progress: TaskProgress) -> None:
    TaskProgress.objects.filter(pk=progress.pk).update(
        phase="cancelled",
        report={"reason": str(CANCELLED_REASONS.get(progress.kind, _("Cancelled.")))},
    )
    if progress.kind in {"import", "check"}:
        remove_upload(progress.arguments.get("token", ""))


def _perform(
    progress_id: int,
    work: Callable[[TaskRun], dict[str, Any]],
    *,
    final_phases: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run ``work`` as the task's run; a cancelled run ends as ``cancelled``."""
    reap_lost_tasks()  # tasks whose worker died, noticed by the next one to run
    progress = TaskProgress.objects.select_related("started_by").get(pk=progress_id)
    with translation.override(progress.language or settings.LANGUAGE_CODE):
        return _perform_in_language(progress, work, final_phases=final_phases)


def _perform_in_language(
    progress: TaskProgress,
    work: Callable[[TaskRun], dict[str, Any]],
    *,
    final_phases: tuple[str, ...],
) -> dict[str, Any]:
    progress_id = progress.pk
    # Asked again now: whoever started the task may have lost the permission since.
    refused = refusal(progress.started_by, kind=progress.kind, arguments=progress.arguments)
    run = TaskRun(progress_id, final_phases=final_phases)
    try:
        with run:
            if refused:
                report = {"reason": _("Not run: %(reason)s") % {"reason": refused}, "refused": True}
                run.finish(phase="failed", report=report)
                return report
            return work(run)
    except Exception:
        if not run.cancelled:
            raise
        _finish_cancelled(TaskProgress.objects.get(pk=progress_id))
        return {"cancelled": True}


# Imports ------------------------------------------------------------------------------


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
    """Queue the import of the uploaded file ``token`` (``pgvector_admin.transfer.uploads``) into
    ``model``; returns its progress row."""
    into = model._meta.verbose_name_plural
    return _queue(
        "import",
        title=(
            _("Import of %(file)s into %(things)s, replacing its rows")
            if replace
            else _("Import of %(file)s into %(things)s")
        )
        % {"file": file_name, "things": into},
        user=user,
        arguments=_file_arguments(token, model, file_name, delimiter, replace),
        backend=backend,
    )


def _file_arguments(
    token: str, model: type[models.Model], file_name: str, delimiter: str, replace: bool
) -> dict[str, Any]:
    """The arguments of an import or check task: the upload and how to read it."""
    return {
        "token": token,
        "model_label": model._meta.label,
        "delimiter": delimiter,
        "replace": replace,
        "file_name": file_name,
    }


def _read_upload(
    run: TaskRun, *, token: str, model: type[models.Model], dry_run: bool, **options: Any
) -> ImportReport:
    """``import_vectors`` over the uploaded file ``token``, reporting to ``run``."""
    run.phase("validating")
    with open(upload_path(token), "rb") as stream:
        return import_vectors(
            stream,
            model=model,
            dry_run=dry_run,
            progress=run.progress,
            rights=_rights_of_starter(run.progress_id, model),
            **options,
        )


def _rights_of_starter(progress_id: int, model: type[models.Model]) -> ImportRights | None:
    """What the user who started the task may write now (None: started by no user,
    as from the shell)."""
    user = TaskProgress.objects.select_related("started_by").get(pk=progress_id).started_by
    return None if user is None else ImportRights.of_user(user, model)


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
    """Import an uploaded file, all or nothing, as ``manage.py import_vectors`` does.
    It may be cancelled until its rows are committed (then only the index rebuild is
    left, which finishes). The upload is removed once the import has ended (kept when
    the task failed, so that it can be started again)."""
    model = apps.get_model(model_label)

    def work(run: TaskRun) -> dict[str, Any]:
        report = _read_upload(
            run, token=token, model=model, dry_run=False, replace=replace, delimiter=delimiter
        )
        remove_upload(token)
        summary = report_summary(report) | {
            "file_name": file_name,
            "model": str(model._meta.verbose_name_plural),
            "cancel_too_late": run.cancelled,
        }
        run.finish(phase="done" if report.written else "refused", report=summary)
        if report.written:
            what = _("import of %(file)s") % {"file": file_name}
            _log(progress_id, model, what, import_message(report, file_name))
        return summary

    return _perform(progress_id, work, final_phases=("index", "written"))


def start_check(
    *,
    token: str,
    model: type[models.Model],
    file_name: str,
    delimiter: str = ",",
    replace: bool = False,
    user: Any = None,
    backend: str | None = None,
) -> TaskProgress:
    """Queue the preview of a big upload: every line checked, nothing written. Its page
    then offers to import the file (``start_import``)."""
    return _queue(
        "check",
        title=(
            _("Check of %(file)s for %(things)s, replacing their rows")
            if replace
            else _("Check of %(file)s for %(things)s")
        )
        % {"file": file_name, "things": model._meta.verbose_name_plural},
        user=user,
        arguments=_file_arguments(token, model, file_name, delimiter, replace),
        backend=backend,
    )


@task()
def check_file(
    *,
    progress_id: int,
    token: str,
    model_label: str,
    delimiter: str,
    replace: bool,
    file_name: str,
) -> dict[str, Any]:
    """Check an uploaded file as the import's preview does, writing nothing. A good file
    stays on disk for its import; a bad one is removed with the report of every bad
    line."""
    model = apps.get_model(model_label)

    def work(run: TaskRun) -> dict[str, Any]:
        report = _read_upload(
            run, token=token, model=model, dry_run=True, replace=replace, delimiter=delimiter
        )
        if not report.ok:
            remove_upload(token)
        summary = report_summary(report) | {
            "file_name": file_name,
            "model": str(model._meta.verbose_name_plural),
            "ok": report.ok,
        }
        run.finish(phase="checked" if report.ok else "refused", report=summary)
        return summary

    return _perform(progress_id, work)


def import_checked(progress: TaskProgress, *, user: Any) -> TaskProgress:
    """Queue the import of the file a finished check found good (once: a second call
    returns the same import)."""
    if progress.kind != "check" or progress.phase != "checked":
        raise ValueError(_("only a file checked good can be imported"))
    with transaction.atomic():
        locked = TaskProgress.objects.select_for_update().get(pk=progress.pk)
        already = locked.report.get("import_progress_id")
        if already:
            return TaskProgress.objects.get(pk=already)
        arguments = locked.arguments
        imported = start_import(
            token=arguments["token"],
            model=apps.get_model(arguments["model_label"]),
            file_name=arguments["file_name"],
            delimiter=arguments["delimiter"],
            replace=arguments["replace"],
            user=user,
            backend=_backend_of(locked),
        )
        locked.report = {**locked.report, "import_progress_id": imported.pk}
        locked.save(update_fields=["report"])
    return imported


def _backend_of(progress: TaskProgress) -> str | None:
    """The queue (backend) ``progress``'s task went to."""
    row = queue_row(progress.task_id)
    return row.backend_name if row is not None else None


def import_message(report: ImportReport, name: str) -> str:
    """An import's outcome in one sentence, for the admin's messages."""
    plural = report.schema.model._meta.verbose_name_plural if report.schema else _("rows")
    return _("Imported %(new)s new and %(updated)s updated %(things)s from %(file)s.") % {
        "new": grouped(report.new),
        "updated": grouped(report.updated),
        "things": plural,
        "file": name,
    }


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


# Index builds -------------------------------------------------------------------------


def start_index_build(
    *,
    model: type[models.Model],
    names: list[str],
    rebuild: bool = False,
    user: Any = None,
    backend: str | None = None,
) -> TaskProgress:
    """Queue the build (or ``rebuild``) of vector indexes ``names`` of ``model``'s
    table; returns its progress row."""
    action = "rebuild" if rebuild else "build"
    return start_index_change(model=model, action=action, names=names, user=user, backend=backend)


def start_index_change(
    *,
    model: type[models.Model],
    action: str,
    names: list[str] | None = None,
    spec: dict[str, Any] | None = None,
    user: Any = None,
    backend: str | None = None,
) -> TaskProgress:
    """Queue a change to ``model``'s vector indexes: ``build`` or ``rebuild`` the
    indexes ``names``, ``create`` the one ``spec`` describes
    (``pgvector_admin.indexes.builds.index_from_spec``), or ``drop`` ``names``."""
    names = list(names or ([spec["name"]] if spec else []))
    titles = {
        "build": _("Build of %(indexes)s on %(things)s"),
        "rebuild": _("Rebuild of %(indexes)s on %(things)s"),
        "create": _("Creation of %(indexes)s on %(things)s"),
        "drop": _("Drop of %(indexes)s on %(things)s"),
    }
    return _queue(
        "index",
        title=titles[action]
        % {"indexes": ", ".join(names), "things": model._meta.verbose_name_plural},
        user=user,
        arguments={
            "model_label": model._meta.label,
            "action": action,
            "names": names,
            "spec": spec or {},
        },
        backend=backend,
    )


@task()
def change_indexes(
    *, progress_id: int, model_label: str, action: str, names: list[str], spec: dict[str, Any]
) -> dict[str, Any]:
    """Build, rebuild, create or drop vector indexes, each ``CONCURRENTLY``, one after
    the other (``pgvector_admin.indexes.builds``). Cancelled or failed, a build leaves no
    invalid index; the indexes already done stay."""
    model = apps.get_model(model_label)

    def work(run: TaskRun) -> dict[str, Any]:
        done: dict[str, str] = {}
        for name in names:
            run.phase(f"index: {name}")
            if action == "drop":
                done[name] = drop_index(name)
            elif action == "create":
                index = index_from_spec(model, spec)
                done[name] = create_index(model, index, progress=run.progress)
            else:
                rebuild = action == "rebuild"
                done[name] = build_index(model, name, rebuild=rebuild, progress=run.progress)
        done = {name: str(INDEX_OUTCOMES.get(what, what)) for name, what in done.items()}
        summary = {"indexes": done, "model": str(model._meta.verbose_name_plural)}
        run.finish(phase="done", report=summary)
        changed = ", ".join(f"{name} {what}" for name, what in done.items())
        _log(
            progress_id,
            model,
            _("vector indexes"),
            _("Vector indexes: %(changed)s.") % {"changed": changed},
        )
        return summary

    return _perform(progress_id, work, final_phases=(SWAPPING, CLEANING_UP))


def _clean_up_lost_build(progress: TaskProgress) -> None:
    """After a build whose worker died: drop what it left (``pgvector_admin.indexes.builds``)."""
    if progress.arguments.get("action") == "drop":
        return
    for name in progress.arguments.get("names", []):
        clean_up_build(name)


CLEANUPS["index"] = _clean_up_lost_build


# Recall curves ------------------------------------------------------------------------


def start_curve(
    *,
    model: type[models.Model],
    index_name: str,
    k: int = 10,
    queries: int = 100,
    target: float = 0.99,
    vectors: list[str] | None = None,
    user: Any = None,
    backend: str | None = None,
) -> TaskProgress:
    """Queue the measure of ``index_name``'s recall/latency curve
    (``pgvector_admin.indexes.tuning.measure_curve``) for ``queries`` sample rows of the
    table, or for the query ``vectors`` given as text; returns its progress row."""
    return _queue(
        "curve",
        title=_("Recall curve of %(index)s on %(things)s")
        % {"index": index_name, "things": model._meta.verbose_name_plural},
        user=user,
        arguments={
            "model_label": model._meta.label,
            "index_name": index_name,
            "k": k,
            "queries": queries,
            "target": target,
            "vectors": list(vectors or []),
        },
        backend=backend,
    )


@task()
def measure_recall(
    *,
    progress_id: int,
    model_label: str,
    index_name: str,
    k: int,
    queries: int,
    target: float,
    vectors: list[str] | None = None,
) -> dict[str, Any]:
    """Measure an index's recall/latency curve for sample rows of its table; the report
    is the curve (``pgvector_admin.indexes.tuning.Curve.as_dict``)."""
    from pgvector_admin.indexes.tuning import measure_curve, sample_queries
    from pgvector_admin.search.index_choice import index_and_column, metrics_served

    model = apps.get_model(model_label)
    index, column = index_and_column(model, index_name)
    assert column is not None  # the index page measures indexes of a vector field only
    metric = metrics_served(index, column)[0]

    def work(run: TaskRun) -> dict[str, Any]:
        run.phase("sampling the queries")
        if vectors:
            chosen = [column.type.query(column.parse(text)) for text in vectors]
        else:
            chosen = sample_queries(column, queries)
        curve = measure_curve(
            column=column,
            metric=metric,
            index=index,
            k=k,
            queries=chosen,
            target=target,
            progress=run.progress,
        )
        summary = curve.as_dict() | {
            "model": str(model._meta.verbose_name_plural),
            "source": _("your vectors") if vectors else _("sample rows of the table"),
        }
        run.finish(phase="done", report=summary)
        return summary

    return _perform(progress_id, work)


# Exports ------------------------------------------------------------------------------


def start_export(
    *,
    queryset: QuerySet[Any],
    columns: list[str],
    file_name: str,
    user: Any = None,
    backend: str | None = None,
) -> TaskProgress:
    """Queue the CSV export of ``queryset``'s rows (the query itself goes to the worker,
    as SQL: the rows are those that match when it runs); returns its progress row."""
    model = queryset.model
    sql, params = queryset.values("pk").query.sql_with_params()
    return _queue(
        "export",
        title=_("Export of %(things)s to %(file)s")
        % {"things": model._meta.verbose_name_plural, "file": file_name},
        user=user,
        arguments={
            "model_label": model._meta.label,
            "sql": sql,
            # Dates and decimals as text: PostgreSQL reads them back as the column's type.
            "params": json.loads(json.dumps(list(params), cls=DjangoJSONEncoder)),
            "columns": columns,
            "file_name": file_name,
        },
        backend=backend,
    )


@task()
def export_rows(
    *,
    progress_id: int,
    model_label: str,
    sql: str,
    params: list[Any],
    columns: list[str],
    file_name: str,
) -> dict[str, Any]:
    """Write the export to a file (``pgvector_admin.transfer.uploads``), streamed by
    PostgreSQL's COPY; the progress page then offers it as a download."""
    model = apps.get_model(model_label)
    rows = model._default_manager.filter(pk__in=RawSQL(sql, params))

    def work(run: TaskRun) -> dict[str, Any]:
        total = rows.count()
        run.phase("exporting", total=total)
        token, path = new_file()
        written = lines = 0
        try:
            with open(path, "wb") as out:
                for chunk in export_chunks(queryset=rows, columns=columns):
                    out.write(chunk)
                    written += len(chunk)
                    lines += chunk.count(b"\n")
                    run.progress("exporting", max(lines - 1, 0), total)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        summary = {"rows": total, "bytes": written, "file_name": file_name}
        run.finish(phase="done", report=summary, download=token)
        return summary

    return _perform(progress_id, work)


# Embeddings ---------------------------------------------------------------------------


def start_embedding(
    *,
    model: type[models.Model],
    field: str,
    every: bool = False,
    user: Any = None,
    backend: str | None = None,
) -> TaskProgress:
    """Queue the embedding of ``model``'s rows without a vector in ``field`` (or of
    ``every`` row) from their source text (``pgvector_admin.embedders.backfill``);
    returns its progress row."""
    title = (
        _("Embedding of %(field)s for every one of the %(things)s")
        if every
        else _("Embedding of %(field)s for the %(things)s without one")
    )
    return _queue(
        "embed",
        title=title % {"field": field, "things": model._meta.verbose_name_plural},
        user=user,
        arguments={"model_label": model._meta.label, "field": field, "every": every},
        backend=backend,
    )


@task()
def embed_column(
    *, progress_id: int, model_label: str, field: str, every: bool, after: Any = None
) -> dict[str, Any]:
    """Embed the rows, in batches each committed on its own. After each batch the
    checkpoint (the last primary key done) is written into the task's arguments: started
    again after a cancel or a killed worker, it goes on from there."""
    from pgvector_admin.embedders.backfill import embed_rows
    from pgvector_admin.embedders.fields import text_embedding

    model = apps.get_model(model_label)
    embedding = text_embedding(model, field)

    def work(run: TaskRun) -> dict[str, Any]:
        def checkpoint(done: int, total: int, last_pk: Any) -> None:
            arguments = {"model_label": model_label, "field": field, "every": every}
            TaskProgress.objects.filter(pk=progress_id).update(
                arguments=arguments | {"after": _json_key(last_pk)}
            )
            run.progress("embedding", done, total)

        run.phase("embedding")
        report = embed_rows(
            model=model,
            field=field,
            embedding=embedding,
            every=every,
            after=after,
            progress=checkpoint,
        )
        summary = report.as_dict() | {
            "model": str(model._meta.verbose_name_plural),
            "field": field,
            "embedder": embedding.embedder.name,
            "resumed_after": after,
        }
        run.finish(phase="done", report=summary)
        _log(
            progress_id,
            model,
            _("%(field)s embeddings") % {"field": field},
            ngettext(
                "Embedded %(rows)s row's %(field)s with %(embedder)s.",
                "Embedded %(rows)s rows' %(field)s with %(embedder)s.",
                report.embedded,
            )
            % {
                "rows": grouped(report.embedded),
                "field": field,
                "embedder": embedding.embedder.name,
            },
        )
        return summary

    return _perform(progress_id, work)


def _json_key(pk: Any) -> Any:
    """A primary key as JSON keeps it (ints as they are, anything else as text)."""
    return pk if isinstance(pk, int | str) or pk is None else str(pk)


# The queue's tasks, by the kind a progress row records (to start one again).
KINDS = {
    "import": import_file,
    "check": check_file,
    "index": change_indexes,
    "export": export_rows,
    "curve": measure_recall,
    "embed": embed_column,
}


def _log(progress_id: int, model: type[models.Model], what: str, message: str) -> None:
    """One admin log entry per task that wrote, in the name of whoever started it."""
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    user_id = (
        TaskProgress.objects.filter(pk=progress_id).values_list("started_by", flat=True).first()
    )
    if user_id is None:
        return
    LogEntry.objects.create(
        user_id=user_id,
        content_type=ContentType.objects.get_for_model(model),
        object_repr=what[:200],
        action_flag=CHANGE,
        change_message=message,
    )


__all__ = [
    "TaskCancelled",
    "cancel",
    "change_indexes",
    "check_file",
    "embed_column",
    "export_rows",
    "import_checked",
    "import_file",
    "measure_recall",
    "start_again",
    "start_check",
    "start_curve",
    "start_embedding",
    "start_export",
    "start_import",
    "start_index_build",
    "start_index_change",
]
