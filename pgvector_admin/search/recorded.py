"""One search statement run as the pages show it: with its settings in force, the SQL
exactly as PostgreSQL received it, its plan and the settings read back from the server,
in a transaction rolled back afterwards (``SET LOCAL`` lasts only inside one)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connections, transaction
from django.db.models import QuerySet

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
    recorder = _SqlRecorder(connection)
    also = (catalogue_stamp_sql(), [expect[0]]) if expect is not None else ("", ())
    with transaction.atomic(using=db):
        with connection.cursor() as cursor:
            in_force, stamp = set_local_and_read(cursor, settings, reported, also=also)
            if expect is not None and catalogue_of(stamp) != expect[1]:
                raise StaleCatalogue(expect[0])  # the transaction is rolled back
            with connection.execute_wrapper(recorder):
                # A fresh clone each time: a queryset caches its rows once evaluated.
                rows = list(queryset.all())
            # The statement just run, planned again under the same settings.
            explain = "EXPLAIN (ANALYZE, TIMING OFF) " if analyze else "EXPLAIN "
            cursor.execute(explain + recorder.statement, recorder.params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
        # Reads only: rolling back just ends the SET LOCAL settings with the transaction.
        transaction.set_rollback(True, using=db)
    return rows, recorder.sql, plan, in_force


class _SqlRecorder:
    """An execute wrapper that keeps the last statement: with its parameters, and as
    PostgreSQL received it (parameters inlined)."""

    statement = ""
    params: Any = None
    sql = ""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        self.statement, self.params = sql, params
        self.sql = self.connection.ops.last_executed_query(context["cursor"], sql, params)
        return result
