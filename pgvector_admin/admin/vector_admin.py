"""The vector admin for any model: search by vector, find similar, distance columns,
recall and the plan's verdict, in the style of django-import-export's mixins.

    from pgvector_admin.admin import VectorModelAdmin

    @admin.register(Document)
    class DocumentAdmin(VectorModelAdmin):
        pass  # its vector fields are found; vector_fields = ["embedding"] to choose

The views only parse the request with the forms and hand the cleaned values to
``pgvector_admin.search``; they build no query themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.inspect import get_func_args
from django.utils.safestring import SafeString
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pgvector_admin.admin.distances import VectorDistanceAdminMixin
from pgvector_admin.admin.embedding import VectorEmbeddingAdminMixin
from pgvector_admin.admin.estimated_count import (
    EstimatedCountPaginator,
    estimating,
    exact_count_asked,
    table_is_large,
    without_exact_count,
)
from pgvector_admin.admin.forms import ZERO_VECTOR_MESSAGE, NeighboursForm, VectorSearchForm
from pgvector_admin.admin.indexes import VectorIndexAdminMixin
from pgvector_admin.admin.list_vectors import list_reads_only_parts, plain_field_names
from pgvector_admin.admin.pictures import VectorPictureAdminMixin
from pgvector_admin.admin.request_checks import refusing_unreadable
from pgvector_admin.admin.row_urls import row_url
from pgvector_admin.embedders.base import EmbedderError, checked_vectors
from pgvector_admin.embedders.fields import TextEmbedding
from pgvector_admin.features import IMPORTS_INSTALLED
from pgvector_admin.replicas import reading_from_replica
from pgvector_admin.search.conditions import (
    Conditions,
    ConditionsError,
    condition_params,
    read_conditions,
)
from pgvector_admin.search.hybrid import text_search
from pgvector_admin.search.keywords import keyword_indexes
from pgvector_admin.search.outcome import SearchOutcome
from pgvector_admin.search.query_vectors import (
    REF_PARAM,
    TEXT_REF_PARAM,
    query_string,
    results_query,
)
from pgvector_admin.search.result_csv import neighbours_csv
from pgvector_admin.search.searches import nearest
from pgvector_admin.vectors.fields import VectorColumn, vector_columns
from pgvector_admin.vectors.parts import (
    has_parts,
    norm_from_parts,
    read_in_parts,
    short_from_parts,
    with_parts,
)

if IMPORTS_INSTALLED:
    from pgvector_admin.admin.imports import VectorImportExportMixin as TransferMixin
else:  # the Import button says what to install
    from pgvector_admin.admin.import_unavailable import (  # type: ignore[assignment]
        ImportUnavailableMixin as TransferMixin,
    )

# The search and similar pages' own parameters; every other one is a changelist
# condition (its search box, list filters, date hierarchy).
VECTOR_PARAMS = {
    "vector",
    REF_PARAM,
    "text",
    TEXT_REF_PARAM,
    "mode",
    "match",
    "keyword_weight",
    "vector_weight",
    "rrf_k",
    "field",
    "k",
    "metric",
    "exact",
    "recall",
    "format",
    "max_distance",
    "colour",
}


class VectorAdminMixin(
    VectorEmbeddingAdminMixin,
    VectorDistanceAdminMixin,
    VectorPictureAdminMixin,
    VectorIndexAdminMixin,
    TransferMixin,
):
    """Mix into a ``ModelAdmin`` (before it) to give its model the vector pages, and
    CSV/TSV/JSON import and export (``VectorImportExportMixin``, when
    django-import-export is installed).

    Options, all class attributes with defaults:
        vector_fields        the vector fields to work with (default: every one found)
        vector_k             the default number of neighbours (10)
        vector_metric        the default metric's name (default: the first field's
                             type's first metric, cosine for vector and halfvec)
        vector_list_columns  add each vector field's short form, its norm and a
                             "similar" link to the changelist (True)
        vector_embedders     {field: TextEmbedding(embedder, source=...)}: the field
                             is searched by text as well, and where its table has a
                             full-text index, by keyword and hybrid; with a source,
                             a row's vector is made from its text when it is saved
                             (pgvector_admin.embedders)

    Define ``result_picture(obj)`` (returning safe HTML) to show a picture of each row
    on the search and similar pages, and of the row whose neighbours are shown.
    """

    vector_fields: Sequence[str] | None = None
    vector_k: int = 10
    vector_metric: str | None = None
    vector_list_columns: bool = True
    vector_embedders: dict[str, TextEmbedding] = {}

    change_list_template = "pgvector_admin/change_list.html"
    change_form_template = "pgvector_admin/change_form.html"
    neighbours_template = "pgvector_admin/neighbours.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read from the model once: every page and form works from these.
        self._vector_columns = vector_columns(self.model, self.vector_fields)
        columns = self._vector_columns
        if not columns:
            raise ImproperlyConfigured(
                f"{type(self).__name__}: {self.model._meta.label} has no pgvector field "
                "(VectorField, HalfVectorField, SparseVectorField or BitField)."
            )
        _check_embedders(self.model, columns, self.vector_embedders)
        # Made once: the admin tells its read-only fields apart by identity.
        several = len(columns) > 1
        self._vector_list_columns = [
            display
            for column in columns
            for display in (_short_column(column), _norm_column(column, several=several))
        ]
        self._vector_full_columns = [
            _full_column(column)
            for column in columns
            if not self.model._meta.get_field(column.name).editable
        ]

    # Columns

    def action_checkbox(self, obj: Any) -> SafeString:
        # Django's own checkbox, written directly: rendering a CheckboxInput through the
        # form renderer for each row cost a quarter of a changelist's time (23 ms of
        # about 60 for 50 rows). The HTML is Django's, attribute for attribute.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(_("Select this object for an action - {}"), str(obj)),
        )

    def get_list_display(self, request: HttpRequest) -> Sequence[Any]:
        shown = list(super().get_list_display(request))
        if not self.vector_list_columns:
            return shown
        return [*shown, *self._vector_list_columns, "similar_link"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[Any]:
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, *self._vector_full_columns, "similar_link"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[Any]:
        fields = list(super().get_fields(request, obj))
        # Non-editable vectors are shown whole, read-only, instead of not at all.
        return fields + [field for field in self._vector_full_columns if field not in fields]

    @admin.display(description=gettext_lazy("similar"))
    def similar_link(self, obj: Any) -> str:
        if obj.pk is None:
            return "—"
        url = row_url(f"admin:{self.url_name('similar')}", obj.pk, current_app=self.admin_site.name)
        return format_html('<a href="{}" class="similar-link">{}</a>', url, _("similar rows"))

    # Action

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # actions = None switches the changelist's actions off: the export and
        # find-similar actions too (django-import-export would add its own regardless).
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return {}
        # Django 6.1 asks for the actions of a place (the changelist, the change form);
        # a parent that does not know places yet (django-import-export's) is asked as
        # before.
        parent = super().get_actions
        if action_location is None or "action_location" not in get_func_args(parent):
            actions = parent(request)
        else:
            actions = parent(request, action_location=action_location)
        if self.has_view_permission(request):
            description = _("Find %(things)s similar to the selected one") % {
                "things": self.opts.verbose_name_plural
            }
            actions["find_similar"] = (VectorAdminMixin.find_similar, "find_similar", description)
        return actions

    def find_similar(
        self, request: HttpRequest, queryset: QuerySet[Any]
    ) -> HttpResponseRedirect | None:
        count = queryset.count()
        if count != 1:
            self.message_user(
                request,
                _(
                    "Select exactly one %(thing)s to find its similar %(things)s "
                    "(%(count)s selected)."
                )
                % {
                    "thing": self.opts.verbose_name,
                    "things": self.opts.verbose_name_plural,
                    "count": count,
                },
                messages.WARNING,
            )
            return None
        # Posted from the changelist's own URL: its conditions carry over.
        conditions = condition_params(request.GET, ignore=VECTOR_PARAMS)
        url = reverse(f"admin:{self.url_name('similar')}", args=[queryset.get().pk])
        return HttpResponseRedirect(f"{url}?{conditions.urlencode()}" if conditions else url)

    # Pages

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        patterns = [
            path("search/", wrap(self.search_view), name=self.url_name("search")),
            path(
                "<path:object_id>/similar/", wrap(self.similar_view), name=self.url_name("similar")
            ),
            *super().get_urls(),
        ]
        # Every page of the model (the admin's own too): a parameter no page can read
        # is a 400 before any work.
        for pattern in patterns:
            pattern.callback = refusing_unreadable(pattern.callback)
        return patterns

    def search_form(self, data: Any = None, **kwargs: Any) -> VectorSearchForm:
        if self.vector_embedders:
            # The table's full-text index, read now: one may be added at any time.
            found = keyword_indexes(self.model)
            kwargs.setdefault("embeddings", self.vector_embedders)
            kwargs.setdefault("keyword_index", found[0] if found else None)
        return self._query_form(VectorSearchForm, data, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Before the row is saved, each embedded field's vector is made from its
        source text, when that text changed or the vector is missing; an embedder
        that fails leaves the vector as it was and says so."""
        for name, embedding in self.vector_embedders.items():
            source = embedding.source_field
            if embedding.source is None:
                continue
            changed = source is None or not change or source in form.changed_data
            if not changed and getattr(obj, name) is not None:
                continue
            text = embedding.text_of(obj)
            if not text.strip():
                setattr(obj, name, None)
                continue
            try:
                (vector,) = checked_vectors(embedding.embedder, [text])
            except EmbedderError as error:
                self.message_user(
                    request,
                    _("%(field)s was not embedded again: %(reason)s")
                    % {"field": name, "reason": error},
                    messages.WARNING,
                )
                continue
            setattr(obj, name, [float(value) for value in vector])
        super().save_model(request, obj, form, change)

    def _query_form(self, form_class: type[NeighboursForm], data: Any, **kwargs: Any) -> Any:
        """The search or similar page's form, with this admin's fields and defaults."""
        return form_class(
            data,
            columns=self.get_vector_columns(),
            default_k=self.vector_k,
            default_metric=self.vector_metric,
            **kwargs,
        )

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return VectorChangeList

    # The changelist's count

    @property
    def show_full_result_count(self) -> bool:  # type: ignore[override]
        # No second count of the whole table when this request's list is estimated.
        return not estimating.get()

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> Paginator:
        # Its count is the planner's estimate while this request estimates.
        return EstimatedCountPaginator(queryset, per_page, orphans, allow_empty_first_page)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        exact = exact_count_asked(request)
        if exact:
            request.GET = without_exact_count(request.GET)
        large = not exact and table_is_large(self.model, self.model._default_manager.db)
        token = estimating.set(large)
        try:
            return self._changelist(request, extra_context)
        finally:
            estimating.reset(token)

    def _changelist(
        self, request: HttpRequest, extra_context: dict[str, Any] | None
    ) -> HttpResponse:
        # The list's conditions go with the vector search and the map: the rows shown.
        conditions = condition_params(request.GET, ignore=VECTOR_PARAMS)
        map_url = reverse(f"admin:{self.url_name('map')}")
        extra_context = {
            **(extra_context or {}),
            "vector_form": self.search_form(auto_id="vs_%s"),
            "vector_search_url": reverse(f"admin:{self.url_name('search')}"),
            "vector_conditions": list(conditions.lists()),
            "vector_indexes_url": reverse(f"admin:{self.url_name('indexes')}"),
            "vector_map_url": f"{map_url}?{conditions.urlencode()}" if conditions else map_url,
            "vector_health": self.vector_health(),
            "vector_embeddings_url": reverse(f"admin:{self.url_name('embeddings')}")
            if self.vector_embedders
            else "",
        }
        page = functools.partial(super().changelist_view, request, extra_context)
        if request.method != "GET":  # an action, which may write
            return page()
        # The list's rows, read from a replica when there is one.
        return reading_from_replica(request, page)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "similar_url": reverse(f"admin:{self.url_name('similar')}", args=[object_id]),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def search_view(self, request: HttpRequest) -> HttpResponse:
        """The rows nearest to a query vector typed by the user. The form posts (a
        vector can be longer than an address may be); the answer is a redirect to the
        results page's address, which can be reloaded and shared."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            query = results_query(request.POST, request.GET)
            return HttpResponseRedirect(f"{request.path}?{query_string(query)}", status=303)
        return reading_from_replica(request, functools.partial(self._search_page, request))

    def _search_page(self, request: HttpRequest) -> HttpResponse:
        form, conditions, outcome = self.search_outcome(
            request, cells_only=self._cells_only(request)
        )
        return self._results_response(
            request,
            form=form,
            outcome=outcome,
            title=_("Search by text or vector") if self.vector_embedders else _("Search by vector"),
            target=None,
            conditions=conditions,
        )

    def search_outcome(
        self, request: HttpRequest, *, with_recall: bool | None = None, cells_only: bool = False
    ) -> tuple[NeighboursForm, Conditions, SearchOutcome | None]:
        """The search page's form, conditions and answer (None while the form is not
        valid); recall as the form asks unless ``with_recall`` says otherwise; with
        ``cells_only``, the rows' vectors read only as far as the results table shows
        them (``nearest``)."""
        form = self.search_form(request.GET or None)
        conditions = self.form_conditions(request, form)
        if not form.is_valid():
            return form, conditions, None
        data = form.cleaned_data
        if data["mode"] == "vector":
            outcome = _nearest(
                data, conditions, data["vector"], with_recall=with_recall, cells_only=cells_only
            )
        else:
            outcome = text_search(
                mode=data["mode"],
                column=data["column"],
                vector=data["vector"],
                text=data["text"],
                index=form.keyword_index,
                k=data["k"],
                metric=data["metric"],
                exact=data["exact"],
                with_recall=data["recall"] if with_recall is None else with_recall,
                within=conditions.queryset,
                fusion=data["fusion"],
                match=data["match"],
            )
        outcome.query_embedding = data.get("query_embedding")
        return form, conditions, outcome

    def vector_conditions(self, request: HttpRequest) -> Conditions:
        """The changelist's conditions the request carries (its search box, list
        filters, date hierarchy): the rows a search or similar page searches among."""
        return read_conditions(self, request, ignore=VECTOR_PARAMS)

    def form_conditions(self, request: HttpRequest, form: Any) -> Conditions:
        try:
            return self.vector_conditions(request)
        except ConditionsError as error:
            form.is_valid()
            form.add_error(None, str(error))
            return Conditions(condition_params(request.GET, ignore=VECTOR_PARAMS))

    def similar_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The rows nearest to a row's own vector, the row itself left out."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        page = functools.partial(self._similar_page, request, object_id)
        return reading_from_replica(request, page)

    def _similar_page(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form, conditions, outcome = self.similar_outcome(
            request, obj, cells_only=self._cells_only(request)
        )
        return self._results_response(
            request,
            form=form,
            outcome=outcome,
            title=capfirst(
                _("%(things)s similar to %(thing)s")
                % {"things": self.opts.verbose_name_plural, "thing": obj}
            ),
            target=obj,
            conditions=conditions,
        )

    def similar_outcome(
        self,
        request: HttpRequest,
        obj: Any,
        *,
        with_recall: bool | None = None,
        cells_only: bool = False,
    ) -> tuple[NeighboursForm, Conditions, SearchOutcome | None]:
        """The similar page's form, conditions and answer for ``obj`` (as
        ``search_outcome``)."""
        form = self._query_form(NeighboursForm, request.GET)
        conditions = self.form_conditions(request, form)
        if not form.is_valid():
            return form, conditions, None
        data = form.cleaned_data
        column = data["column"]
        if column.undefined_for(column.values(obj), data["metric"]):
            form.add_error(None, ZERO_VECTOR_MESSAGE)
            return form, conditions, None
        # As searches.similar_to: the row's own vector, the row left out.
        vector = column.values(obj)
        outcome = _nearest(
            data,
            conditions,
            vector,
            exclude_id=obj.pk,
            with_recall=with_recall,
            cells_only=cells_only,
        )
        return form, conditions, outcome

    def _cells_only(self, request: HttpRequest) -> bool:
        """Whether a results page needs of its rows' vectors only their cells: not for
        its CSV (every value) nor beside pictures (``result_picture`` may draw the
        vector)."""
        return request.GET.get("format") != "csv" and not hasattr(self, "result_picture")

    def _results_response(
        self,
        request: HttpRequest,
        *,
        form: NeighboursForm,
        outcome: SearchOutcome | None,
        title: str,
        target: Any,
        conditions: Conditions,
    ) -> HttpResponse:
        if outcome is not None and request.GET.get("format") == "csv":
            response = HttpResponse(
                neighbours_csv(
                    outcome.neighbours,
                    outcome.metrics,
                    text=outcome.column.text,
                    ranked=outcome.ranked,
                ),
                content_type="text/csv",
            )
            name = f"similar-to-{target.pk}" if target is not None else "vector-search"
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        # The page's own query, written once for its links (a 768-d vector inline is
        # 6 KB to encode). Commas stay as they are: vectors read better, and encode faster.
        query = query_string(request.GET)
        csv_query = request.GET.copy()
        csv_query["format"] = "csv"
        # The field asked about (kept even when another option was refused), else the first.
        column = getattr(form, "cleaned_data", {}).get("column") or self.get_vector_columns()[0]
        picture = getattr(self, "result_picture", None)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "outcome": outcome,
            "target": target,
            "changelist_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
            ),
            "conditions": conditions,
            "condition_fields": list(conditions.params.lists()),
            # The results pages need the width for their table.
            "is_nav_sidebar_enabled": False,
            "csv_url": f"{request.path}?{query_string(csv_query)}",
            # As its cell in the results: a long vector by its ends, length and norm (the
            # row's change page shows it whole; 768 numbers cost the page 0.3 ms).
            "target_vector": column.short(column.values(target)) if target is not None else "",
            # An admin that defines result_picture(obj) gets a picture beside each row.
            "result_picture": _not_called_by_templates(picture),
            "target_picture": picture(target) if picture and target is not None else "",
        }
        if outcome is not None and outcome.neighbours:
            # The picture asks for its points with the page's own query.
            if target is not None:
                points = reverse(f"admin:{self.url_name('similar_points')}", args=[target.pk])
            else:
                points = reverse(f"admin:{self.url_name('search_points')}")
            context["points_url"] = f"{points}?{query}"
            # The histogram too is asked for after the page (pgvector_admin.admin.distances).
            if target is not None:
                distances = reverse(f"admin:{self.url_name('similar_distances')}", args=[target.pk])
            else:
                distances = reverse(f"admin:{self.url_name('search_distances')}")
            context["distances_url"] = f"{distances}?{query}"
        status = 400 if form.is_bound and form.errors else 200
        return TemplateResponse(request, self.neighbours_template, context, status=status)


class VectorChangeList(ChangeList):
    """Django's changelist, its rows' links reversed once for the page
    (``pgvector_admin.admin.row_urls``) instead of once a link, and of its long vectors
    only what their cells show read (``pgvector_admin.admin.list_vectors``)."""

    def get_results(self, request: HttpRequest) -> None:
        admin_ = self.model_admin
        columns = read_in_parts(admin_.get_vector_columns())
        if columns and admin_.vector_list_columns:
            plain = plain_field_names(self.model)
            if list_reads_only_parts(self.list_display, admin_._vector_list_columns, plain):
                self.queryset = with_parts(self.queryset, columns)
        super().get_results(request)

    def url_for_result(self, result: Any) -> str:
        return row_url(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            getattr(result, self.pk_attname),
            current_app=self.model_admin.admin_site.name,
        )


class VectorModelAdmin(VectorAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """A ``ModelAdmin`` with the vector pages: register a model with pgvector fields."""


def _nearest(
    data: dict[str, Any],
    conditions: Conditions,
    vector: Any,
    *,
    exclude_id: Any = None,
    with_recall: bool | None = None,
    cells_only: bool = False,
) -> SearchOutcome:
    """The answer to a search or similar page's valid form (``data``, its cleaned
    data), among the rows of the changelist's ``conditions``."""
    return nearest(
        column=data["column"],
        vector=vector,
        k=data["k"],
        metric=data["metric"],
        exact=data["exact"],
        exclude_id=exclude_id,
        with_recall=data["recall"] if with_recall is None else with_recall,
        within=conditions.queryset,
        max_distance=data["max_distance"],
        cells_only=cells_only,
    )


def _check_embedders(
    model: Any, columns: list[VectorColumn], embedders: dict[str, TextEmbedding]
) -> None:
    """``vector_embedders`` names vector fields of the model, of dense types, with
    embedders of their dimensions and sources it has."""
    by_name = {column.name: column for column in columns}
    for name, embedding in embedders.items():
        column = by_name.get(name)
        where = f"{model._meta.label}'s vector_embedders[{name!r}]"
        if column is None:
            raise ImproperlyConfigured(f"{where}: {name} is not one of the admin's vector fields.")
        if not isinstance(embedding, TextEmbedding):
            raise ImproperlyConfigured(f"{where} must be a TextEmbedding(embedder, source=...).")
        if column.type.name not in {"vector", "halfvec"}:
            raise ImproperlyConfigured(
                f"{where}: a {column.type.name} field holds no embedder's vectors "
                "(vector or halfvec fields do)."
            )
        dimensions = embedding.embedder.dimensions
        if column.dimensions is not None and column.dimensions != dimensions:
            raise ImproperlyConfigured(
                f"{where}: {embedding.embedder.name} makes {dimensions}-d vectors, "
                f"the field holds {column.dimensions}."
            )
        source = embedding.source_field
        if source is not None and source not in {f.name for f in model._meta.get_fields()}:
            raise ImproperlyConfigured(f"{where}: the model has no field {source!r}.")


def _short_column(column: VectorColumn) -> Callable[[Any], str]:
    def short(obj: Any) -> str:
        if has_parts(column, obj):  # on the changelist (list_vectors)
            text = short_from_parts(column, obj)
            return "—" if text is None else text
        value = getattr(obj, column.name)
        return "—" if value is None else column.short(value)

    short.short_description = column.label
    short.__name__ = f"{column.name}_short"
    return short


def _norm_column(column: VectorColumn, *, several: bool) -> Callable[[Any], str]:
    def vector_norm(obj: Any) -> str:
        if has_parts(column, obj):  # on the changelist (list_vectors)
            magnitude = norm_from_parts(column, obj)
            return "—" if magnitude is None else f"{magnitude:.4g}"
        value = getattr(obj, column.name)
        return "—" if value is None else f"{column.type.magnitude(value):.4g}"

    vector_norm.short_description = (
        format_lazy(gettext_lazy("{field} norm"), field=column.label)
        if several
        else gettext_lazy("norm")
    )
    vector_norm.__name__ = f"{column.name}_norm"
    return vector_norm


def _full_column(column: VectorColumn) -> Callable[[Any], str]:
    def full(obj: Any) -> str:
        value = getattr(obj, column.name, None)
        if value is None:
            return "—"
        return format_html('<pre class="vector-full">{}</pre>', column.full(value))

    full.short_description = column.label
    full.__name__ = f"{column.name}_full"
    return full


def _not_called_by_templates(function: Callable[[Any], str] | None) -> Any:
    """``function`` as a template variable that the template engine hands on as it is
    (it calls any callable it resolves, with no arguments)."""
    if function is None:
        return None
    wrapped = functools.partial(function)
    wrapped.do_not_call_in_templates = True
    return wrapped
