"""What the database says of a table's vector indexes and a column's values: read from
PostgreSQL's system tables, nothing else."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connections

from pgvector_admin.indexes.shapes import IndexShape, shape_of
from pgvector_admin.vectors.fields import VectorColumn

_LISTS = re.compile(r"lists\s*=\s*'?(\d+)")


@dataclass(frozen=True)
class VectorIndex:
    """An index on a vector column, as the database describes it."""

    name: str
    method: str
    opclass: str
    definition: str
    # The indexed column, or expression, as PostgreSQL writes it in the definition.
    key: str = ""
    # A partial index's WHERE condition.
    predicate: str | None = None

    @property
    def shape(self) -> IndexShape | None:
        """How the key relates to a column (itself, a cast, a binary quantization)."""
        return shape_of(self.key)

    @property
    def lists(self) -> int | None:
        """An IVFFlat index's number of lists (from its definition)."""
        match = _LISTS.search(self.definition)
        return int(match.group(1)) if match else None


def vector_indexes(table: str, *, using: str = "default") -> list[VectorIndex]:
    """The vector indexes (HNSW, IVFFlat) on ``table``, read from PostgreSQL's system tables."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT idx.relname, am.amname, opc.opcname, pg_get_indexdef(idx.oid),
                   pg_get_indexdef(idx.oid, 1, true), pg_get_expr(i.indpred, i.indrelid)
            FROM pg_index i
            JOIN pg_class idx ON idx.oid = i.indexrelid
            JOIN pg_am am ON am.oid = idx.relam
            JOIN pg_opclass opc ON opc.oid = i.indclass[0]
            WHERE i.indrelid = to_regclass(%s) AND am.amname IN ('hnsw', 'ivfflat')
            ORDER BY idx.relname
            """,
            [table],
        )
        return [VectorIndex(*row) for row in cursor.fetchall()]


def column_indexes(column: VectorColumn, *, using: str = "default") -> list[VectorIndex]:
    """The vector indexes on ``column``: on the column itself or on an expression of it
    (a cast to halfvec, a binary quantization), partial ones included."""
    return [
        index
        for index in vector_indexes(column.table, using=using)
        if index.shape is not None and index.shape.column == column.column
    ]


def stored_dimensions(column: VectorColumn) -> int | None:
    """The dimension count of the values stored in ``column``: its declared one, else
    that of a stored value (a column declared without one may hold any), else None."""
    if column.dimensions is not None:
        return column.dimensions
    value = (
        column.model._default_manager.exclude(**{f"{column.name}__isnull": True})
        .values_list(column.name, flat=True)
        .first()
    )
    return None if value is None else column.type.length(value)


def index_named(table: str, name: str, *, using: str = "default") -> VectorIndex | None:
    """The vector index ``name`` on ``table``, if there is one."""
    return next((index for index in vector_indexes(table, using=using) if index.name == name), None)
