"""What the index page shows of a model's table: every vector index on it as PostgreSQL
describes it (parameters, size, valid and ready), the table's rows, dead rows and
maintenance, the memory a build needs against ``maintenance_work_mem``, the metrics
no index serves, and where the database differs from the model's ``Meta.indexes``.

Read from PostgreSQL's system tables and statistics views only: nothing here writes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.utils.translation import gettext as _

from pgvector_admin.conf import app_settings
from pgvector_admin.db.identifiers import identifier
from pgvector_admin.db.index_rows import index_row
from pgvector_admin.search.catalogue import VectorIndex, vector_indexes
from pgvector_admin.search.index_choice import index_for
from pgvector_admin.transfer.services import model_vector_indexes
from pgvector_admin.vectors.fields import VectorColumn, vector_columns
from pgvector_admin.vectors.metrics import Metric

# An HNSW build keeps its graph in memory: per row the value, its layer-0 neighbour
# list of 2·m candidates of 16 bytes (pgvector's HnswCandidate) and about 200 bytes
# more (the element, the upper layers). Measured with pgvector 0.8 and m = 16: with
# maintenance_work_mem at 16 MB, "hnsw graph no longer fits into maintenance_work_mem"
# came after 22,980 rows of 3-d vectors and 4,428 of 768-d ones (8,851 at 32 MB):
# 730 and 3,789 bytes a row, the value (20 and 3,080 bytes) + 710.
HNSW_ELEMENT_BYTES = 198
HNSW_CANDIDATE_BYTES = 16


@dataclass(frozen=True)
class IndexFacts:
    """One vector index on the table, and its state in PostgreSQL."""

    index: VectorIndex
    parameters: dict[str, str]
    size_bytes: int
    valid: bool
    ready: bool
    declared: bool
    # The model field it indexes (through a cast or a quantization, perhaps).
    column: VectorColumn | None

    @property
    def name(self) -> str:
        return self.index.name

    @property
    def state(self) -> str:
        if not self.ready:
            return _("being built")
        return _("valid") if self.valid else _("invalid (a failed concurrent build: drop it)")


@dataclass(frozen=True)
class TableFacts:
    """The table's rows (counted), and its dead rows, size and upkeep from
    pg_stat_user_tables (as of the last statistics PostgreSQL gathered)."""

    rows: int
    dead_rows: int
    size_bytes: int
    last_vacuum: datetime.datetime | None
    last_analyze: datetime.datetime | None
    # True when ``rows`` is the planner's estimate (pg_class.reltuples), not a count.
    rows_estimated: bool = False

    @property
    def dead_share(self) -> float:
        """Dead rows as a share of all row versions (0 for an empty table)."""
        total = self.rows + self.dead_rows
        return self.dead_rows / total if total else 0.0

    @property
    def dead_percent(self) -> float:
        return 100 * self.dead_share


@dataclass
class IndexReport:
    """Everything the index page shows."""

    indexes: list[IndexFacts]
    table: TableFacts
    maintenance_work_mem: int
    # (column, metric) pairs no index serves: those searches are exact scans.
    unserved: list[tuple[VectorColumn, Metric]] = field(default_factory=list)
    # Declared in Meta.indexes but not in the database, and the other way round.
    missing: list[str] = field(default_factory=list)
    undeclared: list[str] = field(default_factory=list)
    # Declared and present, but built with other parameters than declared.
    differing: list[tuple[str, str]] = field(default_factory=list)

    def build_memory(self, facts: IndexFacts) -> int | None:
        """About how much memory building ``facts`` again needs to keep its graph in
        memory (HNSW); None when the build keeps little (IVFFlat)."""
        if facts.index.method != "hnsw" or facts.column is None:
            return None
        m = int(facts.parameters.get("m", 16))
        value = value_bytes(facts.column)
        per_row = value + HNSW_ELEMENT_BYTES + 2 * m * HNSW_CANDIDATE_BYTES
        return int(self.table.rows * per_row)


def index_report(model: type[models.Model], *, count_rows: bool = True) -> IndexReport:
    """The index page's facts for ``model``'s table: its rows counted up to
    ``PGVECTOR_ADMIN["COUNT_ESTIMATE_ABOVE"]``, past it (and always with
    ``count_rows=False``) as the planner estimates them, from the last ANALYZE."""
    table = model._meta.db_table
    columns = vector_columns(model)
    by_column = {column.column: column for column in columns}
    declared = {index.name: index for index in model_vector_indexes(model)}
    indexes = []
    for index in vector_indexes(table):
        parameters, size, valid, ready = _index_state(index.name)
        shape = index.shape
        indexes.append(
            IndexFacts(
                index=index,
                parameters=parameters,
                size_bytes=size,
                valid=valid,
                ready=ready,
                declared=index.name in declared,
                column=by_column.get(shape.column) if shape else None,
            )
        )
    present = {facts.name for facts in indexes}
    report = IndexReport(
        indexes=indexes,
        table=_table_facts(table, count_rows=count_rows),
        maintenance_work_mem=_setting_bytes("maintenance_work_mem"),
        missing=[name for name in declared if name not in present],
        undeclared=[facts.name for facts in indexes if not facts.declared],
    )
    for facts in indexes:
        if facts.declared:
            difference = _difference(declared[facts.name], facts)
            if difference:
                report.differing.append((facts.name, difference))
    usable = [facts.index for facts in indexes if facts.valid]
    for column in columns:
        for metric in column.metrics:
            on_column = [i for i in usable if i.shape and i.shape.column == column.column]
            if index_for(column, metric, on_column) is None:
                report.unserved.append((column, metric))
    return report


def value_bytes(column: VectorColumn) -> int:
    """The average stored size of ``column``'s values: PostgreSQL's statistics if the
    table was analyzed, else what its type and dimensions take."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT avg_width FROM pg_stats WHERE schemaname = current_schema() "
            "AND tablename = %s AND attname = %s",
            [column.table, column.column],
        )
        row = cursor.fetchone()
    if row and row[0]:
        return int(row[0])
    dimensions = column.dimensions or 0
    per_value = {"vector": 4, "halfvec": 2}.get(column.type.name)
    if per_value is not None:
        return 8 + per_value * dimensions
    if column.type.name == "bit":
        return 8 + (dimensions + 7) // 8
    return 64  # sparsevec: depends on the non-zero values; analyze the table to know


def declaration(facts: IndexFacts) -> str:
    """The ``Meta.indexes`` entry that declares ``facts``'s index, as Python source, for
    an index the model does not declare (made by hand, or on the index page)."""
    column = facts.column
    field_name = column.name if column is not None else "?"
    kind = "HnswIndex" if facts.index.method == "hnsw" else "IvfflatIndex"
    arguments = [f'name="{facts.name}"', f'fields=["{field_name}"]']
    for key in ("m", "ef_construction", "lists"):
        if key in facts.parameters:
            arguments.append(f"{key}={facts.parameters[key]}")
    arguments.append(f'opclasses=["{facts.index.opclass}"]')
    return f"{kind}({', '.join(arguments)})"


def _index_state(name: str) -> tuple[dict[str, str], int, bool, bool]:
    row = index_row(name)
    if row is None:  # dropped since the table's indexes were read
        return {}, 0, False, False
    return row.options, row.size_bytes, row.valid, row.ready


def _table_facts(table: str, *, count_rows: bool) -> TableFacts:
    with connection.cursor() as cursor:
        cursor.execute(
            # Uncounted, the rows are the planner's own estimate (pg_class.reltuples).
            "SELECT GREATEST(c.reltuples, 0)::bigint, s.n_dead_tup, pg_table_size(s.relid), "
            "GREATEST(s.last_vacuum, s.last_autovacuum), "
            "GREATEST(s.last_analyze, s.last_autoanalyze) "
            "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.relid = to_regclass(%s)",
            [table],
        )
        row = cursor.fetchone()
    if row is None:
        return TableFacts(0, 0, 0, None, None)
    live, dead, size, vacuumed, analyzed = row
    threshold = app_settings.COUNT_ESTIMATE_ABOVE
    if not count_rows or (threshold and live > threshold):
        # Counting reads every row (50 ms a million 3-d rows, seconds at ten million),
        # as the changelist's count would: past the threshold the page says "about".
        return TableFacts(int(live), int(dead), int(size or 0), vacuumed, analyzed, True)
    with connection.cursor() as cursor:
        # Below it, counted: the statistics lag behind a bulk load into a small table.
        cursor.execute(f"SELECT count(*) FROM {identifier(table)}")
        (live,) = cursor.fetchone()
    return TableFacts(int(live), int(dead), int(size or 0), vacuumed, analyzed)


def _setting_bytes(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_bytes(current_setting(%s))", [name])
        return int(cursor.fetchone()[0])


def _difference(declared: Any, facts: IndexFacts) -> str:
    """How the index in the database differs from its declaration ('' if it does not)."""
    kwargs = declared.deconstruct()[2]
    wanted = {key: str(kwargs[key]) for key in ("m", "ef_construction", "lists") if key in kwargs}
    found = {key: facts.parameters[key] for key in wanted if key in facts.parameters}
    differences = [
        _("%(key)s %(found)s (declared %(value)s)")
        % {"key": key, "found": found.get(key, _("default")), "value": value}
        for key, value in wanted.items()
        if found.get(key) != value
    ]
    opclasses = kwargs.get("opclasses") or []
    if opclasses and opclasses[0] != facts.index.opclass:
        differences.append(
            _("opclass %(found)s (declared %(value)s)")
            % {"found": facts.index.opclass, "value": opclasses[0]}
        )
    return ", ".join(differences)
