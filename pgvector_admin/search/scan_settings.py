"""The settings a search runs with (``hnsw.ef_search``, ``ivfflat.probes``, the
iterative scans, ``enable_indexscan`` off for exact scans), and where they came from."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _

from pgvector_admin.conf import app_settings
from pgvector_admin.search.catalogue import VectorIndex, column_indexes
from pgvector_admin.search.limits import MAX_EF_SEARCH
from pgvector_admin.search.table_state import table_cache
from pgvector_admin.vectors.fields import VectorColumn

# The settings a vector search may depend on, read back after they are set.
REPORTED_SETTINGS = {
    "hnsw": ("hnsw.ef_search", "hnsw.iterative_scan", "hnsw.max_scan_tuples", "enable_indexscan"),
    "ivfflat": (
        "ivfflat.probes",
        "ivfflat.iterative_scan",
        "ivfflat.max_probes",
        "enable_indexscan",
    ),
}


# Said for ``saved``: look the saved setting up (``None`` says there is none).
LOOK_UP: Any = object()


def search_facts(column: VectorColumn) -> tuple[list[VectorIndex], dict[str, Any]]:
    """The vector indexes on ``column`` and the ``SearchDefault`` saved for each (by
    index name): kept by the process while the table's catalogue is unchanged
    (``pgvector_admin.search.table_state``), so a search reads one stamp instead."""

    def read() -> tuple[list[VectorIndex], dict[str, Any]]:
        from pgvector_admin.models import SearchDefault

        indexes = column_indexes(column)
        saved = SearchDefault.objects.filter(
            index_name__in=[index.name for index in indexes]
        ).select_related("saved_by")
        return indexes, {default.index_name: default for default in saved}

    return table_cache.get(column.table, ("search", column.column), read)


def kept_search_facts(
    column: VectorColumn,
) -> tuple[tuple[list[VectorIndex], dict[str, Any]], tuple[Any, ...]] | None:
    """The facts ``search_facts`` kept for ``column`` and the catalogue stamp they were
    made under, not checked (``pgvector_admin.search.recorded.run_recorded`` checks the
    stamp as it sets a search's settings); None when this process keeps none."""
    kept = table_cache.kept(column.table, ("search", column.column))
    return None if kept is None else (kept[1], kept[0])


def search_settings(
    *, k: int, exact: bool, index: VectorIndex | None = None, saved: Any = LOOK_UP
) -> dict[str, str]:
    """The ``SET LOCAL`` settings a search of ``k`` rows through ``index`` runs with.

    Exact: index scans off, so PostgreSQL reads every row and sorts. Through an HNSW
    index: ``ef_search`` as saved for the index on its index page
    (``pgvector_admin.models.SearchDefault``), else the DEFAULT_EF_SEARCH setting, and at
    least ``k`` (a plain scan returns at most ``ef_search`` rows); and the strict-order iterative
    scan, which keeps searching the graph when deleted or filtered-out rows leave a
    scan short. Through an IVFFlat index: ``probes`` as saved for the index, else the
    square root of its lists (pgvector's advice for recall), and its iterative scan
    (relaxed order, the only one IVFFlat has), which probes more lists until k rows are
    found. No index for the metric: nothing to tune, the scan is exact anyway.
    """
    if exact:
        return {"enable_indexscan": "off"}
    if index is None:
        return {}
    if saved is LOOK_UP:
        saved = saved_default(index)
    if index.method == "ivfflat":
        lists = index.lists or 1
        probes = saved.value if saved else max(1, math.ceil(math.sqrt(lists)))
        return {
            "ivfflat.probes": str(min(lists, probes)),
            "ivfflat.iterative_scan": "relaxed_order",
        }
    ef_search = saved.value if saved else app_settings.DEFAULT_EF_SEARCH
    return {
        "hnsw.ef_search": str(min(MAX_EF_SEARCH, max(ef_search, k))),
        "hnsw.iterative_scan": "strict_order",
    }


def saved_default(index: VectorIndex | None) -> Any:
    """The ``SearchDefault`` saved for ``index`` on the index page, if any."""
    if index is None:
        return None
    from pgvector_admin.models import SearchDefault

    return SearchDefault.objects.filter(index_name=index.name).select_related("saved_by").first()


def setting_source(index: VectorIndex | None, k: int, *, saved: Any = LOOK_UP) -> str:
    """Where a search's ``ef_search`` (or ``probes``) through ``index`` came from
    (``saved``: the ``SearchDefault`` for it, when already looked up)."""
    if index is None:
        return ""
    if saved is LOOK_UP:
        saved = saved_default(index)
    if saved is not None:
        raised = _(" (raised to k)") if index.method == "hnsw" and k > saved.value else ""
        return saved.describe() + raised
    if index.method == "ivfflat":
        return _("ivfflat.probes: the app's default, the square root of the index's lists")
    return _(
        "hnsw.ef_search: the app's default, %(default)s (or k if more); measure the index's "
        "recall curve on its index page to choose"
    ) % {"default": app_settings.DEFAULT_EF_SEARCH}
