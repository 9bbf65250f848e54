"""The query forms of the search and similar pages (GET parameters)."""

from __future__ import annotations

from typing import Any

from django import forms

from catalog.metrics import COSINE, DEFAULT_METRIC, METRICS, Metric
from catalog.models import Item
from catalog.selectors import MAX_K
from catalog.vectors import VectorError, norm, parse_vector

DEFAULT_K = 10
METRIC_CHOICES = [(metric.name, metric.label) for metric in METRICS.values()]


def embedding_dimensions() -> int:
    """How many numbers an Item's embedding has (from the model field)."""
    return Item._meta.get_field("embedding").dimensions


class NeighborsForm(forms.Form):
    """How many neighbours, by which metric, exact or through the index."""

    k = forms.IntegerField(
        label="k",
        min_value=1,
        max_value=MAX_K,
        initial=DEFAULT_K,
        required=False,
        help_text=f"How many rows, 1 to {MAX_K}.",
        widget=forms.NumberInput(attrs={"size": 5}),
    )
    metric = forms.ChoiceField(choices=METRIC_CHOICES, initial=DEFAULT_METRIC.name, required=False)
    exact = forms.BooleanField(
        label="exact (no index)", required=False, help_text="Read every row and sort."
    )
    recall = forms.BooleanField(
        label="measure recall", required=False, help_text="Compare with the exact answer."
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        if data is not None:
            # Missing options take their defaults, and the page shows them.
            data = data.copy()
            for name in ("k", "metric"):
                if not data.get(name):
                    data[name] = self.base_fields[name].initial
        super().__init__(data, **kwargs)

    def clean_k(self) -> int:
        k = self.cleaned_data.get("k")
        return DEFAULT_K if k is None else k

    def clean_metric(self) -> Metric:
        return METRICS[self.cleaned_data.get("metric") or DEFAULT_METRIC.name]


class VectorSearchForm(NeighborsForm):
    """A query vector plus the neighbour options."""

    field_order = ["vector", "k", "metric", "exact", "recall"]

    vector = forms.CharField(
        label="Query vector",
        max_length=100_000,
        widget=forms.TextInput(attrs={"placeholder": "[3, 1, 2]", "size": 40}),
    )

    def clean_vector(self) -> list[float]:
        try:
            return parse_vector(self.cleaned_data["vector"], dimensions=embedding_dimensions())
        except VectorError as error:
            raise forms.ValidationError(str(error), code="invalid_vector") from error

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        vector, metric = cleaned.get("vector"), cleaned.get("metric")
        if vector is not None and metric is not None and cosine_undefined(vector, metric):
            self.add_error("vector", forms.ValidationError(ZERO_VECTOR_MESSAGE, code="zero_vector"))
        return cleaned


ZERO_VECTOR_MESSAGE = (
    "The cosine distance to a zero vector is undefined: use a vector with a non-zero "
    "number, or pick another metric."
)


def cosine_undefined(vector: list[float], metric: Metric) -> bool:
    """Cosine distance to the zero vector is NaN in pgvector: refuse such a query."""
    return metric is COSINE and norm(vector) == 0
