"""The vector admin's index page (``admin:<app>_<model>_indexes``): every vector index
on the model's table with its parameters, size and state, the table's upkeep, the
memory a build needs, the metrics no index serves and where the database differs from
``Meta.indexes`` (``pgvector_admin.indexes.report``); and, for whoever may manage indexes,
create, build, rebuild and drop — each a background task running ``CONCURRENTLY``
(``pgvector_admin.tasks.jobs.start_index_change``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pgvector_admin.admin.base import VectorAdminBase, task_page_url
from pgvector_admin.features import TASKS_EXTRA, background_tasks_available
from pgvector_admin.indexes.builds import index_from_spec, index_validity
from pgvector_admin.indexes.curve_svg import curve_svg
from pgvector_admin.indexes.health import HealthWarning, health_warnings
from pgvector_admin.indexes.report import declaration, index_report
from pgvector_admin.indexes.tuning import DEFAULT_QUERIES, DEFAULT_TARGET, Curve, save_recommended
from pgvector_admin.models import SearchDefault, TaskProgress
from pgvector_admin.numbers import grouped
from pgvector_admin.search.scan_settings import setting_source
from pgvector_admin.search.table_state import table_cache
from pgvector_admin.tasks.jobs import start_curve, start_index_change
from pgvector_admin.tasks.permissions import MANAGE_PERMISSION
from pgvector_admin.vectors.fields import vector_columns


class IndexCreateForm(forms.Form):
    """A new vector index: field, metric, method and its parameters."""

    field = forms.ChoiceField(label=gettext_lazy("Field"))
    metric = forms.ChoiceField(label=gettext_lazy("Metric"))
    method = forms.ChoiceField(
        label=gettext_lazy("Method"), choices=[("hnsw", "HNSW"), ("ivfflat", "IVFFlat")]
    )
    m = forms.IntegerField(
        label="m",
        min_value=2,
        max_value=100,
        initial=16,
        help_text=gettext_lazy("HNSW: links a row"),
    )
    ef_construction = forms.IntegerField(
        label="ef_construction",
        min_value=4,
        max_value=1000,
        initial=64,
        help_text=gettext_lazy("HNSW: candidates while building"),
    )
    lists = forms.IntegerField(
        label="lists",
        min_value=1,
        max_value=32768,
        initial=100,
        help_text=gettext_lazy("IVFFlat: clusters"),
    )
    name = forms.SlugField(
        label=gettext_lazy("Name"),
        max_length=63,
        required=False,
        help_text=gettext_lazy("default: table_field_method_metric"),
    )

    def __init__(self, *args: Any, model: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model = model
        columns = vector_columns(model)
        self.fields["field"].choices = [(c.name, c.name) for c in columns]
        metrics = {metric.name: metric.label for c in columns for metric in c.metrics}
        self.fields["metric"].choices = list(metrics.items())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        if data["method"] == "hnsw" and data["ef_construction"] < 2 * data["m"]:
            raise forms.ValidationError(_("ef_construction must be at least twice m."))
        table = self.model._meta.db_table
        name = data.get("name") or f"{table}_{data['field']}_{data['method']}_{data['metric']}"
        data["name"] = name[:63]
        if index_validity(data["name"]) is not None:
            raise forms.ValidationError(
                _("An index named %(name)s already exists.") % {"name": data["name"]}
            )
        try:
            index_from_spec(self.model, self.spec())
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error
        return data

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        keys = ["name", "field", "metric", "method"]
        keys += ["m", "ef_construction"] if data["method"] == "hnsw" else ["lists"]
        return {key: data[key] for key in keys}


# Each pasted vector is a query run at every setting of the ladder: as many as the
# sampled queries may be.
MAX_PASTED_VECTORS = 1000


class CurveForm(forms.Form):
    """What to measure an index's recall/latency curve with."""

    name = forms.CharField(widget=forms.HiddenInput())
    queries = forms.IntegerField(min_value=10, max_value=1000, initial=DEFAULT_QUERIES)
    k = forms.IntegerField(min_value=1, max_value=1000, initial=10)
    target = forms.FloatField(min_value=0.5, max_value=1.0, initial=DEFAULT_TARGET)
    vectors = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=format_lazy(
            gettext_lazy(
                "Your own queries, one vector a line, at most {most} (empty: sample rows of "
                "the table)."
            ),
            most=MAX_PASTED_VECTORS,
        ),
    )

    def clean_vectors(self) -> str:
        text = self.cleaned_data["vectors"]
        lines = sum(1 for line in text.splitlines() if line.strip())
        if lines > MAX_PASTED_VECTORS:
            raise forms.ValidationError(
                _("At most %(most)s query vectors can be measured at once; %(pasted)s were pasted.")
                % {"most": grouped(MAX_PASTED_VECTORS), "pasted": grouped(lines)}
            )
        return text


def latest_curve(model: Any, index_name: str) -> TaskProgress | None:
    """The last finished recall curve measured for ``index_name``."""
    return (
        TaskProgress.objects.filter(
            kind="curve",
            phase="done",
            arguments__model_label=model._meta.label,
            arguments__index_name=index_name,
        )
        .order_by("-created")
        .first()
    )


def curve_context(progress: TaskProgress, *, may_save: bool) -> dict[str, Any]:
    """What ``_curve.html`` shows of a finished curve task."""
    model = apps.get_model(progress.arguments["model_label"])
    opts = model._meta
    indexes_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_indexes")
    curve = Curve.from_dict(
        {k: v for k, v in progress.report.items() if k not in {"model", "source"}}
    )
    saved = SearchDefault.objects.filter(index_name=curve.index).first()
    recommended = curve.recommended
    return {
        "in_use": saved is not None
        and recommended is not None
        and saved.value == recommended.setting,
        "curve": curve,
        "curve_task": progress,
        "curve_source": progress.report.get("source", "sample rows of the table"),
        "curve_picture": curve_svg(curve),
        "curve_csv_url": f"{indexes_url}?format=csv&curve={progress.pk}",
        "indexes_url": indexes_url,
        "may_save": may_save,
    }


class VectorIndexAdminMixin(VectorAdminBase):
    """Part of ``VectorAdminMixin``: the index page. Whoever may view the model sees
    it; changing indexes needs ``pgvector_admin.manage_vector_indexes`` (or a superuser)."""

    index_template = "pgvector_admin/indexes.html"

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        view = self.admin_site.admin_view(self.indexes_view)
        return [
            path("indexes/", view, name=f"{opts.app_label}_{opts.model_name}_indexes"),
            *super().get_urls(),
        ]

    def vector_health(self, report: Any = None) -> list[HealthWarning]:
        """The warnings about this model's vector indexes, for its default search."""
        column = self.get_vector_columns()[0]
        wanted = getattr(self, "vector_metric", None)
        metric = next((m for m in column.metrics if m.name == wanted), column.metrics[0])
        model = self.model
        if report is not None:
            return health_warnings(model, column=column, metric=metric, report=report)
        # The changelist's: kept while the table's indexes and statistics are unchanged
        # (about ten catalogue statements and a plan, on every view of the list).
        return table_cache.get(
            model._meta.db_table,
            ("health", column.name, metric.name, translation.get_language()),
            lambda: health_warnings(model, column=column, metric=metric),
            statistics=True,
        )

    def may_build_indexes(self, request: HttpRequest) -> bool:
        """Whether ``request.user`` may create, rebuild and drop vector indexes."""
        user = request.user
        return bool(user.is_active and (user.is_superuser or user.has_perm(MANAGE_PERMISSION)))

    def indexes_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        model = self.model
        if request.GET.get("format") == "csv":
            return self._curve_csv(request, model)
        create_form = IndexCreateForm(model=model)
        tasks_available = background_tasks_available()
        if request.method == "POST":
            if not self.may_build_indexes(request):
                raise PermissionDenied
            if not tasks_available:
                messages.error(request, _("Nothing done: %(reason)s") % {"reason": tasks_missing()})
                return HttpResponseRedirect(request.path)
            response, create_form = self._change(request, model)
            if response is not None:
                return response
        report = index_report(model)
        opts = model._meta
        may_manage = self.may_build_indexes(request)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Vector indexes of %(things)s") % {"things": opts.verbose_name_plural},
            "opts": opts,
            "report": report,
            "table_rows": (
                _("about %(rows)s") % {"rows": grouped(report.table.rows)}
                if report.table.rows_estimated
                else grouped(report.table.rows)
            ),
            "rows": [
                {
                    "facts": facts,
                    "build_memory": report.build_memory(facts),
                    "declaration": "" if facts.declared else declaration(facts),
                    "setting_source": setting_source(facts.index, 1),
                    "curve": self._curve_of(model, facts.name, request),
                    "curve_form": CurveForm(initial={"name": facts.name}, auto_id=False),
                }
                for facts in report.indexes
            ],
            "may_manage": may_manage and tasks_available,
            # Said to those who could change indexes if background tasks were installed.
            "tasks_missing": tasks_missing() if may_manage and not tasks_available else "",
            "create_form": create_form,
            "health": self.vector_health(report),
            "unserved": _searches(report.unserved),
        }
        status = 400 if create_form.errors else 200
        return TemplateResponse(request, self.index_template, context, status=status)

    def _change(self, request: HttpRequest, model: Any) -> tuple[HttpResponse | None, Any]:
        """Queue what the posted button asks; the page again (with the form's errors)
        when the request cannot be done."""
        action = request.POST.get("action", "")
        create_form = IndexCreateForm(model=model)
        if action == "create":
            create_form = IndexCreateForm(request.POST, model=model)
            if not create_form.is_valid():
                return None, create_form
            progress = start_index_change(
                model=model, action="create", spec=create_form.spec(), user=request.user
            )
            return self._task_page(progress), create_form
        if action == "save_default":
            return self._save_default(request, model), create_form
        report = index_report(model, count_rows=False)
        known = {facts.name for facts in report.indexes}
        if action == "measure":
            form = CurveForm(request.POST)
            if not form.is_valid() or form.cleaned_data["name"] not in known:
                messages.error(
                    request, _("Nothing measured: %(reason)s") % {"reason": _errors(form)}
                )
                return HttpResponseRedirect(request.path), create_form
            data = form.cleaned_data
            lines = [line.strip() for line in data["vectors"].splitlines() if line.strip()]
            problem = _unreadable(model, data["name"], lines)
            if problem:
                messages.error(request, _("Nothing measured: %(reason)s") % {"reason": problem})
                return HttpResponseRedirect(request.path), create_form
            progress = start_curve(
                model=model,
                index_name=data["name"],
                k=data["k"],
                queries=len(lines) or data["queries"],
                target=data["target"],
                vectors=lines,
                user=request.user,
            )
            return self._task_page(progress), create_form
        if action == "build":  # the declared indexes that are missing or invalid
            names = report.missing + [f.name for f in report.indexes if f.declared and not f.valid]
        else:
            names = [name for name in request.POST.getlist("name") if name in known]
        if action not in {"build", "rebuild", "drop"} or not names:
            messages.error(request, _("Nothing to do: choose an index on this table."))
            return HttpResponseRedirect(request.path), create_form
        progress = start_index_change(model=model, action=action, names=names, user=request.user)
        return self._task_page(progress), create_form

    @staticmethod
    def _task_page(progress: Any) -> HttpResponse:
        return HttpResponseRedirect(task_page_url(progress))

    def _curve_of(self, model: Any, name: str, request: HttpRequest) -> dict[str, Any] | None:
        progress = latest_curve(model, name)
        if progress is None:
            return None
        return curve_context(progress, may_save=self.may_build_indexes(request))

    def _curve_task(self, model: Any, request: HttpRequest, key: str) -> TaskProgress | None:
        try:
            progress = TaskProgress.objects.get(pk=int(key), kind="curve", phase="done")
        except (TaskProgress.DoesNotExist, ValueError):
            return None
        if progress.arguments.get("model_label") != model._meta.label:
            return None
        return progress

    def _curve_csv(self, request: HttpRequest, model: Any) -> HttpResponse:
        progress = self._curve_task(model, request, request.GET.get("curve", ""))
        if progress is None:
            return HttpResponse(
                _("No such recall curve."), status=404, content_type="text/plain; charset=utf-8"
            )
        curve = curve_context(progress, may_save=False)["curve"]
        response = HttpResponse(curve.csv(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{curve.index}-recall.csv"'
        return response

    def _save_default(self, request: HttpRequest, model: Any) -> HttpResponse:
        progress = self._curve_task(model, request, request.POST.get("curve", ""))
        if progress is None:
            messages.error(request, _("Nothing saved: no such recall curve."))
            return HttpResponseRedirect(request.path)
        curve = curve_context(progress, may_save=False)["curve"]
        try:
            saved = save_recommended(curve, table=model._meta.db_table, user=request.user)
        except ValueError as error:
            messages.error(request, _("Nothing saved: %(reason)s") % {"reason": error})
        else:
            messages.success(
                request,
                _("Saved: searches through %(index)s now run with %(name)s = %(value)s.")
                % {"index": curve.index, "name": saved.setting_name, "value": saved.value},
            )
        return HttpResponseRedirect(request.path)


def tasks_missing() -> str:
    """Why the index page cannot change indexes, and what to install."""
    return _(
        "building, rebuilding and dropping indexes and measuring recall curves run as "
        "background tasks, which are not installed here: %(install)s, add "
        "'django_tasks_db' to INSTALLED_APPS and run `manage.py db_worker`."
    ) % {"install": TASKS_EXTRA}


def _searches(searches: list[tuple[Any, Any]]) -> SafeString:
    """``<code>embedding</code> by L2 distance, …``: searches, as the index page lists them."""
    return SafeString(
        ", ".join(
            format_html(
                _("<code>{field}</code> by {metric}"), field=column.name, metric=metric.label
            )
            for column, metric in searches
        )
    )


def _errors(form: forms.Form) -> str:
    return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()) or (
        _("no such index on this table.")
    )


def _unreadable(model: Any, index_name: str, lines: list[str]) -> str:
    """Why a pasted query vector cannot be one of the index's column ('' if all can)."""
    from pgvector_admin.search.index_choice import index_and_column
    from pgvector_admin.vectors.parsing import VectorError

    column = index_and_column(model, index_name)[1]
    if column is None:
        return _("%(index)s indexes no vector field of the model.") % {"index": index_name}
    for number, line in enumerate(lines, start=1):
        try:
            column.parse(line)
        except VectorError as error:
            return _("query %(number)s: %(reason)s") % {"number": number, "reason": error}
    return ""
