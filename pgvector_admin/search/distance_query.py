"""The query of a search: every distance annotated, ordered the way an index serves."""

from __future__ import annotations

from typing import Any

from django.db.models import Expression, QuerySet, Value
from pgvector import HalfVector, SparseVector, Vector

from pgvector_admin.search.catalogue import VectorIndex
from pgvector_admin.search.index_choice import rerank_candidates
from pgvector_admin.search.limits import MAX_K
from pgvector_admin.vectors.fields import VectorColumn, vector_columns
from pgvector_admin.vectors.metrics import BIT_METRICS, Metric
from pgvector_admin.vectors.parsing import query_text


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
    # numbers formatted four times cost 3 ms a search)...
    query = _query_value(column, vector)

    def with_distances(rows: QuerySet[Any], **more: Any) -> QuerySet[Any]:
        value = query
        if isinstance(query, Value):
            # ...and sent once: every distance refers to it (a 768-d statement with its
            # vector four times took PostgreSQL 0.5 ms more to read, and its plan as much).
            value = _with_query_vector(rows, query.value, column.type.name)
        distances = {m.column: m.function(column.name, value) for m in column.metrics}
        return rows.annotate(**distances, **more).defer(*others)

    others = [other.name for other in vector_columns(column.model) if other.name != column.name]
    rows = column.model._default_manager.all() if within is None else within.all()
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    if not vectorless and column.model._meta.get_field(column.name).null:
        rows = rows.filter(**{f"{column.name}__isnull": False})
    shape = index.shape if index is not None else None
    if shape is None or shape.is_plain:
        return with_distances(rows).order_by(metric.column)
    if shape.quantized:
        bits_metric = next(m for m in BIT_METRICS if index.opclass == m.opclass("bit"))
        candidates = rows.order_by(shape.order_expression(column.name, bits_metric, vector))
        wanted = rerank_candidates(k or MAX_K)
        nearest_bits = candidates.values("pk")[:wanted]
        return with_distances(column.model._default_manager.filter(pk__in=nearest_bits)).order_by(
            metric.column
        )
    return with_distances(
        rows, index_distance=shape.order_expression(column.name, metric, vector)
    ).order_by("index_distance")


def _query_value(column: VectorColumn, vector: Any) -> Any:
    """``vector`` as the SQL value pgvector-python's distance functions make of it (its
    text), made once for all of them; a bit string or an expression as it is."""
    if hasattr(vector, "resolve_expression") or column.type.name == "bit" or vector is None:
        return vector
    if isinstance(vector, (Vector, HalfVector, SparseVector)):
        return Value(vector.to_text())
    return Value(query_text(vector))


# The query vector's place in a search's FROM: a table of one row and one column.
QUERY_VECTOR_ALIAS = "pgvector_admin_query"


class _QueryVectorTable:
    """``CROSS JOIN (SELECT '[…]'::vector AS v) AS pgvector_admin_query``: the query
    vector in a search's FROM, written once for all the distances that refer to it.
    PostgreSQL folds it into the statement as a constant, so the plan (and the index
    scan) is the one the literal itself would get. An entry of Django's
    ``Query.alias_map``, as its ``BaseTable`` and ``Join`` are."""

    # What Django's Query.join() reads of an entry (as of its BaseTable).
    join_type = None
    parent_alias = None
    filtered_relation = None

    def __init__(self, text: str, type_name: str) -> None:
        self.text = text
        self.type_name = type_name
        self.table_name = self.table_alias = QUERY_VECTOR_ALIAS

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        alias = connection.ops.quote_name(self.table_alias)
        return f"CROSS JOIN (SELECT %s::{self.type_name} AS v) AS {alias}", [self.text]

    def relabeled_clone(self, change_map: dict[str, str]) -> _QueryVectorTable:
        clone = _QueryVectorTable(self.text, self.type_name)
        clone.table_alias = change_map.get(self.table_alias, self.table_alias)
        return clone

    @property
    def identity(self) -> tuple[Any, ...]:
        return (self.__class__, self.text, self.type_name, self.table_alias)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _QueryVectorTable) and self.identity == other.identity

    def __hash__(self) -> int:
        return hash(self.identity)


class _QueryVector(Expression):
    """The query vector's column in a search's FROM (``_QueryVectorTable``)."""

    def __init__(self, alias: str) -> None:
        super().__init__()
        self.alias = alias

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return f"{connection.ops.quote_name(self.alias)}.v", []

    def relabeled_clone(self, change_map: dict[str, str]) -> _QueryVector:
        return _QueryVector(change_map.get(self.alias, self.alias))

    @property
    def identity(self) -> tuple[Any, ...]:
        return (self.__class__, self.alias)


def _with_query_vector(rows: QuerySet[Any], text: str, type_name: str) -> _QueryVector:
    """Add the query vector (pgvector's ``text``) to ``rows``' FROM (in place: ``rows``
    is the search's own clone); the expression that refers to it."""
    query = rows.query
    query.get_initial_alias()  # the model's table first: Django takes the first as the base
    return _QueryVector(query.join(_QueryVectorTable(text, type_name)))
