"""A dense vector known by its parts: what a table cell shows of it, read from
PostgreSQL instead of the vector.

A cell shows a long vector by its first values, its last, its length and its norm.
Reading the whole vector for that is most of a list of embeddings' cost: 100 rows of
768-d vectors are 600 KB of text that PostgreSQL writes and Python parses (about
0.2 ms a vector), for 9 numbers a row. ``with_parts`` asks PostgreSQL for those numbers
(``subvector``, ``vector_dims`` and the norm: two small arrays a row) and leaves the
vector unread. The changelist (``pgvector_admin.admin.list_vectors``) and the results
pages (``pgvector_admin.search.searches.nearest`` with ``cells_only``) use it.
``sparsevec`` and ``bit`` columns, and vectors of at most ``SHORT_MAX_ITEMS``
dimensions, are read whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db.models import F, FloatField, Func, QuerySet

from pgvector_admin.vectors.fields import HALFVEC, SHORT_MAX_ITEMS, VECTOR, VectorColumn

# The attributes of a listed row that hold a vector's parts.
MEASURES_PREFIX = "_pgvector_admin_measures_"
ENDS_PREFIX = "_pgvector_admin_ends_"
# Each dense type's norm function in pgvector.
_NORM_FUNCTION = {VECTOR.name: "vector_norm", HALFVEC.name: "l2_norm"}


class _Measures(Func):
    """``ARRAY[length, norm]`` of a dense vector, as float8 (NULLs: no vector)."""

    output_field = ArrayField(FloatField())

    def __init__(self, column: VectorColumn) -> None:
        norm = _NORM_FUNCTION[column.type.name]
        self.template = f"ARRAY[vector_dims(%(expressions)s)::float8, {norm}(%(expressions)s)]"
        super().__init__(F(column.name))


class _Ends(Func):
    """A dense vector's first ``SHORT_MAX_ITEMS`` values and its last, as ``real[]``:
    read as the whole vector's text is read, so the cells round as they did."""

    output_field = ArrayField(FloatField())
    # pgvector's subvector() stops at the vector's end: a short vector gives all of it.
    template = (
        f"(subvector(%(expressions)s, 1, {SHORT_MAX_ITEMS})::real[]"
        " || subvector(%(expressions)s, vector_dims(%(expressions)s), 1)::real[])"
    )

    def __init__(self, column: VectorColumn) -> None:
        super().__init__(F(column.name))


def read_in_parts(columns: Iterable[VectorColumn]) -> list[VectorColumn]:
    """The columns whose list cells are made from their parts: dense types that may be
    longer than a cell shows whole (a 3-d vector is cheaper read as it is)."""
    return [
        column
        for column in columns
        if column.type.name in _NORM_FUNCTION
        and (column.dimensions is None or column.dimensions > SHORT_MAX_ITEMS)
    ]


def with_parts(queryset: QuerySet[Any], columns: Sequence[VectorColumn]) -> QuerySet[Any]:
    """``queryset`` with ``columns`` left unread and their parts read instead."""
    if not columns:
        return queryset
    parts: dict[str, Func] = {}
    for column in columns:
        parts[MEASURES_PREFIX + column.name] = _Measures(column)
        parts[ENDS_PREFIX + column.name] = _Ends(column)
    return queryset.defer(*(column.name for column in columns)).annotate(**parts)


def short_from_parts(column: VectorColumn, row: Any) -> str | None:
    """The cell ``column.short()`` gives, from a listed row's parts (None: no vector)."""
    dimensions, magnitude = getattr(row, MEASURES_PREFIX + column.name)
    if dimensions is None:
        return None
    *first, last = getattr(row, ENDS_PREFIX + column.name)
    return column.type.short_of_parts(int(dimensions), magnitude, first, last)


def norm_from_parts(column: VectorColumn, row: Any) -> float | None:
    """A listed row's vector's norm, from its parts (None: no vector)."""
    return getattr(row, MEASURES_PREFIX + column.name)[1]


def has_parts(column: VectorColumn, row: Any) -> bool:
    """Whether ``row`` was listed with ``column``'s parts instead of its vector."""
    return hasattr(row, MEASURES_PREFIX + column.name)
