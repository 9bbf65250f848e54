"""Nearest-neighbour searches: the ``k`` rows nearest to a vector by any metric, exact
or through an index, for any model's vector field (described by a ``VectorColumn``),
with the SQL, settings and plan that served them, and their recall.

Every search runs with its settings in a transaction rolled back afterwards
(``pgvector_admin.db.local_settings``): they apply to that query only.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from pgvector_admin.indexes.shapes import IndexShape
from pgvector_admin.replicas import answered_by, replica_aliases, server_facts
from pgvector_admin.search.catalogue import VectorIndex
from pgvector_admin.search.distance_query import distance_queryset
from pgvector_admin.search.index_choice import (
    DIRECT,
    index_for,
    index_notes,
    rerank_candidates,
    serves,
)
from pgvector_admin.search.limits import MAX_K
from pgvector_admin.search.outcome import Neighbour, SearchOutcome, scan_bound
from pgvector_admin.search.plans import plan_of, scanned_index
from pgvector_admin.search.recall import recall_at_k
from pgvector_admin.search.recorded import StaleCatalogue, run_recorded
from pgvector_admin.search.scan_settings import (
    REPORTED_SETTINGS,
    kept_search_facts,
    search_facts,
    search_settings,
    setting_source,
)
from pgvector_admin.vectors.fields import VectorColumn
from pgvector_admin.vectors.metrics import Metric
from pgvector_admin.vectors.parts import has_parts, read_in_parts, short_from_parts, with_parts


def nearest(
    *,
    column: VectorColumn,
    vector: Any,
    k: int,
    metric: Metric,
    exact: bool = False,
    exclude_id: Any = None,
    with_recall: bool = False,
    within: QuerySet[Any] | None = None,
    max_distance: float | None = None,
    cells_only: bool = False,
) -> SearchOutcome:
    """The ``k`` rows whose ``column`` is nearest to ``vector`` by ``metric``, with all
    their distances; among the rows of ``within`` (a filtered queryset of the model,
    such as the changelist's) when given; only those within ``max_distance`` (as the
    page shows distances: for inner product, a least similarity) when given.

    With ``exact`` the index is switched off for this query (a sequential scan and a
    sort: the true answer). Otherwise an index that matches the metric serves it, with
    ``hnsw.ef_search`` raised to ``k`` and pgvector's strict-order iterative scan on, so
    that k rows come back even past ef_search, after mass deletes, or under a condition
    that few rows meet; should the index still return fewer rows than match (the scan
    stops at ``hnsw.max_scan_tuples``), the exact answer replaces it and the page says
    why. Exactly ``min(k, rows matching)`` rows are returned. Whether the index was used
    is read from the query's plan: on a small table, or under a very selective
    condition, PostgreSQL may rightly prefer to read the matching rows and sort them.

    With ``cells_only``, each row's long dense vector is not read: only what a results
    table shows of it (``Neighbour.cell``, from ``pgvector_admin.vectors.parts``).
    """
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}, not {k}")
    search = {
        "column": column,
        "vector": vector,
        "k": k,
        "metric": metric,
        "exact": exact,
        "exclude_id": exclude_id,
        "with_recall": with_recall,
        "within": within,
        "max_distance": max_distance,
        "cells_only": cells_only,
    }
    kept = kept_search_facts(column)
    if kept is not None:
        facts, catalogue = kept
        try:
            # Built from the facts this process keeps; their stamp is checked in the
            # statement that sets the search's settings, not in one of its own.
            return _nearest(**search, facts=facts, expect=(column.table, catalogue))
        except StaleCatalogue:
            pass
    return _nearest(**search, facts=search_facts(column), expect=None)


def _nearest(
    *,
    column: VectorColumn,
    vector: Any,
    k: int,
    metric: Metric,
    exact: bool,
    exclude_id: Any,
    with_recall: bool,
    within: QuerySet[Any] | None,
    max_distance: float | None,
    cells_only: bool,
    facts: tuple[list[VectorIndex], dict[str, Any]],
    expect: tuple[str, tuple[Any, ...]] | None,
) -> SearchOutcome:
    indexes, saved_defaults = facts
    index = index_for(column, metric, indexes)
    query = {"column": column, "vector": vector, "metric": metric, "exclude_id": exclude_id}
    parts = read_in_parts([column]) if cells_only else []

    # The true answer's query: what exact mode runs, and what recall is measured against.
    # Built only when needed (a condition, a fall-back, recall): a queryset costs about
    # half a millisecond to make.
    def exact_queryset() -> QuerySet[Any]:
        return with_parts(distance_queryset(**query, within=within), parts)[:k]

    if within is not None and not exact:
        # A partial index serves a condition that implies its predicate: the planner
        # decides, so ask it.
        index = _partial_index_used(exact_queryset(), column, metric, indexes) or index
    served = None if exact else index
    shape = served.shape if served is not None else None
    queryset = with_parts(distance_queryset(**query, index=served, k=k, within=within), parts)[:k]
    started = time.perf_counter()
    scanned = rerank_candidates(k) if shape is not None and shape.quantized else k
    saved = saved_defaults.get(index.name) if index is not None else None
    settings = search_settings(k=scanned, exact=exact, index=index, saved=saved)
    reported = REPORTED_SETTINGS[index.method if index is not None else "hnsw"]
    # Under a condition, how many tuples the index scan visited is worth its cost: the
    # statement is run a second time, under EXPLAIN ANALYZE, to count them.
    rows, sql, plan, in_force = run_recorded(
        queryset, settings, reported, analyze=within is not None, expect=expect
    )
    if settings.get("ivfflat.iterative_scan") == "relaxed_order" or (
        shape is not None and not shape.is_plain
    ):
        # Relaxed order may return rows slightly out of order, and an index on a cast
        # orders by the cast values' distance: sorted again by the exact distance.
        rows.sort(key=lambda row: getattr(row, metric.column))
    outcome = SearchOutcome(
        neighbours=[],
        column=column,
        metric=metric,
        k=k,
        exact=exact,
        index=index,
        indexes=indexes,
        settings=in_force,
        sql=sql,
        plan=plan,
        seconds=0.0,
        filtered=within is not None,
        max_distance=max_distance,
        setting_source="" if exact else setting_source(index, scanned, saved=saved),
        vector=vector,
        exclude_id=exclude_id,
    )
    outcome.notes = index_notes(
        column, metric, indexes, used=outcome.scan_index, filtered=within is not None
    )
    if shape is not None and not shape.is_plain and outcome.used_index:
        outcome.notes.append(_served_through(served, shape, metric, k))
    if outcome.used_index and len(rows) < k:
        available = _count_up_to(within or column.model._default_manager.all(), exclude_id, k)
        if available > len(rows):
            outcome.notes.append(
                _(
                    "The index scan returned %(rows)s of the %(available)s rows asked for "
                    "(%(bound)s); the exact scan's answer is shown instead."
                )
                % {"rows": len(rows), "available": available, "bound": scan_bound(in_force)}
            )
            exact_settings = search_settings(k=k, exact=True)
            rows, outcome.sql, outcome.plan, outcome.settings = run_recorded(
                exact_queryset(), exact_settings, reported
            )
            outcome.fell_back_to_exact = True
    outcome.neighbours = neighbours_of(_within_distance(rows, metric, max_distance), column)
    outcome.seconds = time.perf_counter() - started
    if replica_aliases():
        answer = answered_by()
        if answer is not None and answer.alias == queryset.db and answer.facts is not None:
            outcome.server = answer.facts  # read when the replica was chosen
        else:
            outcome.server = server_facts(queryset.db)
        outcome.skipped_servers = list(answer.skipped) if answer is not None else []
    if with_recall:
        outcome.recall = _recall(outcome, exact_queryset())
    return outcome


def similar_to(
    *,
    obj: models.Model,
    column: VectorColumn,
    k: int,
    metric: Metric,
    exact: bool = False,
    with_recall: bool = False,
    within: QuerySet[Any] | None = None,
    max_distance: float | None = None,
) -> SearchOutcome:
    """The ``k`` rows nearest to ``obj``'s own vector in ``column``, without ``obj``
    (among ``within`` and no farther than ``max_distance``, as for ``nearest``)."""
    return nearest(
        column=column,
        vector=column.values(obj),
        k=k,
        metric=metric,
        exact=exact,
        exclude_id=obj.pk,
        with_recall=with_recall,
        within=within,
        max_distance=max_distance,
    )


def _within_distance(rows: list[Any], metric: Metric, max_distance: float | None) -> list[Any]:
    """The rows no farther than ``max_distance`` as the page shows distances (for inner
    product, the product itself: the rows with at least that similarity)."""
    if max_distance is None:
        return rows
    if metric.negated:
        return [row for row in rows if metric.shown(getattr(row, metric.column)) >= max_distance]
    return [row for row in rows if getattr(row, metric.column) <= max_distance]


def _partial_index_used(
    queryset: QuerySet[Any], column: VectorColumn, metric: Metric, indexes: list[VectorIndex]
) -> VectorIndex | None:
    """The partial index with ``metric``'s opclass that the planner would scan for this
    filtered query, if any."""
    partial = {
        index.name: index
        for index in indexes
        if index.predicate is not None and serves(index, column, metric) == DIRECT
    }
    if not partial:
        return None
    settings = search_settings(k=queryset.query.high_mark or 1, exact=False, index=None)
    used = scanned_index(plan_of(queryset, settings), among=partial)
    return partial.get(used) if used else None


def _served_through(index: VectorIndex, shape: IndexShape, metric: Metric, k: int) -> str:
    values = {
        "index": index.name,
        "shape": shape.describe(),
        "candidates": rerank_candidates(k),
        "metric": metric.label,
    }
    if shape.quantized:
        return (
            _(
                "The index %(index)s holds %(shape)s: the %(candidates)s rows nearest by the "
                "Hamming distance of the quantized bits are the candidates, re-ranked by the "
                "exact %(metric)s."
            )
            % values
        )
    return (
        _(
            "The index %(index)s holds %(shape)s: rows are found by the %(metric)s of those "
            "values, then sorted by the exact %(metric)s."
        )
        % values
    )


def neighbours_of(rows: list[Any], column: VectorColumn) -> list[Neighbour]:
    """The result rows of ``rows`` (annotated with every distance), in their order. A
    row without a vector (not embedded yet) has no distances. A row read with its
    vector's parts (``pgvector_admin.vectors.parts.with_parts``) gets its cell instead
    of its vector."""
    return [_neighbour(rank, row, column) for rank, row in enumerate(rows, start=1)]


def _neighbour(rank: int, row: Any, column: VectorColumn) -> Neighbour:
    in_parts = has_parts(column, row)
    return Neighbour(
        rank=rank,
        id=row.pk,
        label=str(row),
        embedding=None if in_parts else column.values(row),
        cell=short_from_parts(column, row) if in_parts else None,
        distances={
            metric.name: metric.shown(getattr(row, metric.column))
            for metric in column.metrics
            if getattr(row, metric.column) is not None
        },
        obj=row,
    )


def _count_up_to(rows: QuerySet[Any], exclude_id: Any, limit: int) -> int:
    """How many of ``rows`` (without ``exclude_id``) there are, counting no further
    than ``limit``."""
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    return rows.order_by()[:limit].count()


def _recall(outcome: SearchOutcome, queryset: QuerySet[Any]) -> float:
    """Recall@k of ``outcome`` against the exact answer (``search.recall``'s rule)."""
    exact_rows = run_recorded(queryset, search_settings(k=outcome.k, exact=True))[0]
    exact_rows = _within_distance(exact_rows, outcome.metric, outcome.max_distance)
    if not exact_rows:
        return 1.0
    metric = outcome.metric
    # shown() is its own inverse: it turns the shown value back into the raw one.
    found = [metric.shown(neighbour.distance(metric)) for neighbour in outcome.neighbours]
    return recall_at_k(found, getattr(exact_rows[-1], metric.column), len(exact_rows))
