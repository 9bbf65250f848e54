"""Background tasks in the admin: the recent ones, who started each, and a progress
page per task that updates in place (a few lines of JS poll its JSON)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseNotFound,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pgvector_admin.admin.base import task_page_url
from pgvector_admin.models import TaskProgress
from pgvector_admin.numbers import grouped
from pgvector_admin.replicas import remember_write
from pgvector_admin.tasks.jobs import cancel, import_checked, start_again
from pgvector_admin.tasks.permissions import refusal
from pgvector_admin.tasks.runs import FINISHED_PHASES, queue_row, reap_lost_tasks
from pgvector_admin.tasks.workers import QUIET_SECONDS, workers_connected
from pgvector_admin.transfer.uploads import upload_path


def task_state(progress: TaskProgress) -> dict[str, Any]:
    """What the progress page shows, as JSON: phase, rows done of total, rate, time
    left, and whether the task has finished (a failure's reason too)."""
    queued = queue_row(progress.task_id)
    phase = progress.phase
    reason = (progress.report or {}).get("reason", "") if phase in FINISHED_PHASES else ""
    if queued is not None and queued.status == "FAILED" and phase not in FINISHED_PHASES:
        phase = "failed"
        # The exception's own line: the last of its traceback.
        lines = (queued.traceback or "").strip().splitlines()
        reason = lines[-1] if lines else queued.exception_class_path
    started = progress.phase_started or (
        queued.started_at if queued is not None and queued.started_at else progress.created
    )
    elapsed = max((timezone.now() - started).total_seconds(), 1e-6)
    rate = progress.done / elapsed if progress.done else None
    left = (
        (progress.total - progress.done) / rate
        if rate and progress.total and phase not in FINISHED_PHASES
        else None
    )
    return {
        "phase": phase,
        "phase_label": phase_label(phase),
        "done": progress.done,
        "total": progress.total,
        "rate": round(rate) if rate else None,
        "seconds_left": round(left, 1) if left is not None else None,
        "finished": phase in FINISHED_PHASES,
        "status": queued.status if queued is not None else "",
        "reason": reason,
        "cancelling": progress.cancel_requested and phase not in FINISHED_PHASES,
        "no_worker": _no_worker_for(progress, queued, elapsed),
    }


def _no_worker_for(progress: TaskProgress, queued: Any, waited: float) -> bool:
    """Whether a task still waiting for a worker has waited a while with none running."""
    waiting = progress.phase == "waiting" and (queued is None or queued.status == "READY")
    return bool(waiting and waited > QUIET_SECONDS and not workers_connected())


# The phases the work reports, in words (an index build's come from PostgreSQL's
# pg_stat_progress_create_index and are shown as it words them).
PHASE_LABELS = {
    "waiting": gettext_lazy("waiting for a worker"),
    "validating": gettext_lazy("opening the file"),
    "validate": gettext_lazy("checking every line"),
    "load": gettext_lazy("loading the rows"),
    "written": gettext_lazy("rows written"),
    "exporting": gettext_lazy("writing the file"),
    "embedding": gettext_lazy("embedding the rows"),
    "sampling the queries": gettext_lazy("sampling the queries"),
    "exact answers": gettext_lazy("computing the exact answers"),
    "done": gettext_lazy("done"),
    "failed": gettext_lazy("failed"),
    "cancelled": gettext_lazy("cancelled"),
    "refused": gettext_lazy("refused"),
    "checked": gettext_lazy("checked"),
}

# PostgreSQL's words for a build's steps (pg_stat_progress_create_index, and pgvector's
# own for HNSW and IVFFlat), as the progress page says them.
INDEX_STEPS = {
    "initializing": gettext_lazy("initializing"),
    "waiting for writers before build": gettext_lazy("waiting for writers before build"),
    "building index": gettext_lazy("building the index"),
    "building": gettext_lazy("building the index"),
    "waiting for writers before validation": gettext_lazy("waiting for writers before validation"),
    "index validation: scanning index": gettext_lazy("index validation: scanning index"),
    "index validation: sorting tuples": gettext_lazy("index validation: sorting tuples"),
    "index validation: scanning table": gettext_lazy("index validation: scanning table"),
    "waiting for old snapshots": gettext_lazy("waiting for old snapshots"),
    "waiting for readers before marking dead": gettext_lazy(
        "waiting for readers before marking dead"
    ),
    "waiting for readers before dropping": gettext_lazy("waiting for readers before dropping"),
    "loading tuples": gettext_lazy("loading tuples"),
    "performing k-means": gettext_lazy("performing k-means"),
    "assigning tuples": gettext_lazy("assigning tuples"),
    "swapping in the new index": gettext_lazy("swapping in the new index"),
    "cleaning up": gettext_lazy("cleaning up"),
}


def phase_label(phase: str) -> str:
    """A task's phase as its page shows it, in the active language."""
    if phase.startswith("index: "):
        step = phase.removeprefix("index: ")
        in_blocks = step.endswith(" (blocks)")
        step = step.removesuffix(" (blocks)").removesuffix(" (tuples)")
        if " " not in step and step not in INDEX_STEPS:
            return _("index %(name)s") % {"name": step}  # a build task's index, by name
        if step.startswith("building index: "):
            detail = step.removeprefix("building index: ")
            detail = str(INDEX_STEPS.get(detail, detail))
            if in_blocks:
                return _("building the index: %(step)s, in blocks") % {"step": detail}
            return _("building the index: %(step)s") % {"step": detail}
        shown = str(INDEX_STEPS.get(step, step))
        return _("%(step)s, in blocks") % {"step": shown} if in_blocks else shown
    return str(PHASE_LABELS.get(phase, phase))


class PhaseFilter(admin.SimpleListFilter):
    """The task list's filter by phase, each phase in words (as the list shows it)."""

    title = gettext_lazy("phase")
    parameter_name = "phase"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        phases = TaskProgress.objects.order_by("phase").values_list("phase", flat=True)
        return [(phase, phase_label(phase)) for phase in phases.distinct()]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(phase=self.value()) if self.value() else queryset


@admin.register(TaskProgress)
class TaskProgressAdmin(admin.ModelAdmin):
    """Recent background tasks; a task's page shows its progress."""

    list_display = ["title", "phase_shown", "rows", "started_by", "created"]
    list_filter = [PhaseFilter]
    change_form_template = "pgvector_admin/task_progress.html"

    @admin.display(description=gettext_lazy("phase"), ordering="phase")
    def phase_shown(self, progress: TaskProgress) -> str:
        return phase_label(progress.phase)

    @admin.display(description=gettext_lazy("rows"))
    def rows(self, progress: TaskProgress) -> str:
        # A finished import or export: its rows; else what the current phase has done.
        if progress.phase in FINISHED_PHASES and "rows" in (progress.report or {}):
            return grouped(progress.report["rows"])
        if progress.total:
            return _("%(done)s of %(total)s") % {
                "done": grouped(progress.done),
                "total": grouped(progress.total),
            }
        return grouped(progress.done)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Whoever started a task may follow it, without a permission on task records.
        if obj is not None and obj.started_by_id == request.user.pk:
            return True
        if obj is None and request.user.is_staff:
            return True
        return super().has_view_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[TaskProgress]:
        queryset = super().get_queryset(request).select_related("started_by")
        if super().has_view_permission(request):
            return queryset
        return queryset.filter(started_by=request.user)

    def may_act_on(self, request: HttpRequest, progress: TaskProgress) -> bool:
        """Cancel and start again: whoever started the task, or a superuser."""
        return request.user.is_superuser or progress.started_by_id == request.user.pk

    def get_urls(self) -> list[URLPattern]:
        def view(function: Any) -> Any:
            return self.admin_site.admin_view(function)

        return [
            path(
                "<int:object_id>/state/",
                view(self.state_view),
                name="pgvector_admin_taskprogress_state",
            ),
            path(
                "<int:object_id>/cancel/",
                view(self.cancel_view),
                name="pgvector_admin_taskprogress_cancel",
            ),
            path(
                "<int:object_id>/again/",
                view(self.again_view),
                name="pgvector_admin_taskprogress_again",
            ),
            path(
                "<int:object_id>/import/",
                view(self.import_view),
                name="pgvector_admin_taskprogress_import",
            ),
            path(
                "<int:object_id>/download/",
                view(self.download_view),
                name="pgvector_admin_taskprogress_download",
            ),
            *super().get_urls(),
        ]

    def _visible(self, request: HttpRequest, object_id: int) -> TaskProgress | None:
        progress = self.get_object(request, str(object_id))
        if progress is None or not self.has_view_permission(request, progress):
            return None
        return progress

    def state_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        # Who may see the task first: nobody else's request does any work on it.
        progress = self._visible(request, object_id)
        if progress is None:
            return JsonResponse({"error": _("no such task")}, status=404)
        reap_lost_tasks()
        progress.refresh_from_db()
        state = task_state(progress)
        if state["finished"]:
            # The task wrote on the primary: the user's next pages read past it.
            remember_write(request)
        return JsonResponse(state)

    def cancel_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        progress = self._visible(request, object_id)
        if progress is None or request.method != "POST" or not self.may_act_on(request, progress):
            return HttpResponseNotAllowed(["POST"]) if progress else _no_such_task()
        if progress.phase in FINISHED_PHASES:
            messages.info(request, _("The task had already finished."))
        else:
            messages.info(request, cancel(progress))
        return HttpResponseRedirect(task_page_url(progress))

    def again_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        progress = self._visible(request, object_id)
        if progress is None or request.method != "POST" or not self.may_act_on(request, progress):
            return HttpResponseNotAllowed(["POST"]) if progress else _no_such_task()
        if task_state(progress)["phase"] not in {"failed", "cancelled"}:
            messages.error(
                request, _("Only a task that failed or was cancelled can be started again.")
            )
            return HttpResponseRedirect(task_page_url(progress))
        try:
            again = start_again(progress, user=request.user)
        except (PermissionError, ValueError, FileNotFoundError) as error:
            messages.error(
                request, _("The task cannot be started again: %(reason)s") % {"reason": error}
            )
            return HttpResponseRedirect(task_page_url(progress))
        return HttpResponseRedirect(task_page_url(again))

    def import_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The confirm step of a big file's preview: queue its import."""
        progress = self._visible(request, object_id)
        if progress is None or request.method != "POST" or not self.may_act_on(request, progress):
            return HttpResponseNotAllowed(["POST"]) if progress else _no_such_task()
        try:
            imported = import_checked(progress, user=request.user)
        except (ValueError, LookupError) as error:
            messages.error(request, _("Nothing was imported: %(reason)s.") % {"reason": error})
            return HttpResponseRedirect(task_page_url(progress))
        return HttpResponseRedirect(task_page_url(imported))

    def download_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        progress = self._visible(request, object_id)
        if progress is None or not progress.download:
            return _no_such_task()
        try:
            path = upload_path(progress.download)
        except (ValueError, FileNotFoundError):
            return _no_such_task(_("The export's file is gone (exports are kept a day)."))
        name = (progress.report or {}).get("file_name") or "export.csv"
        return FileResponse(open(path, "rb"), as_attachment=True, filename=name)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        progress = self.get_object(request, object_id)
        if progress is None or not self.has_view_permission(request, progress):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        reap_lost_tasks()
        progress.refresh_from_db()
        state = task_state(progress)
        if state["finished"]:
            remember_write(request)  # as the state view does
        if progress.kind == "curve" and state["phase"] == "done":
            from pgvector_admin.admin.indexes import MANAGE_PERMISSION, curve_context

            user = request.user
            may_save = user.is_superuser or user.has_perm(MANAGE_PERMISSION)
            extra = curve_context(progress, may_save=may_save)
        else:
            extra = {}
        context = {
            **extra,
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": progress.title,
            "progress": progress,
            "state": state,
            "report": progress.report,
            "may_act": self.may_act_on(request, progress),
            "may_start_again": state["phase"] in {"failed", "cancelled"}
            and self.may_act_on(request, progress)
            and refusal(request.user, kind=progress.kind, arguments=progress.arguments) is None
            and _still_startable(progress),
            "original": progress,
        }
        return TemplateResponse(request, self.change_form_template, context)


def _no_such_task(text: str | None = None) -> HttpResponse:
    return HttpResponseNotFound(
        text or _("No such task."), content_type="text/plain; charset=utf-8"
    )


def _still_startable(progress: TaskProgress) -> bool:
    """An import can start again while its uploaded file is kept."""
    if progress.kind not in {"import", "check"}:
        return True
    try:
        upload_path(progress.arguments.get("token", ""))
    except (ValueError, FileNotFoundError):
        return False
    return True
