"""One search statement run as the pages show it: with its settings in force, the SQL
exactly as PostgreSQL received it, its plan and the settings read back from the server,
in a transaction rolled back afterwards (``SET LOCAL`` lasts only inside one)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connections
from django.db.models import QuerySet

from pgvector_admin.db.local_settings import local_settings
from pgvector_admin.db.pipeline import pipeline
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
    explain = "EXPLAIN (ANALYZE, TIMING OFF) " if analyze else "EXPLAIN "
    recorder = _SqlRecorder(connections[db], explain)

    def check(stamp: tuple[Any, ...]) -> None:
        if expect is not None and catalogue_of(stamp) != expect[1]:
            raise StaleCatalogue(expect[0])

    also = (catalogue_stamp_sql(), [expect[0]]) if expect is not None else ("", ())
    in_settings = local_settings(settings, using=db, read=reported, also=also, check=check)
    with in_settings as (_, in_force), connections[db].execute_wrapper(recorder):
        # A fresh clone each time: a queryset caches its rows once evaluated.
        rows = list(queryset.all())
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
        # The plan through Django's cursor, so that it is recorded (the debug toolbar)
        # as any statement; the query's own round trip waits for both answers, so that
        # its recorded time is the time its rows took.
        with self.connection.cursor() as cursor:
            with self.connection.wrap_database_errors, pipeline(self.connection):
                result = execute(sql, params, many, context)
                cursor.execute(self.explain + sql, params)
            self.plan = "\n".join(line for (line,) in cursor.fetchall())
        self.sql = self.connection.ops.last_executed_query(context["cursor"], sql, params)
        return result
