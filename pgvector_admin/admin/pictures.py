"""The vector admin's pictures: where the rows are in 3-d space.

On the search and similar pages, the query, its neighbours coloured by rank and a
sample of the other rows; from the changelist, a map of a sample of the filtered rows
coloured by a field. The pages carry no points: the browser asks for them
(``…/points/``, JSON) and draws them with the vendored plotly.js
(``pgvector_admin/static/pgvector_admin/vendor``), so the table is there at once, with or without
JavaScript. The points come from ``pgvector_admin.pictures.point_cloud``.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from django import forms
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from pgvector.django import BitField, HalfVectorField, SparseVectorField, VectorField

from pgvector_admin.admin.base import VectorAdminBase, form_errors_text
from pgvector_admin.numbers import grouped
from pgvector_admin.pictures.point_cloud import (
    Points,
    Projection,
    dense_rows,
    fit_projection,
    sample_points,
)
from pgvector_admin.replicas import answered_by, reading_from_replica
from pgvector_admin.search.outcome import SearchOutcome
from pgvector_admin.vectors.fields import VectorColumn

# More distinct values than this are shown as a colour scale (numbers) or grouped.
MAX_CATEGORIES = 20
OTHER = "(other)"
_VECTOR_FIELDS = (VectorField, HalfVectorField, SparseVectorField, BitField)
# Fields that make no colour: free text, documents, bytes.
_NOT_COLOURS = ("TextField", "JSONField", "BinaryField")


class MapForm(forms.Form):
    """The map's vector field (when the model has several) and the field that colours it."""

    field = forms.ChoiceField(label=gettext_lazy("Field"), required=False)
    colour = forms.ChoiceField(label=gettext_lazy("Colour by"), required=False)

    def __init__(
        self,
        data: Any = None,
        *,
        columns: Sequence[VectorColumn],
        colours: Sequence[tuple[str, str]],
        default_colour: str | None,
        **kwargs: Any,
    ) -> None:
        if data is not None and "colour" not in data:
            # Not asked: the admin's choice, shown selected.
            data = data.copy()
            data["colour"] = default_colour or ""
        super().__init__(data, **kwargs)
        self.columns = {column.name: column for column in columns}
        self.fields["field"].choices = [(column.name, column.label) for column in columns]
        self.fields["colour"].choices = [("", _("nothing")), *colours]
        self.fields["colour"].initial = default_colour or ""
        if len(columns) < 2:
            self.fields["field"].widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["column"] = self.columns.get(data.get("field") or "") or next(
            iter(self.columns.values())
        )
        return data


class VectorPictureAdminMixin(VectorAdminBase):
    """Adds the pictures to a vector admin (``pgvector_admin.admin.vector_admin.VectorAdminMixin``
    mixes it in). Options:

        vector_map_label   the field whose value names a point on hover (default: the
                           model's first CharField; else the row's id)
        vector_map_colour  the field the map is coloured by at first (default: none)
    """

    vector_map_label: str | None = None
    vector_map_colour: str | None = None

    # Provided by VectorAdminMixin and ModelAdmin.
    model: type[models.Model]
    opts: Any
    admin_site: Any

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "search/points/", wrap(self.search_points_view), name=self.url_name("search_points")
            ),
            path(
                "<path:object_id>/similar/points/",
                wrap(self.similar_points_view),
                name=self.url_name("similar_points"),
            ),
            path("map/", wrap(self.map_view), name=self.url_name("map")),
            path("map/points/", wrap(self.map_points_view), name=self.url_name("map_points")),
            *super().get_urls(),
        ]

    # The points of the search and similar pages

    def search_points_view(self, request: HttpRequest) -> HttpResponse:
        """The search page's picture: the query, its neighbours, a sample of the rows."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return reading_from_replica(request, lambda: self._search_points(request))

    def _search_points(self, request: HttpRequest) -> JsonResponse:
        form, conditions, outcome = self.search_outcome(request, with_recall=False)
        return self._neighbour_points(form, conditions, outcome, query_id=None)

    def similar_points_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The similar page's picture: the row, its neighbours, a sample of the rows."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return reading_from_replica(request, lambda: self._similar_points(request, object_id))

    def _similar_points(self, request: HttpRequest, object_id: str) -> JsonResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return JsonResponse({"error": self.missing_row_text(object_id)}, status=404)
        form, conditions, outcome = self.similar_outcome(request, obj, with_recall=False)
        return self._neighbour_points(form, conditions, outcome, query_id=obj.pk)

    def _neighbour_points(
        self, form: Any, conditions: Any, outcome: SearchOutcome | None, *, query_id: Any
    ) -> JsonResponse:
        if outcome is None:
            return _form_errors(form)
        column = outcome.column
        projection = fit_projection(column, conditions.queryset)
        data = self._picture_data(column, projection)
        if projection.reason:
            return JsonResponse(data)
        # A keyword search's rows may not have a vector yet: they have no place.
        placed = [neighbour for neighbour in outcome.neighbours if neighbour.distances]
        ids = [neighbour.id for neighbour in placed]
        sample = sample_points(
            column,
            projection,
            within=conditions.queryset,
            vector=outcome.vector,
            metrics=column.metrics,
            label_field=self.map_label_field(),
            exclude_ids=[*ids, *([query_id] if query_id is not None else [])],
        )
        neighbours = Points(
            ids=ids,
            coordinates=projection.to_3d(
                dense_rows(column, [n.embedding for n in placed], projection.support)
            ).reshape(-1, 3),
            labels=[neighbour.label for neighbour in placed],
            distances={
                metric.name: np.asarray([n.distance(metric) for n in placed])
                for metric in column.metrics
            },
        )
        query = projection.to_3d(dense_rows(column, [outcome.vector], projection.support))[0]
        data.update(
            metric=outcome.metric.name,
            sample=sample.points.as_dict(packed=True),
            sampled=sample.sampled,
            table_rows=max(sample.estimate, len(sample.points.ids)),
            neighbours=neighbours.as_dict() if placed else None,
            query={
                "id": query_id,
                "x": float(query[0]),
                "y": float(query[1]),
                "z": float(query[2]),
            },
        )
        return JsonResponse(_with_words(data))

    # The map

    def map_view(self, request: HttpRequest) -> HttpResponse:
        """A map of the table: a sample of the (filtered) rows, coloured by a field."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = self.map_form(request.GET)
        conditions = self.form_conditions(request, form)
        form.is_valid()
        points_query = request.GET.urlencode()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Map of the %(things)s") % {"things": self.opts.verbose_name_plural},
            "form": form,
            "conditions": conditions,
            "condition_fields": list(conditions.params.lists()),
            "changelist_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
            ),
            "points_url": reverse(f"admin:{self.url_name('map_points')}")
            + (f"?{points_query}" if points_query else ""),
            "is_nav_sidebar_enabled": False,
        }
        status = 400 if form.errors else 200
        return TemplateResponse(request, "pgvector_admin/map.html", context, status=status)

    def map_points_view(self, request: HttpRequest) -> HttpResponse:
        """The map's points: a sample of the filtered rows, with the colouring field."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return reading_from_replica(request, lambda: self._map_points(request))

    def _map_points(self, request: HttpRequest) -> JsonResponse:
        form = self.map_form(request.GET)
        conditions = self.form_conditions(request, form)
        if not form.is_valid():
            return _form_errors(form)
        column = form.cleaned_data["column"]
        colour = form.cleaned_data["colour"] or None
        projection = fit_projection(column, conditions.queryset)
        data = self._picture_data(column, projection)
        if projection.reason:
            return JsonResponse(data)
        sample = sample_points(
            column,
            projection,
            within=conditions.queryset,
            label_field=self.map_label_field(),
            colour_field=colour,
        )
        points = sample.points
        if colour:
            points.colours = colour_values(self.model, colour, points.colours)
            data["colour"] = _colouring(self.model, colour, points.colours)
            if data["colour"]["kind"] == "category":
                kept = set(data["colour"]["values"])
                points.colours = [value if value in kept else OTHER for value in points.colours]
        data.update(
            sample=points.as_dict(packed=True),
            sampled=sample.sampled,
            table_rows=max(sample.estimate, len(points.ids)),
        )
        return JsonResponse(_with_words(data))

    def map_form(self, data: Any) -> MapForm:
        return MapForm(
            data,
            columns=self.get_vector_columns(),
            colours=self.map_colour_fields(),
            default_colour=self.vector_map_colour,
        )

    def map_colour_fields(self) -> list[tuple[str, str]]:
        """The fields a map can be coloured by: the model's own, but for its vectors,
        its primary key and free text."""
        return [
            (field.name, str(field.verbose_name))
            for field in self.model._meta.concrete_fields
            if not field.primary_key
            and not isinstance(field, _VECTOR_FIELDS)
            and field.get_internal_type() not in _NOT_COLOURS
        ]

    def map_label_field(self) -> str | None:
        """The field that names a point on hover."""
        if self.vector_map_label is not None:
            return self.vector_map_label
        return next(
            (
                field.name
                for field in self.model._meta.concrete_fields
                if isinstance(field, models.CharField) and not field.primary_key
            ),
            None,
        )

    def _picture_data(self, column: VectorColumn, projection: Projection) -> dict[str, Any]:
        """What every picture's points come with: the axes, the projection in words,
        the metrics and the address of a row's page."""
        change = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[0])
        return {
            "field": column.label,
            "axes": projection.axes,
            "projection": projection.describe(),
            "variance_kept": projection.variance_kept,
            "reason": projection.reason or None,
            "metrics": [{"name": m.name, "label": m.label} for m in column.metrics],
            "change_url": change.replace("/0/", "/__pk__/", 1),
            "name": str(self.opts.verbose_name),
            # The database the points were read from, when the app has read replicas.
            "read_from": answer.alias if (answer := answered_by()) is not None else None,
        }


def _with_words(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the picture's words in the active language: the legend's names, the
    hover's, and the sentence under the picture (point_cloud.js writes no English)."""
    shown = len(data["sample"]["ids"])
    neighbours = data.get("neighbours")
    other = bool(neighbours or data.get("query"))
    values = {"shown": grouped(shown), "about": grouped(data["table_rows"])}
    if data["sampled"]:
        sampled = (
            ngettext(
                "%(shown)s other row sampled (TABLESAMPLE) of about %(about)s.",
                "%(shown)s other rows sampled (TABLESAMPLE) of about %(about)s.",
                shown,
            )
            if other
            else ngettext(
                "%(shown)s row sampled (TABLESAMPLE) of about %(about)s.",
                "%(shown)s rows sampled (TABLESAMPLE) of about %(about)s.",
                shown,
            )
        )
        parts = [data["projection"], sampled % values]
    else:
        every = (
            ngettext("All %(shown)s other row.", "All %(shown)s other rows.", shown)
            if other
            else ngettext("All %(shown)s row.", "All %(shown)s rows.", shown)
        )
        parts = [data["projection"], every % values]
    if data.get("read_from"):
        read_from = data["read_from"]
        server = _("the primary") if read_from == "default" else read_from
        parts.append(_("Read from %(server)s.") % {"server": server})
    if neighbours:
        parts.append(_("Neighbours coloured by rank, darkest the nearest; the query a diamond."))
    parts.append(
        _(
            "Drag to turn, scroll to zoom; hover a point for its distances, click it to open "
            "its page."
        )
    )
    sample_name = (
        ngettext("%(count)s sampled row", "%(count)s sampled rows", shown)
        if data["sampled"]
        else ngettext("%(count)s row", "%(count)s rows", shown)
    )
    near = len(neighbours["ids"]) if neighbours else 0
    data["summary"] = " ".join(parts)
    data["words"] = {
        "sample": sample_name % {"count": grouped(shown)},
        "nearest": ngettext("%(count)s nearest (by rank)", "%(count)s nearest (by rank)", near)
        % {"count": grouped(near)},
        # The rank of a point on hover; %(rank)s is filled in by the script.
        "rank": _("rank %(rank)s"),
        "query": _("the query"),
        "none": _("(none)"),
        "other": _("(other)"),
    }
    return data


def _colouring(model: type[models.Model], name: str, values: list[Any]) -> dict[str, Any]:
    """How a field colours the map: by category (a legend entry each) or by a scale."""
    label = str(model._meta.get_field(name).verbose_name)
    present = [value for value in values if value is not None]
    distinct = Counter(present)
    numeric = bool(present) and all(
        isinstance(value, int | float) and not isinstance(value, bool) for value in present
    )
    if numeric and len(distinct) > MAX_CATEGORIES:
        return {"field": name, "label": label, "kind": "number"}
    field = model._meta.get_field(name)
    choices = [str(text) for _, text in getattr(field, "flatchoices", None) or []]
    if 0 < len(choices) <= MAX_CATEGORIES:
        # Every choice, in order: a value keeps its colour whichever rows are drawn.
        return {"field": name, "label": label, "kind": "category", "values": choices}
    ordered = [value for value, _ in distinct.most_common(MAX_CATEGORIES)]
    with contextlib.suppress(TypeError):  # values of mixed types keep their frequency order
        ordered.sort()
    return {"field": name, "label": label, "kind": "category", "values": ordered}


def colour_values(model: type[models.Model], name: str, values: Sequence[Any]) -> list[Any]:
    """A field's values as a picture's legend shows them (a choice's label, a related
    row's name)."""
    model_field = model._meta.get_field(name)
    choices = dict(getattr(model_field, "flatchoices", None) or [])
    if choices:
        return [str(choices.get(value, value)) if value is not None else None for value in values]
    if isinstance(next((v for v in values if v is not None), None), bool | int | float):
        return list(values)
    return [None if value is None else str(value) for value in values]


def _form_errors(form: Any) -> JsonResponse:
    """A form's errors, for a picture that cannot be drawn."""
    return JsonResponse({"error": form_errors_text(form)}, status=400)
