"""django-debug-toolbar panel "Vector search": every pgvector query of the request,
its settings, its plan (re-run with those settings) and a verdict on index use.

It reads the statements the SQL panel recorded, so it must be listed *before*
``SQLPanel`` (the toolbar gathers stats in reverse order). It works for any view that
runs vector queries, not only the admin's.
"""

from __future__ import annotations

import re
from typing import Any

from debug_toolbar.panels import Panel
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pgvector_admin.embedders.queries import recording_query_embeddings
from pgvector_admin.replicas import replica_aliases, server_facts
from pgvector_admin.search.catalogue import VectorIndex, vector_indexes
from pgvector_admin.search.plans import explain_analyze, index_scan_counts, scanned_index
from pgvector_admin.search.scan_settings import setting_source
from pgvector_admin.search.statements import (
    VectorStatement,
    abbreviate_vectors,
    inspect,
    settings_before,
    where_clause,
)
from pgvector_admin.vectors.metrics import OPERATOR_NAMES, operator_for_opclass

_TOP_ROWS = re.compile(r"actual time=[\d.]+\.\.[\d.]+ rows=([\d.]+)")
_SEQ_SCAN = re.compile(r"Seq Scan on")


class VectorSearchPanel(Panel):
    """The vector queries of a request, and whether an index served them."""

    title = gettext_lazy("Vector search")
    nav_title = gettext_lazy("Vector search")
    template = "pgvector_admin/panels/vector_search.html"

    def process_request(self, request: HttpRequest) -> HttpResponse:
        # The query texts embedded while the request runs (a search by text).
        with recording_query_embeddings() as embedded:
            response = super().process_request(request)
        self._embedded = [record.as_dict() for record in embedded]
        return response

    @property
    def nav_subtitle(self) -> str:
        stats = self.get_stats()
        count = len(stats.get("queries", []))
        return ngettext(
            "%(count)s vector query in %(ms)sms", "%(count)s vector queries in %(ms)sms", count
        ) % {"count": count, "ms": f"{stats.get('time', 0.0):.2f}"}

    def generate_stats(self, request: HttpRequest, response: HttpResponse) -> None:
        recorded = self.toolbar.stats.get("SQLPanel", {}).get("queries", [])
        # A statement without SQL (a cursor's callproc, a driver's own) has nothing to say.
        recorded = [query for query in recorded if isinstance(query.get("sql"), str)]
        statements = [(query["sql"], query.get("trans_id")) for query in recorded]
        queries = []
        indexes: dict[tuple[str, str], list[VectorIndex]] = {}  # per alias and table
        for position, query in enumerate(recorded):
            statement = inspect(query["sql"])
            if statement is None:
                continue
            alias = query.get("alias", "default")
            if statement.table and (alias, statement.table) not in indexes:
                indexes[alias, statement.table] = vector_indexes(statement.table, using=alias)
            set_here = settings_before(statements, position)
            found = indexes.get((alias, statement.table or ""), [])
            queries.append(self._describe(query, statement, set_here, found))
        self.record_stats(
            {
                "queries": queries,
                "time": sum(query["duration"] for query in queries),
                "embeddings": getattr(self, "_embedded", []),
            }
        )

    def _describe(
        self,
        query: dict[str, Any],
        statement: VectorStatement,
        set_here: dict[str, str],
        indexes: list[VectorIndex],
    ) -> dict[str, Any]:
        alias = query.get("alias", "default")
        described: dict[str, Any] = {
            "sql": abbreviate_vectors(query["sql"]),
            "duration": query["duration"],
            "operator": statement.operator,
            "metric": OPERATOR_NAMES[statement.operator],
            "is_select": statement.is_select,
            "set_by_request": set_here,
            "indexes": [
                {
                    "name": index.name,
                    "opclass": index.opclass,
                    "definition": index.definition,
                    "setting_source": setting_source(index, statement.limit or 1),
                }
                for index in indexes
            ],
            "limit": statement.limit,
            "plan": "",
            "settings": {},
            "rows": None,
            "short": False,
            "uses_index": None,
            "verdict": "",
            "condition": abbreviate_vectors(where_clause(query["sql"])),
            "visited": None,
            "iterative": "",
            # Which server ran it, when the app has read replicas (pgvector_admin.replicas).
            "server": _server(alias),
        }
        if not statement.is_select:
            described["verdict"] = _(
                "Not a SELECT: listed only, never re-run, so nothing it did happens twice."
            )
            return described
        plan, in_force = explain_analyze(query["sql"], settings=set_here, using=alias)
        rows = _top_rows(plan)
        used = scanned_index(plan, among=[index.name for index in indexes])
        described.update(
            plan=plan,
            settings=in_force,
            rows=rows,
            short=statement.limit is not None and rows is not None and rows < statement.limit,
            uses_index=used,
            verdict=_verdict(statement, plan, used, indexes, set_here),
            visited=index_scan_counts(plan, used),
            iterative=in_force.get("hnsw.iterative_scan")
            or in_force.get("ivfflat.iterative_scan", ""),
        )
        return described


def _server(alias: str) -> str:
    """The server behind ``alias`` in words, with a replica's lag; "" without replicas."""
    if not replica_aliases():
        return ""
    try:
        return server_facts(alias).describe()
    except DatabaseError as error:
        return _("%(server)s (unreachable now: %(reason)s)") % {
            "server": alias,
            "reason": str(error).strip().splitlines()[0],
        }


def _top_rows(plan: str) -> int | None:
    match = _TOP_ROWS.search(plan)
    return int(float(match.group(1))) if match else None


def _verdict(
    statement: VectorStatement,
    plan: str,
    used: str | None,
    indexes: list[VectorIndex],
    set_here: dict[str, str],
) -> str:
    """Why the plan did or did not use a vector index, in the seed tutorial's terms."""
    if used:
        return _("uses index %(index)s") % {"index": used}
    operator = statement.operator
    serving = [index for index in indexes if operator_for_opclass(index.opclass) == operator]
    if set_here.get("enable_indexscan", "").lower() in {"off", "false", "0"}:
        return _(
            "index scans were switched off for this query (enable_indexscan = off): an exact scan"
        )
    if not indexes:
        return _("no vector index on this table: every row is read and sorted")
    if not serving:
        opclasses = ", ".join(
            _("%(index)s is %(opclass)s") % {"index": index.name, "opclass": index.opclass}
            for index in indexes
        )
        return _(
            "the operator %(operator)s (%(name)s) matches no index opclass (%(opclasses)s): "
            "every row is read and sorted"
        ) % {"operator": operator, "name": OPERATOR_NAMES[operator], "opclasses": opclasses}
    if statement.order_operator is None:
        return _(
            "no ORDER BY on the distance: an index serves only ORDER BY embedding %(operator)s "
            "query"
        ) % {"operator": operator}
    if statement.descending:
        return _("DESC order: an index returns the nearest first only, so every row is read")
    if statement.limit is None:
        return _("no LIMIT: an index scan serves only ORDER BY … LIMIT k, so every row is read")
    if statement.has_filter and _SEQ_SCAN.search(plan):
        return _("a filter (WHERE) made the planner read the table instead of %(index)s") % {
            "index": serving[0].name
        }
    return _(
        "the planner judged a sequential scan cheaper than %(index)s (a small table, or stale "
        "statistics)"
    ) % {"index": serving[0].name}
