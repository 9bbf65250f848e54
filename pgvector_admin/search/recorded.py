"""One search statement run as the pages show it: with its settings in force, the SQL
exactly as PostgreSQL received it, its plan and the settings read back from the server,
in a transaction rolled back afterwards (``SET LOCAL`` lasts only inside one)."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import psycopg
from django.db import connections, transaction
from django.db.models import QuerySet

from pgvector_admin.conf import app_settings
from pgvector_admin.db.local_settings import set_local_and_read
from pgvector_admin.search.scan_settings import REPORTED_SETTINGS
from pgvector_admin.search.table_state import catalogue_of, catalogue_stamp_sql


class StaleCatalogue(Exception):
    """The table's indexes or saved settings changed since the facts a search was built
    from were kept: nothing was run, the search must be built again."""


def run_recorded(
    queryset: QuerySet[Any],
    settings: dict[str, str],
    reported: Iterable[str] = REPORTED_SETTINGS["hnsw"],
    *,
    analyze: bool = False,
    expect: tuple[str, tuple[Any, ...]] | None = None,
) -> tuple[list[Any], str, str, dict[str, str]]:
    """Evaluate ``queryset`` with ``settings`` in a transaction that is rolled back after.

    Returns the rows, the SQL exactly as PostgreSQL received it, its plan (``EXPLAIN``
    under the same settings: planning only, it is not run twice; with ``analyze``, run
    again to count what each step read) and the settings in force when it ran (read
    back from the server).

    ``expect`` is a table and the catalogue stamp the search was built under
    (``StampedCache.kept``): read in the statement that sets the settings, and should
    it differ, ``StaleCatalogue`` is raised before the query runs. A kept catalogue so
    costs no statement of its own.
    """
    # The database the queryset reads from: a replica, when the request reads from one.
    db = queryset.db
    connection = connections[db]
    explain = "EXPLAIN (ANALYZE, TIMING OFF) " if analyze else "EXPLAIN "
    recorder = _SqlRecorder(connection, explain)
    also = (catalogue_stamp_sql(), [expect[0]]) if expect is not None else ("", ())
    with transaction.atomic(using=db):
        with connection.cursor() as cursor, connection.execute_wrapper(_with_begin):
            in_force, stamp = set_local_and_read(cursor, settings, reported, also=also)
        if expect is not None and catalogue_of(stamp) != expect[1]:
            raise StaleCatalogue(expect[0])  # the transaction is rolled back
        with connection.execute_wrapper(recorder):
            # A fresh clone each time: a queryset caches its rows once evaluated.
            rows = list(queryset.all())
        # Reads only: rolling back just ends the SET LOCAL settings with the transaction.
        transaction.set_rollback(True, using=db)
    return rows, recorder.sql, recorder.plan, in_force


class _SqlRecorder:
    """An execute wrapper for a queryset's statement: keeps it as PostgreSQL received it
    (parameters inlined) and its plan, ``explain`` (``EXPLAIN …``) run with the same
    parameters in the same round trip (psycopg's pipeline mode) where the driver can."""

    sql = ""
    plan = ""

    def __init__(self, connection: Any, explain: str) -> None:
        self.connection = connection
        self.explain = explain
        self.done = False

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.done:  # the plan's own statement, or any other: run as they come
            return execute(sql, params, many, context)
        self.done = True
        pipeline = _pipeline(self.connection)
        # The plan through Django's cursor, so that it is recorded (the debug toolbar)
        # as any statement; the query's own round trip waits for both answers, so that
        # its recorded time is the time its rows took.
        with self.connection.cursor() as cursor:
            with self.connection.wrap_database_errors, pipeline:
                result = execute(sql, params, many, context)
                cursor.execute(self.explain + sql, params)
            self.plan = "\n".join(line for (line,) in cursor.fetchall())
        self.sql = self.connection.ops.last_executed_query(context["cursor"], sql, params)
        return result


def _with_begin(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    """An execute wrapper for a transaction's first statement: sent in the same round
    trip as the BEGIN that the driver sends before it."""
    connection = context["connection"]
    with connection.wrap_database_errors, _pipeline(connection):
        return execute(sql, params, many, context)


def _pipeline(connection: Any) -> AbstractContextManager[Any]:
    """psycopg's pipeline mode on ``connection`` (statements sent together, answered in
    one round trip), or nothing where the driver has none or ``PIPELINE_MODE`` is off."""
    driver = connection.connection
    pipeline = getattr(driver, "pipeline", None)
    if not app_settings.PIPELINE_MODE or pipeline is None or not psycopg.Pipeline.is_supported():
        return nullcontext()
    return pipeline()
