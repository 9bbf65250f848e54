"""The query forms of the search and similar pages (the parameters of their address),
for any model's vector fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pgvector_admin.embedders.base import EmbedderError
from pgvector_admin.embedders.fields import TextEmbedding
from pgvector_admin.embedders.queries import embed_query
from pgvector_admin.search.catalogue import stored_dimensions
from pgvector_admin.search.hybrid import DEFAULT_RRF_K, Fusion
from pgvector_admin.search.keywords import ALL_WORDS, ANY_WORD, KeywordIndex
from pgvector_admin.search.limits import MAX_K
from pgvector_admin.search.query_vectors import REF_PARAM, TEXT_REF_PARAM, recall
from pgvector_admin.vectors.fields import VectorColumn
from pgvector_admin.vectors.metrics import Metric
from pgvector_admin.vectors.parsing import VectorError

DEFAULT_K = 10

ZERO_VECTOR_MESSAGE = gettext_lazy(
    "The cosine distance to a zero vector is undefined: use a vector with a non-zero "
    "number, or pick another metric."
)


LOST_REFERENCE_MESSAGE = gettext_lazy(
    "This address refers to a query vector that is not kept here (another database?): "
    "paste the vector again."
)


class NeighboursForm(forms.Form):
    """Which vector field (when the model has several), how many neighbours, by which
    metric, exact or through the index. ``cleaned_data`` holds the ``column`` and the
    ``metric`` objects."""

    field_order = ["field", "k", "metric", "max_distance", "exact", "recall"]

    field = forms.ChoiceField(label=gettext_lazy("Field"), required=False)
    k = forms.IntegerField(
        label="k",
        min_value=1,
        max_value=MAX_K,
        initial=DEFAULT_K,
        required=False,
        help_text=format_lazy(gettext_lazy("How many rows, 1 to {most}."), most=MAX_K),
        widget=forms.NumberInput(attrs={"size": 5}),
    )
    metric = forms.ChoiceField(label=gettext_lazy("Metric"), required=False)
    exact = forms.BooleanField(
        label=gettext_lazy("exact (no index)"),
        required=False,
        help_text=gettext_lazy("Read every row and sort."),
    )
    recall = forms.BooleanField(
        label=gettext_lazy("measure recall"),
        required=False,
        help_text=gettext_lazy("Compare with the exact answer."),
    )
    max_distance = forms.FloatField(
        label=gettext_lazy("within"),
        required=False,
        help_text=format_lazy(
            gettext_lazy(
                "Only rows at most this distance away (for inner product: at least this "
                "product), nearest first, up to k (at most {most})."
            ),
            most=MAX_K,
        ),
        widget=forms.NumberInput(
            attrs={"size": 8, "step": "any", "placeholder": gettext_lazy("distance")}
        ),
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


def _weight(label: Any) -> forms.FloatField:
    """A ranking's weight in the fusion."""
    return forms.FloatField(
        label=label,
        required=False,
        min_value=0,
        max_value=100,
        initial=1.0,
        widget=forms.NumberInput(attrs={"size": 4, "step": "any"}),
    )


class VectorSearchForm(NeighboursForm):
    """A query vector, or a text (where the field has an embedder: the text's
    embedding is the query vector), plus the neighbour options; where the table has a
    full-text index too, the mode (vector, keyword or hybrid) and the fusion's
    constants."""

    field_order = [
        "text",
        "vector",
        "mode",
        "match",
        "field",
        "k",
        "metric",
        "max_distance",
        "exact",
        "recall",
        "keyword_weight",
        "vector_weight",
        "rrf_k",
    ]

    vector = forms.CharField(
        label=gettext_lazy("Query vector"),
        max_length=500_000,
        widget=forms.TextInput(attrs={"placeholder": "[3, 1, 2]", "size": 40}),
    )
    text = forms.CharField(
        label=gettext_lazy("Text"),
        required=False,
        strip=False,
        widget=forms.TextInput(
            attrs={
                "placeholder": gettext_lazy("pause the program for a few seconds"),
                "size": 50,
            }
        ),
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("ranked by"),
        required=False,
        choices=[
            ("vector", gettext_lazy("vector")),
            ("keyword", gettext_lazy("keyword (full-text index)")),
            ("hybrid", gettext_lazy("hybrid (both, fused)")),
        ],
    )
    match = forms.ChoiceField(
        label=gettext_lazy("keywords"),
        required=False,
        choices=[
            (ALL_WORDS, gettext_lazy("every word (web search syntax)")),
            (ANY_WORD, gettext_lazy("any word")),
        ],
        help_text=gettext_lazy('Every word: "quoted phrases", or, -word as in a web search box.'),
    )
    keyword_weight = _weight(gettext_lazy("keyword weight"))
    vector_weight = _weight(gettext_lazy("vector weight"))
    rrf_k = forms.IntegerField(
        label="RRF k",
        required=False,
        min_value=1,
        max_value=10_000,
        initial=DEFAULT_RRF_K,
        help_text=gettext_lazy(
            "Reciprocal rank fusion: a row scores weight / (RRF k + rank) in each ranking."
        ),
        widget=forms.NumberInput(attrs={"size": 4}),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        embeddings: dict[str, TextEmbedding] | None = None,
        keyword_index: KeywordIndex | None = None,
        **kwargs: Any,
    ) -> None:
        # A long vector or text arrives by reference (pgvector_admin.search.query_vectors).
        self.lost_reference = False
        if data is not None:
            for ref, name in ((REF_PARAM, "vector"), (TEXT_REF_PARAM, "text")):
                if data.get(ref) and not data.get(name):
                    kept = recall(data[ref])
                    data = data.copy()
                    data[name] = kept or ""
                    self.lost_reference = self.lost_reference or kept is None
        self.embeddings = embeddings or {}
        self.keyword_index = keyword_index if self.embeddings else None
        super().__init__(data, **kwargs)
        if self.embeddings:
            self.fields["vector"].required = False
        else:
            del self.fields["text"]
        if self.keyword_index is None:
            for name in ("mode", "match", "keyword_weight", "vector_weight", "rrf_k"):
                del self.fields[name]
        elif self.is_bound:
            # As the neighbour options: missing ones take their defaults, shown.
            self.data = self.data.copy()
            for name, value in _RANKED_DEFAULTS.items():
                if not self.data.get(name):
                    self.data[name] = value

    def clean(self) -> dict[str, Any]:
        if self.lost_reference:
            self.errors.pop("vector", None)
            self.add_error(None, LOST_REFERENCE_MESSAGE)
        cleaned = super().clean()
        cleaned["mode"] = cleaned.get("mode") or "vector"
        column = cleaned.get("column")
        if column is None:
            return cleaned
        text, vector_text = cleaned.get("text") or "", cleaned.get("vector") or ""
        if text and vector_text:
            self.add_error(None, _("Search with a query vector or with text, not both."))
            return cleaned
        if cleaned["mode"] != "vector":
            self._clean_ranked_options(cleaned, text)
        if text or (self.embeddings and not vector_text and "vector" not in self.errors):
            self._clean_text(cleaned, column, text)
            return cleaned
        if "vector" not in cleaned or not vector_text:
            return cleaned
        try:
            cleaned["vector"] = column.parse(vector_text)
        except VectorError as error:
            self.add_error("vector", forms.ValidationError(str(error), code="invalid_vector"))
            return cleaned
        self._check_vector(cleaned, column)
        return cleaned

    def _clean_text(self, cleaned: dict[str, Any], column: VectorColumn, text: str) -> None:
        """The text's embedding becomes the query vector."""
        embedding = self.embeddings.get(column.name)
        if embedding is None:
            fields = ", ".join(self.embeddings)
            self.add_error(
                "text",
                forms.ValidationError(
                    _(
                        "%(field)s has no embedder to turn text into a vector: search it "
                        "with a vector, or search %(fields)s by text."
                    )
                    % {"field": column.label, "fields": fields},
                    code="no_embedder",
                ),
            )
            return
        if not text:
            message = _("Type some text to search for (or paste a query vector).")
            self.add_error("text", forms.ValidationError(message, code="invalid_text"))
            return
        # embed_query refuses a text that is no query (blank, too long) with its reason.
        try:
            vector, record = embed_query(embedding.embedder, text)
        except EmbedderError as error:
            self.add_error("text", forms.ValidationError(str(error), code="embedder_failed"))
            return
        cleaned["vector"] = vector
        cleaned["query_embedding"] = record
        self._check_vector(cleaned, column)

    def _clean_ranked_options(self, cleaned: dict[str, Any], text: str) -> None:
        """Keyword and hybrid searches rank rows for a text; a distance bound is a
        vector search's."""
        if not text:
            self.add_error(
                "text",
                forms.ValidationError(
                    _("Searching by keyword needs text.")
                    if cleaned["mode"] == "keyword"
                    else _("Searching by hybrid needs text."),
                    code="text_needed",
                ),
            )
        if cleaned.get("max_distance") is not None:
            self.add_error(
                "max_distance",
                forms.ValidationError(
                    _(
                        "A distance bound applies to vector search only: rank by vector, "
                        "or leave it empty."
                    ),
                    code="bound_with_ranks",
                ),
            )
        cleaned["match"] = cleaned.get("match") or ALL_WORDS
        cleaned["fusion"] = Fusion(
            rrf_k=cleaned.get("rrf_k") or DEFAULT_RRF_K,
            keyword_weight=_or_one(cleaned.get("keyword_weight")),
            vector_weight=_or_one(cleaned.get("vector_weight")),
        )

    def _check_vector(self, cleaned: dict[str, Any], column: VectorColumn) -> None:
        stored = stored_dimensions(column)
        if column.dimensions is None and stored is not None and len(cleaned["vector"]) != stored:
            # pgvector would refuse the comparison ("different vector dimensions").
            given = len(cleaned["vector"])
            message = _(
                "expected %(stored)s dimensions, not %(given)s: the stored vectors have %(stored)s."
            ) % {"stored": stored, "given": given}
            self.add_error("vector", forms.ValidationError(message, code="invalid_vector"))
            return
        metric = cleaned.get("metric")
        if isinstance(metric, Metric) and column.undefined_for(cleaned["vector"], metric):
            self.add_error("vector", forms.ValidationError(ZERO_VECTOR_MESSAGE, code="zero_vector"))


_RANKED_DEFAULTS = {
    "mode": "vector",
    "match": ALL_WORDS,
    "keyword_weight": "1",
    "vector_weight": "1",
    "rrf_k": str(DEFAULT_RRF_K),
}


def _or_one(weight: float | None) -> float:
    return 1.0 if weight is None else weight
