"""One index, looked up by name in PostgreSQL's system tables: its definition, storage
options, size and state. The index page, builds and rebuilds all read it here."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections


@dataclass(frozen=True)
class IndexRow:
    """What PostgreSQL says of an index."""

    name: str
    # PostgreSQL's own CREATE INDEX statement of it.
    definition: str
    # Its storage parameters (m, ef_construction, lists).
    options: dict[str, str]
    size_bytes: int
    # False after a failed or cancelled CONCURRENTLY build: it serves no query.
    valid: bool
    ready: bool


def index_row(name: str, *, using: str = "default") -> IndexRow | None:
    """The index ``name`` visible on the search path, or None when there is none."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(c.oid), c.reloptions, pg_relation_size(c.oid), "
            "i.indisvalid, i.indisready "
            "FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
            "WHERE c.relname = %s AND pg_catalog.pg_table_is_visible(c.oid)",
            [name],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    definition, options, size, valid, ready = row
    return IndexRow(
        name=name,
        definition=definition,
        options=dict(option.split("=", 1) for option in options or []),
        size_bytes=int(size),
        valid=bool(valid),
        ready=bool(ready),
    )
