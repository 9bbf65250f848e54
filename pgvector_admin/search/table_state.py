"""What the pages read about a table again and again, read once per process: its vector
indexes and the search settings saved for them (every search), and the warnings about
its indexes (every changelist).

Each cached value is checked, on each use, against the table's *stamp*: what those
values are made from (the indexes' ids, names and states, the saved settings, the
table's statistics and ``maintenance_work_mem``), read by one cheap statement, or by a
search in the statement that sets its settings (nothing run should the stamp differ).
An index built, dropped or renamed on the index page, in a worker or by hand, a setting
saved, a VACUUM or an ANALYZE: the stamp changes and the value is made again. Several
processes (the web server's workers) each keep their own and stay right, as nothing
is trusted without its stamp.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable, Sequence
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


@functools.cache
def catalogue_stamp_sql() -> str:
    """Two select-list entries that read a table's catalogue stamp (its indexes, and
    the search settings saved on any index page), for a statement a search sends
    anyway; their one parameter is the table's name. ``catalogue_of`` turns the two
    values into what ``StampedCache.kept`` returns."""
    from pgvector_admin.models import SearchDefault

    saved = connections["default"].ops.quote_name(SearchDefault._meta.db_table)
    # Every saved setting, not those of this table's indexes only: the table is small
    # (a row an index), and the filter tripled the statement's planning time.
    return f"""
          (SELECT coalesce(array_agg(concat_ws(' ', c.oid, c.relname, i.indisvalid,
                                               i.indisready, c.reloptions) ORDER BY c.oid),
                           '{{}}')
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = to_regclass(%s)),
          (SELECT coalesce(array_agg(concat_ws(' ', d.id, d.index_name, d.setting_name,
                                               d.value, d.saved_at, d.saved_by_id)
                                     ORDER BY d.id), '{{}}')
             FROM {saved} d)"""


def catalogue_of(values: Sequence[Any]) -> tuple[Any, ...]:
    """The catalogue stamp read by ``catalogue_stamp_sql``'s two values."""
    return (tuple(values[0]), tuple(values[1]))


_STATISTICS = """
          t.reltuples, t.relpages, pg_relation_size(r.oid), pg_stat_get_dead_tuples(r.oid),
          pg_stat_get_last_vacuum_time(r.oid), pg_stat_get_last_autovacuum_time(r.oid),
          pg_stat_get_last_analyze_time(r.oid), pg_stat_get_last_autoanalyze_time(r.oid),
          current_setting('maintenance_work_mem')"""


def table_stamp(table: str, *, using: str = "default", statistics: bool = True) -> TableStamp:
    """``table``'s stamp on the database ``using``: one statement (without
    ``statistics``, its catalogue part alone, a little cheaper)."""
    sql = f"SELECT {catalogue_stamp_sql()}"
    params = [table]
    if statistics:
        sql += f""", {_STATISTICS}
        FROM (SELECT to_regclass(%s) AS oid) r LEFT JOIN pg_class t ON t.oid = r.oid"""
        params.append(table)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return TableStamp(catalogue=catalogue_of(row), statistics=tuple(row[2:]))


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

    def kept(
        self, table: str, key: Hashable, *, using: str = "default"
    ) -> tuple[tuple[Any, ...], Any] | None:
        """The catalogue stamp and value kept for ``key`` on ``table``, not checked
        against the database: for a search that reads the stamp itself in a statement it
        sends anyway (``catalogue_stamp_sql``) and throws its answer away should the
        stamp differ. None when nothing is kept. For values kept without statistics."""
        with self._lock:
            return self._values.get((using, table, key))

    def clear(self) -> None:
        """Forget every value (the next use of each makes it again)."""
        with self._lock:
            self._values.clear()


table_cache = StampedCache()
