"""A uniform sample of a queryset's rows that does not read the whole table.

``TABLESAMPLE SYSTEM`` reads a share of the table's pages chosen at random, so a sample
of 20,000 rows costs the same at a million rows as at a hundred thousand. The share is
sized from the planner's estimate of the rows the queryset returns (its conditions
included), with a quarter more than needed and a ``LIMIT``: pages differ in how many
rows they hold. A small table (under 8 MB) is counted instead, and sampled row by row.
The histogram of distances and the pictures both read their rows
through here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connections
from django.db.models import QuerySet

# Up to this many heap pages (8 MB) rows are sampled one by one (BERNOULLI): SYSTEM
# picks whole pages and could pick none of a small table's few (long vectors live in
# TOAST, so a heap page holds many rows). BERNOULLI reads every page: cheap while few.
BERNOULLI_MAX_PAGES = 1000


@dataclass(frozen=True)
class SampleSql:
    """A queryset's SQL, reading a random share of its table, and what was asked."""

    sql: str
    params: tuple[Any, ...]
    # The planner's estimate of the rows the queryset returns without a sample.
    estimate: int
    # False when the queryset returns no more rows than asked for: all of them are read.
    sampled: bool


def sample_sql(queryset: QuerySet[Any], rows: int, *, repeatable: int | None = None) -> SampleSql:
    """``queryset``'s SQL, reading about ``rows`` of its rows chosen uniformly at random
    (every one when it holds no more), never more than ``rows``.

    ``repeatable`` seeds the choice (``REPEATABLE``): the same seed picks the same pages
    while the table is unchanged, so a picture does not jump between two reloads.
    """
    model = queryset.model
    connection = connections[queryset.db]
    table = connection.ops.quote_name(model._meta.db_table)
    sql, params = queryset.query.sql_with_params()
    small = table_pages(queryset.db, model._meta.db_table) < BERNOULLI_MAX_PAGES
    # A small table is counted (cheap, and right even before its first ANALYZE).
    estimate = queryset.count() if small else planner_rows(queryset.db, sql, params)
    sampled = estimate > rows
    if sampled:
        percent = min(100.0, 125.0 * rows / estimate)
        method = "BERNOULLI" if small else "SYSTEM"
        seed = f" REPEATABLE ({int(repeatable)})" if repeatable is not None else ""
        # The model's table is the first one the query reads (joins follow it).
        sql = sql.replace(
            f"FROM {table}", f"FROM {table} TABLESAMPLE {method} ({percent:.6f}){seed}", 1
        )
    return SampleSql(f"{sql} LIMIT {int(rows)}", tuple(params), estimate, sampled)


def fetch_sample(sample: SampleSql, using: str, *, binary: bool = False) -> list[tuple[Any, ...]]:
    """The sample's rows, through Django's cursor (logged as its queries are).

    ``binary``: PostgreSQL sends the values in binary, which psycopg reads in C: for
    20,000 rows of numbers and arrays, a third of the time of parsing their text. A
    type psycopg has no binary loader for (pgvector's own, ``bit``) comes as bytes, so
    leave it for text.
    """
    connection = connections[using]
    if not binary:
        with connection.cursor() as cursor:
            cursor.execute(sample.sql, sample.params)
            return cursor.fetchall()
    connection.ensure_connection()
    # Django's cursors bind parameters on the client (psycopg's ClientCursor), and such
    # a cursor cannot ask for binary results. So the parameters are bound here, as it
    # would bind them (the statement logged is the one run, and runs again as it is),
    # and the cursor is made a plain psycopg one, through connection.cursor() still:
    # whatever watches Django's cursors (the debug toolbar) sees the query.
    statement = connection.ops.compose_sql(sample.sql, sample.params)
    database = connection.connection
    factory = database.cursor_factory
    database.cursor_factory = psycopg.Cursor
    try:
        cursor = connection.cursor()
    finally:
        database.cursor_factory = factory
    with cursor:
        cursor.cursor.format = psycopg.pq.Format.BINARY
        cursor.execute(statement)
        return cursor.fetchall()


def planner_rows(using: str, sql: str, params: Any) -> int:
    """The rows PostgreSQL's planner expects ``sql`` to return (0 before any ANALYZE
    of an empty-looking table): an estimate, read without running the query."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def table_pages(using: str, table: str) -> int:
    """The table's heap pages now (its main fork's size, not the last ANALYZE's count)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_size(to_regclass(%s)) / current_setting('block_size')::int",
            [table],
        )
        row = cursor.fetchone()
    return int(row[0] or 0) if row else 0
