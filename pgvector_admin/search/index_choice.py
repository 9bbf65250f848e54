"""Which vector index can serve a search: the column's own index with the metric's
opclass, one on the column cast to another type, or one on its binary quantization
(candidates by Hamming distance, re-ranked exactly). Partial indexes serve only a
condition that implies their predicate."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext as _

from pgvector_admin.search.catalogue import VectorIndex, column_indexes, index_named
from pgvector_admin.search.limits import MAX_EF_SEARCH
from pgvector_admin.vectors.fields import VectorColumn, vector_columns
from pgvector_admin.vectors.metrics import BIT_METRICS, Metric

# How each kind of index serves a search, best first: the column's own index, then
# one on the column cast to another type (same metric, smaller values), then one on
# its binary quantization (candidates by Hamming distance, re-ranked exactly).
DIRECT, CAST, QUANTIZED = 0, 1, 2


# Candidates fetched through a binary-quantized index for each row asked for.
RERANK_FACTOR = 10


MIN_RERANK_CANDIDATES = 100


def index_for(
    column: VectorColumn, metric: Metric, indexes: list[VectorIndex] | None = None
) -> VectorIndex | None:
    """The index that can serve a search of the whole table by ``metric``: one on the
    column with the metric's opclass, else one on the column cast to another type with
    that type's opclass for the metric, else one on its binary quantization (a dense
    column searched by any metric, re-ranked). Partial indexes cover only some rows,
    so they serve no search of the whole table."""
    candidates = []
    for index in column_indexes(column) if indexes is None else indexes:
        kind = serves(index, column, metric)
        if kind is not None and index.predicate is None:
            candidates.append((kind, index.name, index))
    return min(candidates)[2] if candidates else None


def index_and_column(
    model: type[models.Model], name: str
) -> tuple[VectorIndex, VectorColumn | None]:
    """The vector index ``name`` on ``model``'s table, and the vector field it indexes
    (None: an expression of no field of the model). ``StopIteration`` if there is none."""
    index = index_named(model._meta.db_table, name)
    if index is None:
        raise StopIteration(name)
    column = next(
        (c for c in vector_columns(model) if index.shape and c.column == index.shape.column),
        None,
    )
    return index, column


def metrics_served(index: VectorIndex, column: VectorColumn) -> list[Metric]:
    """The metrics of ``column``'s type a search can use ``index`` for."""
    return [metric for metric in column.metrics if serves(index, column, metric) is not None]


def serves(index: VectorIndex, column: VectorColumn, metric: Metric) -> int | None:
    """How ``index`` serves a search of ``column`` by ``metric`` (``DIRECT``, ``CAST`` or
    ``QUANTIZED``, best first), or None when it cannot."""
    shape = index.shape
    if shape is None:
        return None
    if shape.is_plain:
        return DIRECT if index.opclass == column.type.opclass(metric) else None
    if shape.quantized:
        dense = column.type.name in {"vector", "halfvec"} and metric not in BIT_METRICS
        return QUANTIZED if dense and index.opclass.startswith("bit_") else None
    return CAST if index.opclass == metric.opclass(shape.cast_type or "") else None


def index_notes(
    column: VectorColumn,
    metric: Metric,
    indexes: list[VectorIndex],
    *,
    used: str | None = None,
    filtered: bool = False,
) -> list[str]:
    """What the page should say of partial indexes for ``metric`` the search did not
    use: a search of every row cannot, a condition only when it implies the predicate."""
    notes = []
    for index in indexes:
        if index.predicate is None or index.name == used:
            continue
        if serves(index, column, metric) is None:
            continue
        values = {"index": index.name, "predicate": index.predicate}
        notes.append(
            _(
                "The index %(index)s covers only the rows where %(predicate)s: the search's "
                "condition does not imply it."
            )
            % values
            if filtered
            else _(
                "The index %(index)s covers only the rows where %(predicate)s: a search over "
                "every row cannot use it."
            )
            % values
        )
    return notes


def rerank_candidates(k: int) -> int:
    """How many candidates a binary-quantized index is asked for, to re-rank to k."""
    return min(MAX_EF_SEARCH, max(MIN_RERANK_CANDIDATES, k * RERANK_FACTOR))
