"""Warnings about a model's vector indexes, for its index page and its changelist:
dead rows piling up, a build that no longer fits ``maintenance_work_mem``, the default
search served by no index, and an index the planner does not choose for the standard
query (with the plan that shows it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from pgvector_admin.indexes.report import IndexReport, index_report
from pgvector_admin.numbers import grouped
from pgvector_admin.search.distance_query import distance_queryset
from pgvector_admin.search.index_choice import metrics_served
from pgvector_admin.search.plans import plan_of, scanned_index
from pgvector_admin.search.scan_settings import search_settings
from pgvector_admin.vectors.fields import VectorColumn
from pgvector_admin.vectors.metrics import Metric

# Over this share of dead row versions, an HNSW index's results degrade: pgvector
# marks deleted rows but keeps them in the graph until a VACUUM.
DEAD_ROWS_WARNING = 0.20
# The standard query the planner is asked about: k nearest by the index's metric.
STANDARD_K = 10
# Below this many rows reading them all is cheaper than an index scan, and the
# planner rightly says so: not a problem to warn of.
PLANNER_CHECK_MIN_ROWS = 1000


@dataclass(frozen=True)
class HealthWarning:
    """One problem, in words, and the plan that shows it (for the planner's choice)."""

    text: str
    plan: str = ""


def health_warnings(
    model: type[models.Model],
    *,
    column: VectorColumn,
    metric: Metric,
    report: IndexReport | None = None,
) -> list[HealthWarning]:
    """What is wrong with ``model``'s vector indexes, given the default search
    (``column`` by ``metric``)."""
    report = report or index_report(model, count_rows=False)
    warnings = []
    table = report.table
    if table.dead_share > DEAD_ROWS_WARNING:
        warnings.append(
            HealthWarning(
                _(
                    "%(percent)s %% of the table's row versions are dead (%(dead)s of "
                    "%(all)s): HNSW results degrade after mass deletes. Run VACUUM on the "
                    "table, or rebuild its indexes."
                )
                % {
                    "percent": grouped(table.dead_percent),
                    "dead": grouped(table.dead_rows),
                    "all": grouped(table.rows + table.dead_rows),
                }
            )
        )
    for facts in report.indexes:
        needed = report.build_memory(facts)
        if needed is not None and needed > report.maintenance_work_mem:
            warnings.append(
                HealthWarning(
                    _(
                        "A build of %(index)s needs about %(needed)s, more than "
                        "maintenance_work_mem (%(memory)s): its graph no longer fits, and a "
                        "rebuild would be much slower. Raise maintenance_work_mem for the "
                        "build."
                    )
                    % {
                        "index": facts.name,
                        "needed": filesizeformat(needed),
                        "memory": filesizeformat(report.maintenance_work_mem),
                    }
                )
            )
        if not facts.valid:
            warnings.append(
                HealthWarning(
                    _("%(index)s is invalid (a failed concurrent build): drop it.")
                    % {"index": facts.name}
                )
            )
    if any(served == (column, metric) for served in report.unserved):
        warnings.append(
            HealthWarning(
                _(
                    "No index serves the default search (%(field)s by %(metric)s): every "
                    "such search reads the whole table."
                )
                % {"field": column.name, "metric": metric.label}
            )
        )
    warnings += _planner_warnings(report, column)
    return warnings


def _planner_warnings(report: IndexReport, column: VectorColumn) -> list[HealthWarning]:
    """Each valid index on the whole table the planner does not choose for the
    standard query (k nearest to a row of the table by the index's metric)."""
    if report.table.rows < PLANNER_CHECK_MIN_ROWS:
        return []
    sample = _a_stored_vector(column)
    if sample is None:
        return []
    warnings = []
    for facts in report.indexes:
        index = facts.index
        if not facts.valid or index.predicate is not None or facts.column != column:
            continue
        metrics = metrics_served(index, column)
        if not metrics:
            continue
        metric = metrics[0]
        rows = distance_queryset(
            column=column, vector=sample, metric=metric, index=index, k=STANDARD_K
        )[:STANDARD_K]
        plan = plan_of(rows, search_settings(k=STANDARD_K, exact=False, index=index))
        if scanned_index(plan, among=[index.name]) != index.name:
            warnings.append(
                HealthWarning(
                    _(
                        "The planner does not choose %(index)s for the %(k)s nearest by "
                        "%(metric)s: those searches read the whole table. Run ANALYZE on the "
                        "table; if it still does not, see the plan."
                    )
                    % {"index": index.name, "k": STANDARD_K, "metric": metric.label},
                    plan=plan,
                )
            )
    return warnings


def _a_stored_vector(column: VectorColumn) -> Any:
    value = (
        column.model._default_manager.exclude(**{f"{column.name}__isnull": True})
        .values_list(column.name, flat=True)
        .first()
    )
    return None if value is None else column.type.query(value)
