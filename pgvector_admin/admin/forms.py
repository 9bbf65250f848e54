"""The query forms of the search and similar pages (the parameters of their address),
for any model's vector fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from pgvector_admin.search.catalogue import stored_dimensions
from pgvector_admin.search.limits import MAX_K
from pgvector_admin.search.query_vectors import REF_PARAM, recall
from pgvector_admin.vectors.fields import VectorColumn
from pgvector_admin.vectors.metrics import Metric
from pgvector_admin.vectors.parsing import VectorError

DEFAULT_K = 10

ZERO_VECTOR_MESSAGE = (
    "The cosine distance to a zero vector is undefined: use a vector with a non-zero "
    "number, or pick another metric."
)


LOST_REFERENCE_MESSAGE = (
    "This address refers to a query vector that is not kept here (another database?): "
    "paste the vector again."
)


class NeighboursForm(forms.Form):
    """Which vector field (when the model has several), how many neighbours, by which
    metric, exact or through the index. ``cleaned_data`` holds the ``column`` and the
    ``metric`` objects."""

    field_order = ["field", "k", "metric", "max_distance", "exact", "recall"]

    field = forms.ChoiceField(label="Field", required=False)
    k = forms.IntegerField(
        label="k",
        min_value=1,
        max_value=MAX_K,
        initial=DEFAULT_K,
        required=False,
        help_text=f"How many rows, 1 to {MAX_K}.",
        widget=forms.NumberInput(attrs={"size": 5}),
    )
    metric = forms.ChoiceField(required=False)
    exact = forms.BooleanField(
        label="exact (no index)", required=False, help_text="Read every row and sort."
    )
    recall = forms.BooleanField(
        label="measure recall", required=False, help_text="Compare with the exact answer."
    )
    max_distance = forms.FloatField(
        label="within",
        required=False,
        help_text=(
            "Only rows at most this distance away (for inner product: at least this "
            f"product), nearest first, up to k (at most {MAX_K})."
        ),
        widget=forms.NumberInput(attrs={"size": 8, "step": "any", "placeholder": "distance"}),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        columns: Sequence[VectorColumn],
        default_k: int = DEFAULT_K,
        default_metric: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.columns = {column.name: column for column in columns}
        first = columns[0]
        metrics: dict[str, Metric] = {}
        for column in columns:
            metrics |= {metric.name: metric for metric in column.metrics}
        initial = {
            "field": first.name,
            "k": default_k,
            "metric": default_metric or first.default_metric.name,
        }
        if data is not None:
            # Missing options take their defaults, and the page shows them.
            data = data.copy()
            for name, value in initial.items():
                if not data.get(name):
                    data[name] = value
        super().__init__(data, initial=initial, **kwargs)
        self.fields["field"].choices = [(c.name, c.label) for c in columns]
        self.fields["metric"].choices = [(m.name, m.label) for m in metrics.values()]
        if len(columns) == 1:
            self.fields["field"].widget = forms.HiddenInput()
        self.default_k = default_k

    def clean_k(self) -> int:
        k = self.cleaned_data.get("k")
        return self.default_k if k is None else k

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        column = self.columns.get(cleaned.get("field") or "")
        if column is None:
            return cleaned
        cleaned["column"] = column
        if "metric" in cleaned:
            try:
                cleaned["metric"] = column.metric(cleaned["metric"])
            except ValueError as error:
                self.add_error("metric", forms.ValidationError(str(error), code="metric"))
        return cleaned


class VectorSearchForm(NeighboursForm):
    """A query vector plus the neighbour options."""

    field_order = ["vector", "field", "k", "metric", "max_distance", "exact", "recall"]

    vector = forms.CharField(
        label="Query vector",
        max_length=500_000,
        widget=forms.TextInput(attrs={"placeholder": "[3, 1, 2]", "size": 40}),
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        # A long vector arrives by reference (pgvector_admin.search.query_vectors): read it back.
        self.lost_reference = False
        if data is not None and data.get(REF_PARAM) and not data.get("vector"):
            text = recall(data[REF_PARAM])
            data = data.copy()
            data["vector"] = text or ""
            self.lost_reference = text is None
        super().__init__(data, **kwargs)

    def clean(self) -> dict[str, Any]:
        if self.lost_reference:
            self.errors.pop("vector", None)
            self.add_error("vector", LOST_REFERENCE_MESSAGE)
        cleaned = super().clean()
        column, text = cleaned.get("column"), cleaned.get("vector")
        if column is None or text is None:
            return cleaned
        try:
            cleaned["vector"] = column.parse(text)
        except VectorError as error:
            self.add_error("vector", forms.ValidationError(str(error), code="invalid_vector"))
            return cleaned
        stored = stored_dimensions(column)
        if column.dimensions is None and stored is not None and len(cleaned["vector"]) != stored:
            # pgvector would refuse the comparison ("different vector dimensions").
            given = len(cleaned["vector"])
            message = (
                f"expected {stored} dimensions, not {given}: the stored vectors have {stored}."
            )
            self.add_error("vector", forms.ValidationError(message, code="invalid_vector"))
            return cleaned
        metric = cleaned.get("metric")
        if isinstance(metric, Metric) and column.undefined_for(cleaned["vector"], metric):
            self.add_error("vector", forms.ValidationError(ZERO_VECTOR_MESSAGE, code="zero_vector"))
        return cleaned
