"""Query plans: ``EXPLAIN`` under a search's settings, and what a plan says (the index
scanned, the tuples it visited)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from pgvector_admin.db.local_settings import local_settings
from pgvector_admin.search.statements import VECTOR_SETTINGS, is_select

# A plan's step that scans an index, and the index's name.
_INDEX_SCAN = re.compile(r"Index (?:Only )?Scan using (\S+)")


def scanned_index(plan: str, among: Iterable[str] | None = None) -> str | None:
    """The index a query plan scans, if any: what PostgreSQL actually did. With
    ``among`` (the vector indexes), the first of those scanned: a plan may also scan
    the primary key's index, say to fetch re-ranked candidates."""
    scanned = _INDEX_SCAN.findall(plan)
    if among is not None:
        wanted = set(among)
        scanned = [name for name in scanned if name in wanted]
    return scanned[0] if scanned else None


_ACTUAL_ROWS = re.compile(r"actual (?:time=[\d.]+\.\.[\d.]+ )?rows=([\d.]+)")


_REMOVED = re.compile(r"Rows Removed by (?:Filter|Index Recheck): ([\d.]+)")


def index_scan_counts(plan: str, index_name: str | None) -> tuple[int, int] | None:
    """(tuples visited, rows returned) by the scan of ``index_name`` in an analyzed
    ``plan``: the rows it returned plus those its filter removed. None without one."""
    if not index_name:
        return None
    lines = plan.splitlines()
    for position, line in enumerate(lines):
        if f"Scan using {index_name} " not in line:
            continue
        returned = _ACTUAL_ROWS.search(line)
        if returned is None:
            return None
        depth = len(line) - len(line.lstrip())
        removed = 0.0
        for detail in lines[position + 1 :]:
            if len(detail) - len(detail.lstrip()) <= depth or detail.lstrip().startswith("->"):
                break
            found = _REMOVED.search(detail)
            if found:
                removed += float(found.group(1))
        rows = round(float(returned.group(1)))
        return rows + round(removed), rows
    return None


def plan_of(queryset: QuerySet[Any], settings: dict[str, str]) -> str:
    """``EXPLAIN`` of ``queryset`` under ``settings``, without running it."""
    sql, params = queryset.query.sql_with_params()
    with local_settings(settings, using=queryset.db) as (cursor, _):
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(line for (line,) in cursor.fetchall())


def explain_analyze(
    sql: str, *, settings: dict[str, str], using: str = "default"
) -> tuple[str, dict[str, str]]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of a SELECT, run again with ``settings`` in force.

    Runs in a read-only transaction that is rolled back: nothing the statement could
    do survives it, and the settings end with it. Returns the plan and the vector
    settings in force while it ran (read back from the server).
    """
    if not is_select(sql):
        raise ValueError("Only SELECT statements are explained with ANALYZE.")
    with local_settings(settings, using=using, read=VECTOR_SETTINGS, read_only=True) as (
        cursor,
        in_force,
    ):
        # The statement's text as it was sent, parameters inlined: no placeholders.
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    return plan, in_force
