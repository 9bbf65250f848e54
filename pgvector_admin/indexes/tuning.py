"""The recall/latency curve of a vector index: for sample queries, recall@k against the
exact answer (a returned row counts when it is no farther than the true k-th nearest,
so duplicates do not count as misses) and the p50/p95 latency at each ``hnsw.ef_search`` (or
``ivfflat.probes``) of a ladder, and the smallest setting that reaches a target recall.

Each search runs as the app's searches do (``search.distance_query.distance_queryset``
under ``search_settings``), with only the ladder's setting changed; the exact answer
is the same query with index scans off.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from pgvector_admin.db.identifiers import identifier
from pgvector_admin.db.local_settings import local_settings
from pgvector_admin.search.catalogue import VectorIndex
from pgvector_admin.search.distance_query import distance_queryset
from pgvector_admin.search.limits import MAX_EF_SEARCH
from pgvector_admin.search.recall import recall_at_k
from pgvector_admin.search.scan_settings import search_settings
from pgvector_admin.vectors.fields import VectorColumn
from pgvector_admin.vectors.metrics import Metric

# hnsw.ef_search values measured after k itself (the ladder).
HNSW_LADDER = (20, 40, 80, 160, 320, 640, 1000)
DEFAULT_TARGET = 0.99
DEFAULT_QUERIES = 100


@dataclass(frozen=True)
class CurvePoint:
    """Recall@k and latency at one setting."""

    setting: int
    recall: float
    p50_ms: float
    p95_ms: float


@dataclass
class Curve:
    """The measured curve of one index, and what it recommends."""

    index: str
    method: str
    setting_name: str
    metric: str
    k: int
    queries: int
    target: float
    points: list[CurvePoint]
    exact_p50_ms: float
    exact_p95_ms: float
    seconds: float
    # Per setting, the ids each query returned (kept for checking, not stored).
    found: dict[int, list[list[Any]]] = field(default_factory=dict, repr=False)
    exact_ids: list[list[Any]] = field(default_factory=list, repr=False)

    @property
    def recommended(self) -> CurvePoint | None:
        """The smallest setting whose recall reaches the target (None: none does)."""
        return next((point for point in self.points if point.recall >= self.target), None)

    def csv(self) -> str:
        """``<setting>,recall,p50_ms,p95_ms``, one line per setting."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([self.setting_name.split(".")[-1], "recall", "p50_ms", "p95_ms"])
        for point in self.points:
            writer.writerow(
                [point.setting, f"{point.recall:.4f}", f"{point.p50_ms:.3f}", f"{point.p95_ms:.3f}"]
            )
        return out.getvalue()

    def as_dict(self) -> dict[str, Any]:
        """The curve as JSON (a task's report)."""
        recommended = self.recommended
        return {
            "index": self.index,
            "method": self.method,
            "setting_name": self.setting_name,
            "metric": self.metric,
            "k": self.k,
            "queries": self.queries,
            "target": self.target,
            "points": [point.__dict__ for point in self.points],
            "exact_p50_ms": self.exact_p50_ms,
            "exact_p95_ms": self.exact_p95_ms,
            "seconds": self.seconds,
            "recommended": recommended.setting if recommended else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Curve:
        fields = {key: value for key, value in data.items() if key != "recommended"}
        fields["points"] = [CurvePoint(**point) for point in data["points"]]
        return cls(**fields)


def ladder(index: VectorIndex, k: int) -> list[int]:
    """The settings measured: ``hnsw.ef_search`` from k up (20, 40, … 1,000), or
    ``ivfflat.probes`` 1, 2, 4, … up to the index's lists."""
    if index.method == "ivfflat":
        lists = index.lists or 100
        settings = [2**power for power in range(int(math.log2(lists)) + 1)]
        return sorted({*settings, lists})
    return [k] + [value for value in HNSW_LADDER if value > k and value <= MAX_EF_SEARCH]


def setting_name(index: VectorIndex) -> str:
    return "ivfflat.probes" if index.method == "ivfflat" else "hnsw.ef_search"


def sample_queries(column: VectorColumn, count: int, *, seed: int = 0) -> list[Any]:
    """``count`` vectors of the table's rows, the same ones for the same seed (ordered
    by a hash of the primary key, not by chance)."""
    model = column.model
    table = identifier(model._meta.db_table)
    pk = identifier(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk} FROM {table} WHERE {identifier(column.column)} "
            f"IS NOT NULL ORDER BY md5({pk}::text || %s) LIMIT %s",
            [str(seed), count],
        )
        ids = [row[0] for row in cursor.fetchall()]
    values = dict(model._default_manager.filter(pk__in=ids).values_list("pk", column.name))
    return [column.type.query(values[key]) for key in ids]


def measure_curve(
    *,
    column: VectorColumn,
    metric: Metric,
    index: VectorIndex,
    k: int,
    queries: Sequence[Any],
    target: float = DEFAULT_TARGET,
    settings: Sequence[int] | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> Curve:
    """Recall@k and latency of ``index`` for ``queries`` at each setting of the ladder,
    against the exact answer of each query."""
    started = time.perf_counter()
    settings = list(settings or ladder(index, k))
    name = setting_name(index)
    total = len(queries) * (len(settings) + 1)
    exact_ids, exact_far, exact_ms = [], [], []
    for number, vector in enumerate(queries):
        ids, distances, ms = _search(column, metric, vector, k, {"enable_indexscan": "off"}, None)
        exact_ids.append(ids)
        exact_far.append(distances[-1] if distances else None)
        exact_ms.append(ms)
        if progress:
            progress("exact answers", number + 1, total)
    points, found = [], {}
    for step, value in enumerate(settings, start=1):
        tuned = search_settings(k=k, exact=False, index=index) | {name: str(value)}
        # Untimed first: the pages this setting visits into the cache, as they are for
        # a live index (the exact scans above pushed them out), so that the latency is
        # the search's, not the disk's.
        for vector in queries:
            _search(column, metric, vector, k, tuned, index)
        recalls, times, returned = [], [], []
        for vector, exact, far in zip(queries, exact_ids, exact_far, strict=True):
            ids, distances, ms = _search(column, metric, vector, k, tuned, index)
            returned.append(ids)
            times.append(ms)
            recalls.append(recall_at_k(distances, far, len(exact)))
        found[value] = returned
        points.append(
            CurvePoint(
                setting=value,
                recall=round(statistics.fmean(recalls), 4),
                p50_ms=round(_quantile(times, 0.50), 3),
                p95_ms=round(_quantile(times, 0.95), 3),
            )
        )
        if progress:
            progress(f"{name} = {value}", len(queries) * (step + 1), total)
    return Curve(
        index=index.name,
        method=index.method,
        setting_name=name,
        metric=metric.name,
        k=k,
        queries=len(queries),
        target=target,
        points=points,
        exact_p50_ms=round(_quantile(exact_ms, 0.50), 3),
        exact_p95_ms=round(_quantile(exact_ms, 0.95), 3),
        seconds=round(time.perf_counter() - started, 2),
        found=found,
        exact_ids=exact_ids,
    )


def _search(
    column: VectorColumn,
    metric: Metric,
    vector: Any,
    k: int,
    settings: dict[str, str],
    index: VectorIndex | None,
) -> tuple[list[Any], list[float], float]:
    """The ids of one search's k rows, their distances by ``metric`` (ascending: the
    operator's own value), and the milliseconds its query took."""
    rows = distance_queryset(column=column, vector=vector, metric=metric, index=index, k=k)
    query = rows.values_list("pk", metric.column)[:k]
    with local_settings(settings):
        began = time.perf_counter()
        found = list(query)
        elapsed = (time.perf_counter() - began) * 1000
    return [pk for pk, _ in found], [float(distance) for _, distance in found], elapsed


def _quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank, as latency percentiles are read)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def save_recommended(curve: Curve, *, table: str, user: Any, value: int | None = None) -> Any:
    """Save ``value`` (default: the curve's recommendation) as the search setting of
    the curve's index: the app's searches through it run with it from now on.
    ``ValueError`` when the curve recommends nothing and no value is given."""
    from pgvector_admin.models import SearchDefault

    if value is None:
        recommended = curve.recommended
        if recommended is None:
            raise ValueError(
                _(
                    "No %(setting)s measured reaches recall %(target)s: rebuild the index "
                    "with larger parameters, or choose a setting."
                )
                % {"setting": curve.setting_name, "target": f"{curve.target:g}"}
            )
        value = recommended.setting
    point = next((point for point in curve.points if point.setting == value), None)
    if point is None:
        raise ValueError(_("%(value)s is not a measured setting of this curve.") % {"value": value})
    saved = SearchDefault.objects.update_or_create(
        index_name=curve.index,
        defaults={
            "table": table,
            "setting_name": curve.setting_name,
            "value": value,
            "recall": point.recall,
            "k": curve.k,
            "target": curve.target,
            "queries": curve.queries,
            "saved_by": user if getattr(user, "pk", None) else None,
        },
    )[0]
    return saved
