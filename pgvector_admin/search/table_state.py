"""What the pages read about a table again and again, read once per process: its vector
indexes and the search settings saved for them (every search), and the warnings about
its indexes (every changelist).

Each cached value is checked, on each use, against the table's *stamp*: one cheap
statement that reads what those values are made from (the indexes' ids, names and
states, the saved settings, the table's statistics and ``maintenance_work_mem``). An
index built, dropped or renamed on the index page, in a worker or by hand, a setting
saved, a VACUUM or an ANALYZE: the stamp changes and the value is made again. Several
processes (the web server's workers) each keep their own and stay right, as nothing
is trusted without its stamp.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections

Value = TypeVar("Value")


@dataclass(frozen=True)
class TableStamp:
    """What a table's cached facts are made from, as the database has it now."""

    # The table's indexes (id, name, valid, ready, options) and the search settings
    # saved for them on the index page (id, value, when).
    catalogue: tuple[Any, ...]
    # The planner's rows and pages, the table's size now (the planner scales its rows
    # by it), dead row versions, last (auto)vacuum and (auto)analyze, and
    # maintenance_work_mem: what the health warnings are made from.
    statistics: tuple[Any, ...]


def _stamp_sql(*, statistics: bool = True) -> str:
    from pgvector_admin.models import SearchDefault

    saved = connections["default"].ops.quote_name(SearchDefault._meta.db_table)
    return f"""
        SELECT
          (SELECT coalesce(array_agg(concat_ws(' ', c.oid, c.relname, i.indisvalid,
                                               i.indisready, c.reloptions) ORDER BY c.oid),
                           '{{}}')
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = r.oid),
          (SELECT coalesce(array_agg(concat_ws(' ', d.id, d.index_name, d.setting_name,
                                               d.value, d.saved_at, d.saved_by_id)
                                     ORDER BY d.id), '{{}}')
             FROM {saved} d
            WHERE d.index_name IN (SELECT c.relname FROM pg_index i
                                     JOIN pg_class c ON c.oid = i.indexrelid
                                    WHERE i.indrelid = r.oid)),
          {_STATISTICS if statistics else "NULL"}
        FROM (SELECT to_regclass(%s) AS oid) r LEFT JOIN pg_class t ON t.oid = r.oid
    """


_STATISTICS = """
          t.reltuples, t.relpages, pg_relation_size(r.oid), pg_stat_get_dead_tuples(r.oid),
          pg_stat_get_last_vacuum_time(r.oid), pg_stat_get_last_autovacuum_time(r.oid),
          pg_stat_get_last_analyze_time(r.oid), pg_stat_get_last_autoanalyze_time(r.oid),
          current_setting('maintenance_work_mem')"""


def table_stamp(table: str, *, using: str = "default", statistics: bool = True) -> TableStamp:
    """``table``'s stamp on the database ``using``: one statement (without
    ``statistics``, its catalogue part alone, a little cheaper)."""
    with connections[using].cursor() as cursor:
        cursor.execute(_stamp_sql(statistics=statistics), [table])
        row = cursor.fetchone()
    return TableStamp(catalogue=(tuple(row[0]), tuple(row[1])), statistics=tuple(row[2:]))


class StampedCache:
    """Values made from a table's catalogue (or its statistics as well), kept while the
    table's stamp is the one they were made under."""

    def __init__(self) -> None:
        self._values: dict[Hashable, tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def get(
        self,
        table: str,
        key: Hashable,
        make: Callable[[], Value],
        *,
        using: str = "default",
        statistics: bool = False,
    ) -> Value:
        """The value ``make()`` gives for ``key`` on ``table``: the kept one while the
        table's catalogue (with ``statistics``, its statistics too) is unchanged."""
        stamp = table_stamp(table, using=using, statistics=statistics)
        checked = (stamp.catalogue, stamp.statistics) if statistics else stamp.catalogue
        where = (using, table, key)
        with self._lock:
            kept = self._values.get(where)
        if kept is not None and kept[0] == checked:
            return kept[1]
        value = make()
        with self._lock:
            self._values[where] = (checked, value)
        return value

    def clear(self) -> None:
        """Forget every value (the next use of each makes it again)."""
        with self._lock:
            self._values.clear()


table_cache = StampedCache()
