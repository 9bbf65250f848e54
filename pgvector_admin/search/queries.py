"""Read queries: nearest neighbours by any metric, exact or through an index, for any
model's vector field (described by a ``VectorColumn``).

Every vector search runs in its own transaction, which is rolled back afterwards: the
``SET LOCAL`` settings that shape it (``hnsw.ef_search``, ``hnsw.iterative_scan``, and
``enable_indexscan`` for exact scans) apply to this query only and never leak into
the rest of the request.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, models, transaction
from django.db.models import QuerySet

from pgvector_admin.conf import app_settings
from pgvector_admin.indexes.shapes import IndexShape, shape_of
from pgvector_admin.replicas import ServerFacts, answered_by, replica_aliases, server_facts
from pgvector_admin.search.statements import VECTOR_SETTINGS, is_select
from pgvector_admin.vectors.fields import VectorColumn, vector_columns
from pgvector_admin.vectors.metrics import BIT_METRICS, Metric

MAX_K = 1000
# The least hnsw.ef_search a search runs with is PGVECTOR_ADMIN["DEFAULT_EF_SEARCH"]
# (more for k above it: a plain HNSW scan returns at most ef_search rows). pgvector's
# default is 40, which on 100,000 clustered 768-d rows gave recall@10 0.981 for vector
# but 0.927 for halfvec; 100 gave 0.998 and 0.976 (bench/high_dimensions.py).
# The most hnsw.ef_search accepts.
MAX_EF_SEARCH = 1000
# The settings a vector search may depend on, read back after they are set.
_INDEX_SCAN = re.compile(r"Index (?:Only )?Scan using (\S+)")
REPORTED_SETTINGS = {
    "hnsw": ("hnsw.ef_search", "hnsw.iterative_scan", "hnsw.max_scan_tuples", "enable_indexscan"),
    "ivfflat": (
        "ivfflat.probes",
        "ivfflat.iterative_scan",
        "ivfflat.max_probes",
        "enable_indexscan",
    ),
}
_LISTS = re.compile(r"lists\s*=\s*'?(\d+)")


@dataclass(frozen=True)
class VectorIndex:
    """An index on a vector column, as the database describes it."""

    name: str
    method: str
    opclass: str
    definition: str
    # The indexed column, or expression, as PostgreSQL writes it in the definition.
    key: str = ""
    # A partial index's WHERE condition.
    predicate: str | None = None

    @property
    def shape(self) -> IndexShape | None:
        """How the key relates to a column (itself, a cast, a binary quantization)."""
        return shape_of(self.key)

    @property
    def lists(self) -> int | None:
        """An IVFFlat index's number of lists (from its definition)."""
        match = _LISTS.search(self.definition)
        return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Neighbor:
    """One result row: the row's id, its name (``str()``), its vector and its distance
    by every metric of the column's type."""

    rank: int
    id: Any
    label: str
    embedding: Any
    distances: dict[str, float]
    # The row itself, for pages that show more of it (a picture, say).
    obj: Any = field(default=None, compare=False, repr=False)

    def distance(self, metric: Metric) -> float:
        return self.distances[metric.name]


@dataclass
class SearchOutcome:
    """The rows a search returned and everything needed to judge them."""

    neighbors: list[Neighbor]
    column: VectorColumn
    metric: Metric
    k: int
    exact: bool
    index: VectorIndex | None
    indexes: list[VectorIndex]
    settings: dict[str, str]
    sql: str
    plan: str
    seconds: float
    fell_back_to_exact: bool = False
    recall: float | None = None
    notes: list[str] = field(default_factory=list)
    # Among the rows of a condition (the changelist's filters), not the whole table.
    filtered: bool = False
    # Only rows within this distance (for inner product: at least this product).
    max_distance: float | None = None
    # Where the index scan's ef_search (or probes) came from, in words.
    setting_source: str = ""
    # The query vector, and the row it is (similar pages: left out of the answer).
    vector: Any = field(default=None, repr=False)
    exclude_id: Any = None
    # The server that answered, when the app has read replicas (pgvector_admin.replicas).
    server: ServerFacts | None = None
    # The replicas passed over for this request, and why.
    skipped_servers: list[str] = field(default_factory=list)

    @property
    def scan_index(self) -> str | None:
        """The index the query plan scanned, if any: what PostgreSQL actually did."""
        return scanned_index(self.plan, among=[index.name for index in self.indexes])

    @property
    def used_index(self) -> bool:
        return self.scan_index is not None

    @property
    def metrics(self) -> tuple[Metric, ...]:
        """Every metric of the column's type: a column each on the results page."""
        return self.column.metrics

    @property
    def tuples_visited(self) -> tuple[int, int] | None:
        """(tuples visited, rows returned) by the vector index scan, when the plan was
        run (``EXPLAIN ANALYZE``): the rows it returned and those a condition removed."""
        return index_scan_counts(self.plan, self.scan_index)

    @property
    def scan_report(self) -> str | None:
        """What the index scan read, in words, when the plan was run."""
        counts = self.tuples_visited
        if counts is None:
            return None
        visited, returned = counts
        text = f"The index scan visited {visited:,} tuples to return {returned:,}"
        if visited > returned:
            text += f" ({visited - returned:,} did not meet the condition)"
        mode = self.settings.get("hnsw.iterative_scan") or self.settings.get(
            "ivfflat.iterative_scan"
        )
        if mode and mode != "off":
            bound = _scan_bound(self.settings)
            text += (
                f"; an iterative scan ({mode}), which goes on past the first candidates "
                f"until k rows meet the condition ({bound})"
            )
        return text + "."

    @property
    def index_match(self) -> str:
        """How the index chosen serves this search, in words for the results page."""
        shape = self.index.shape if self.index is not None else None
        operator = self.metric.operator
        if shape is None or shape.is_plain:
            return f"which matches the {operator} operator"
        if shape.quantized:
            return (
                f"on {shape.describe()}: candidates by the Hamming distance (<~>) of the "
                f"bits, re-ranked by {operator}"
            )
        return f"on {shape.describe()}, which matches the {operator} operator on those values"

    @property
    def opclass(self) -> str:
        """The opclass an index would need to serve this search."""
        return self.column.type.opclass(self.metric)


def vector_indexes(table: str, *, using: str = "default") -> list[VectorIndex]:
    """The vector indexes (HNSW, IVFFlat) on ``table``, read from PostgreSQL's system tables."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT idx.relname, am.amname, opc.opcname, pg_get_indexdef(idx.oid),
                   pg_get_indexdef(idx.oid, 1, true), pg_get_expr(i.indpred, i.indrelid)
            FROM pg_index i
            JOIN pg_class idx ON idx.oid = i.indexrelid
            JOIN pg_am am ON am.oid = idx.relam
            JOIN pg_opclass opc ON opc.oid = i.indclass[0]
            WHERE i.indrelid = to_regclass(%s) AND am.amname IN ('hnsw', 'ivfflat')
            ORDER BY idx.relname
            """,
            [table],
        )
        return [VectorIndex(*row) for row in cursor.fetchall()]


def stored_dimensions(column: VectorColumn) -> int | None:
    """The dimension count of the values stored in ``column``: its declared one, else
    that of a stored value (a column declared without one may hold any), else None."""
    if column.dimensions is not None:
        return column.dimensions
    value = (
        column.model._default_manager.exclude(**{f"{column.name}__isnull": True})
        .values_list(column.name, flat=True)
        .first()
    )
    return None if value is None else column.type.length(value)


def column_indexes(column: VectorColumn, *, using: str = "default") -> list[VectorIndex]:
    """The vector indexes on ``column``: on the column itself or on an expression of it
    (a cast to halfvec, a binary quantization), partial ones included."""
    return [
        index
        for index in vector_indexes(column.table, using=using)
        if index.shape is not None and index.shape.column == column.column
    ]


# How each kind of index serves a search, best first: the column's own index, then
# one on the column cast to another type (same metric, smaller values), then one on
# its binary quantization (candidates by Hamming distance, re-ranked exactly).
_DIRECT, _CAST, _QUANTIZED = 0, 1, 2
# Candidates fetched through a binary-quantized index for each row asked for.
RERANK_FACTOR = 10
MIN_RERANK_CANDIDATES = 100


def index_for(
    column: VectorColumn, metric: Metric, indexes: list[VectorIndex] | None = None
) -> VectorIndex | None:
    """The index that can serve a search of the whole table by ``metric``: one on the
    column with the metric's opclass, else one on the column cast to another type with
    that type's opclass for the metric, else one on its binary quantization (a dense
    column searched by any metric, re-ranked). Partial indexes cover only some rows,
    so they serve no search of the whole table."""
    candidates = []
    for index in column_indexes(column) if indexes is None else indexes:
        kind = _serves(index, column, metric)
        if kind is not None and index.predicate is None:
            candidates.append((kind, index.name, index))
    return min(candidates)[2] if candidates else None


def index_and_column(
    model: type[models.Model], name: str
) -> tuple[VectorIndex, VectorColumn | None]:
    """The vector index ``name`` on ``model``'s table, and the vector field it indexes
    (None: an expression of no field of the model). ``StopIteration`` if there is none."""
    index = next(i for i in vector_indexes(model._meta.db_table) if i.name == name)
    column = next(
        (c for c in vector_columns(model) if index.shape and c.column == index.shape.column),
        None,
    )
    return index, column


def metrics_served(index: VectorIndex, column: VectorColumn) -> list[Metric]:
    """The metrics of ``column``'s type a search can use ``index`` for."""
    return [metric for metric in column.metrics if _serves(index, column, metric) is not None]


def _serves(index: VectorIndex, column: VectorColumn, metric: Metric) -> int | None:
    shape = index.shape
    if shape is None:
        return None
    if shape.is_plain:
        return _DIRECT if index.opclass == column.type.opclass(metric) else None
    if shape.quantized:
        dense = column.type.name in {"vector", "halfvec"} and metric not in BIT_METRICS
        return _QUANTIZED if dense and index.opclass.startswith("bit_") else None
    return _CAST if index.opclass == metric.opclass(shape.cast_type or "") else None


def index_notes(
    column: VectorColumn,
    metric: Metric,
    indexes: list[VectorIndex],
    *,
    used: str | None = None,
    filtered: bool = False,
) -> list[str]:
    """What the page should say of partial indexes for ``metric`` the search did not
    use: a search of every row cannot, a condition only when it implies the predicate."""
    notes = []
    for index in indexes:
        if index.predicate is None or index.name == used:
            continue
        if _serves(index, column, metric) is None:
            continue
        why = (
            "the search's condition does not imply it"
            if filtered
            else "a search over every row cannot use it"
        )
        notes.append(f"The index {index.name} covers only the rows where {index.predicate}: {why}.")
    return notes


def distance_queryset(
    *,
    column: VectorColumn,
    vector: Any,
    metric: Metric,
    exclude_id: Any = None,
    index: VectorIndex | None = None,
    k: int | None = None,
    within: QuerySet[Any] | None = None,
) -> QuerySet[Any]:
    """Rows (of ``within``, a filtered queryset of the model, else all) with every
    distance to ``vector`` annotated, nearest first by ``metric``.

    Ordered by the metric's own operator, ascending: the only shape an index can serve.
    Given an ``index`` on an expression of the column, ordered the way that index
    serves: by the distance between the cast values, or among the candidates nearest by
    the Hamming distance of the binary-quantized values (``k`` of them asked for). The
    model's other vector fields are left unread: they can be large.
    """
    annotations = {m.column: m.function(column.name, vector) for m in column.metrics}
    others = [other.name for other in vector_columns(column.model) if other.name != column.name]
    rows = column.model._default_manager.all() if within is None else within.all()
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    shape = index.shape if index is not None else None
    if shape is None or shape.is_plain:
        return rows.annotate(**annotations).defer(*others).order_by(metric.column)
    if shape.quantized:
        bits_metric = next(m for m in BIT_METRICS if index.opclass == m.opclass("bit"))
        candidates = rows.order_by(shape.order_expression(column.name, bits_metric, vector))
        wanted = rerank_candidates(k or MAX_K)
        nearest_bits = candidates.values("pk")[:wanted]
        return (
            column.model._default_manager.filter(pk__in=nearest_bits)
            .annotate(**annotations)
            .defer(*others)
            .order_by(metric.column)
        )
    return (
        rows.annotate(
            **annotations, index_distance=shape.order_expression(column.name, metric, vector)
        )
        .defer(*others)
        .order_by("index_distance")
    )


def rerank_candidates(k: int) -> int:
    """How many candidates a binary-quantized index is asked for, to re-rank to k."""
    return min(MAX_EF_SEARCH, max(MIN_RERANK_CANDIDATES, k * RERANK_FACTOR))


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
    """
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}, not {k}")
    indexes = column_indexes(column)
    index = index_for(column, metric, indexes)
    query = {"column": column, "vector": vector, "metric": metric, "exclude_id": exclude_id}
    # The true answer's query: what exact mode runs, and what recall is measured against.
    exact_queryset = distance_queryset(**query, within=within)[:k]
    if within is not None and not exact:
        # A partial index serves a condition that implies its predicate: the planner
        # decides, so ask it.
        index = _partial_index_used(exact_queryset, column, metric, indexes) or index
    served = None if exact else index
    shape = served.shape if served is not None else None
    queryset = distance_queryset(**query, index=served, k=k, within=within)[:k]
    started = time.perf_counter()
    scanned = rerank_candidates(k) if shape is not None and shape.quantized else k
    settings = search_settings(k=scanned, exact=exact, index=index)
    reported = REPORTED_SETTINGS[index.method if index is not None else "hnsw"]
    # Under a condition, how many tuples the index scan visited is worth its cost: the
    # statement is run a second time, under EXPLAIN ANALYZE, to count them.
    rows, sql, plan, in_force = _run(queryset, settings, reported, analyze=within is not None)
    if settings.get("ivfflat.iterative_scan") == "relaxed_order" or (
        shape is not None and not shape.is_plain
    ):
        # Relaxed order may return rows slightly out of order, and an index on a cast
        # orders by the cast values' distance: sorted again by the exact distance.
        rows.sort(key=lambda row: getattr(row, metric.column))
    outcome = SearchOutcome(
        neighbors=[],
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
        setting_source="" if exact else setting_source(index, scanned),
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
                f"The index scan returned {len(rows)} of the {available} rows asked for "
                f"({_scan_bound(in_force)}); the exact scan's answer is shown instead."
            )
            exact_settings = search_settings(k=k, exact=True)
            rows, outcome.sql, outcome.plan, outcome.settings = _run(
                exact_queryset, exact_settings, reported
            )
            outcome.fell_back_to_exact = True
    outcome.neighbors = _neighbors(_within_distance(rows, metric, max_distance), column)
    outcome.seconds = time.perf_counter() - started
    if replica_aliases():
        answer = answered_by()
        if answer is not None and answer.alias == queryset.db and answer.facts is not None:
            outcome.server = answer.facts  # read when the replica was chosen
        else:
            outcome.server = server_facts(queryset.db)
        outcome.skipped_servers = list(answer.skipped) if answer is not None else []
    if with_recall:
        outcome.recall = _recall(outcome, exact_queryset)
    return outcome


def _scan_bound(settings: dict[str, str]) -> str:
    """Where an iterative index scan gives up, as the settings in force say."""
    if "ivfflat.max_probes" in settings:
        return f"it probes at most ivfflat.max_probes = {settings['ivfflat.max_probes']} lists"
    tuples = settings.get("hnsw.max_scan_tuples") or "20000"
    return f"it visits at most hnsw.max_scan_tuples = {tuples} tuples"


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
        if index.predicate is not None and _serves(index, column, metric) == _DIRECT
    }
    if not partial:
        return None
    settings = search_settings(k=queryset.query.high_mark or 1, exact=False, index=None)
    used = scanned_index(plan_of(queryset, settings), among=partial)
    return partial.get(used) if used else None


def _served_through(index: VectorIndex, shape: IndexShape, metric: Metric, k: int) -> str:
    if shape.quantized:
        return (
            f"The index {index.name} holds {shape.describe()}: the "
            f"{rerank_candidates(k)} rows nearest by the Hamming distance of the quantized "
            f"bits are the candidates, re-ranked by the exact {metric.label}."
        )
    return (
        f"The index {index.name} holds {shape.describe()}: rows are found by the "
        f"{metric.label} of those values, then sorted by the exact {metric.label}."
    )


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


def search_settings(*, k: int, exact: bool, index: VectorIndex | None = None) -> dict[str, str]:
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


def setting_source(index: VectorIndex | None, k: int) -> str:
    """Where a search's ``ef_search`` (or ``probes``) through ``index`` came from."""
    if index is None:
        return ""
    saved = saved_default(index)
    if saved is not None:
        raised = " (raised to k)" if index.method == "hnsw" and k > saved.value else ""
        return saved.describe() + raised
    if index.method == "ivfflat":
        return "ivfflat.probes: the app's default, the square root of the index's lists"
    return (
        f"hnsw.ef_search: the app's default, {app_settings.DEFAULT_EF_SEARCH} (or k if more); "
        "measure the index's recall curve on its index page to choose"
    )


def _run(
    queryset: QuerySet[Any],
    settings: dict[str, str],
    reported: Iterable[str] = REPORTED_SETTINGS["hnsw"],
    *,
    analyze: bool = False,
) -> tuple[list[Any], str, str, dict[str, str]]:
    """Evaluate ``queryset`` with ``settings`` in a transaction that is rolled back after.

    Returns the rows, the SQL exactly as PostgreSQL received it, its plan (``EXPLAIN``
    under the same settings: planning only, it is not run twice; with ``analyze``, run
    again to count what each step read) and the settings in force when it ran (read
    back from the server).
    """
    # The database the queryset reads from: a replica, when the request reads from one.
    db = queryset.db
    connection = connections[db]
    recorder = _SqlRecorder(connection)
    with transaction.atomic(using=db):
        with connection.cursor() as cursor:
            in_force = _set_local_and_read(cursor, settings, reported)
        with connection.execute_wrapper(recorder):
            # A fresh clone each time: a queryset caches its rows once evaluated.
            rows = list(queryset.all())
        with connection.cursor() as cursor:
            # The statement just run, planned again under the same settings.
            explain = "EXPLAIN (ANALYZE, TIMING OFF) " if analyze else "EXPLAIN "
            cursor.execute(explain + recorder.statement, recorder.params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
        # Reads only: rolling back just ends the SET LOCAL settings with the transaction.
        transaction.set_rollback(True, using=db)
    return rows, recorder.sql, plan, in_force


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
    db = queryset.db
    with transaction.atomic(using=db):
        with connections[db].cursor() as cursor:
            _set_local_and_read(cursor, settings, ())
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
        transaction.set_rollback(True, using=db)
    return plan


def scanned_index(plan: str, among: Iterable[str] | None = None) -> str | None:
    """The index a query plan scans, if any: what PostgreSQL actually did. With
    ``among`` (the vector indexes), the first of those scanned: a plan may also scan
    the primary key's index, say to fetch re-ranked candidates."""
    scanned = _INDEX_SCAN.findall(plan)
    if among is not None:
        wanted = set(among)
        scanned = [name for name in scanned if name in wanted]
    return scanned[0] if scanned else None


def _set_local_and_read(
    cursor: Any, settings: dict[str, str], names: Iterable[str]
) -> dict[str, str]:
    """``SET LOCAL`` each of ``settings`` and read back ``names`` as they then stand, in
    one round trip. A setting the server does not know reads as ``""``."""
    names = list(names)
    calls = [("set_config(%s, %s, true)", [name, value]) for name, value in settings.items()]
    calls += [("current_setting(%s, true)", [name]) for name in names]
    cursor.execute(
        "SELECT " + ", ".join(call for call, _ in calls),
        [param for _, params in calls for param in params],
    )
    values = cursor.fetchone()[len(settings) :]
    return {name: value or "" for name, value in zip(names, values, strict=True)}


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


def _neighbors(rows: list[Any], column: VectorColumn) -> list[Neighbor]:
    return [
        Neighbor(
            rank=rank,
            id=row.pk,
            label=str(row),
            embedding=column.values(row),
            distances={
                metric.name: metric.shown(getattr(row, metric.column)) for metric in column.metrics
            },
            obj=row,
        )
        for rank, row in enumerate(rows, start=1)
    ]


def _count_up_to(rows: QuerySet[Any], exclude_id: Any, limit: int) -> int:
    """How many of ``rows`` (without ``exclude_id``) there are, counting no further
    than ``limit``."""
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    return rows.order_by()[:limit].count()


def _recall(outcome: SearchOutcome, queryset: QuerySet[Any]) -> float:
    """Recall@k against the exact answer. Rows tied with the exact k-th distance count
    as found: either of two equally near rows is a right answer."""
    exact_rows, _, _, _ = _run(queryset, search_settings(k=outcome.k, exact=True))
    exact_rows = _within_distance(exact_rows, outcome.metric, outcome.max_distance)
    if not exact_rows:
        return 1.0
    metric = outcome.metric
    exact_ids = {row.pk for row in exact_rows}
    worst = getattr(exact_rows[-1], metric.column)
    found = sum(
        1
        for neighbor in outcome.neighbors
        # shown() is its own inverse: it turns the shown value back into the raw one.
        if neighbor.id in exact_ids or metric.shown(neighbor.distance(metric)) <= worst + 1e-9
    )
    return min(found, len(exact_rows)) / len(exact_rows)


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
    db = connections[using]
    with transaction.atomic(using=using):
        with db.cursor() as cursor:
            if not db.savepoint_ids:
                # A transaction of its own (not a savepoint): make it read-only too.
                cursor.execute("SET TRANSACTION READ ONLY")
            in_force = _set_local_and_read(cursor, settings, VECTOR_SETTINGS)
            # The statement's text as it was sent, parameters inlined: no placeholders.
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(line for (line,) in cursor.fetchall())
        transaction.set_rollback(True, using=using)
    return plan, in_force
