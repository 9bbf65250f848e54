"""The query of a search: every distance annotated, ordered the way an index serves."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet, Value
from pgvector import HalfVector, SparseVector, Vector

from pgvector_admin.search.catalogue import VectorIndex
from pgvector_admin.search.index_choice import rerank_candidates
from pgvector_admin.search.limits import MAX_K
from pgvector_admin.vectors.fields import VectorColumn, vector_columns
from pgvector_admin.vectors.metrics import BIT_METRICS, Metric


def distance_queryset(
    *,
    column: VectorColumn,
    vector: Any,
    metric: Metric,
    exclude_id: Any = None,
    index: VectorIndex | None = None,
    k: int | None = None,
    within: QuerySet[Any] | None = None,
    vectorless: bool = False,
) -> QuerySet[Any]:
    """Rows (of ``within``, a filtered queryset of the model, else all) with every
    distance to ``vector`` annotated, nearest first by ``metric``.

    Ordered by the metric's own operator, ascending: the only shape an index can serve.
    Given an ``index`` on an expression of the column, ordered the way that index
    serves: by the distance between the cast values, or among the candidates nearest by
    the Hamming distance of the binary-quantized values (``k`` of them asked for). The
    model's other vector fields are left unread: they can be large. Rows without a
    vector (a nullable field's, not embedded yet) are left out unless ``vectorless``.
    """
    # The query vector written as pgvector's text once, not once a distance (768
    # numbers formatted four times cost 3 ms a search).
    query = _query_value(column, vector)
    annotations = {m.column: m.function(column.name, query) for m in column.metrics}
    others = [other.name for other in vector_columns(column.model) if other.name != column.name]
    rows = column.model._default_manager.all() if within is None else within.all()
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    if not vectorless and column.model._meta.get_field(column.name).null:
        rows = rows.filter(**{f"{column.name}__isnull": False})
    shape = index.shape if index is not None else None
    if shape is None or shape.is_plain:
        return rows.annotate(**annotations).defer(*others).order_by(metric.column)
    if shape.quantized:
        bits_metric = next(m for m in BIT_METRICS if index.opclass == m.opclass("bit"))
        candidates = rows.order_by(shape.order_expression(column.name, bits_metric, vector))
        wanted = rerank_candidates(k or MAX_K)
        nearest_bits = candidates.values("pk")[:wanted]
        return (
            column.model._default_manager.filter(pk__in=nearest_bits)
            .annotate(**annotations)
            .defer(*others)
            .order_by(metric.column)
        )
    return (
        rows.annotate(
            **annotations, index_distance=shape.order_expression(column.name, metric, vector)
        )
        .defer(*others)
        .order_by("index_distance")
    )


def _query_value(column: VectorColumn, vector: Any) -> Any:
    """``vector`` as the SQL value pgvector-python's distance functions make of it (its
    text), made once for all of them; a bit string or an expression as it is."""
    if hasattr(vector, "resolve_expression") or column.type.name == "bit" or vector is None:
        return vector
    if isinstance(vector, (Vector, HalfVector, SparseVector)):
        return Value(vector.to_text())
    return Value(Vector(vector).to_text())
