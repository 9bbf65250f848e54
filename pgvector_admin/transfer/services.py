"""Writes to a vector table: imports and exports."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import psycopg
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    NotSupportedError,
    connection,
    models,
    transaction,
)
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from pgvector.django import HnswIndex, IvfflatIndex

from pgvector_admin.db.errors import is_connection_lost
from pgvector_admin.db.identifiers import identifier
from pgvector_admin.search.catalogue import stored_dimensions
from pgvector_admin.transfer.columns import ImportSchema
from pgvector_admin.transfer.csv_rows import BadRow, FileColumns, FileError, GoodRow, read_rows
from pgvector_admin.transfer.formula_guard import guarding, neutralised_sql
from pgvector_admin.transfer.rights import ImportRights
from pgvector_admin.transfer.staging import Staging, drop_staging
from pgvector_admin.vectors.fields import vector_columns

MAX_LISTED_ERRORS = 1000
SAMPLE_ROWS = 100
# Measured on the development machine (docs/benchmarks.md, bench/imports.py): writing
# one 3-d row into the HNSW index costs about 0.72 ms in an empty table and grows with
# the table (about 2 ms a row at a million rows); building the index costs 0.11 to
# 0.22 ms a row. Only the ratio matters to the choice.
INSERT_INTO_INDEX_MS = 0.72
INSERT_INTO_INDEX_MS_PER_MILLION_ROWS = 1.2
BUILD_INDEX_MS_PER_ROW = 0.15
# Serialises imports: two rebuilding at once would drop each other's index.
IMPORT_LOCK_KEY = 0x7665637472  # "vectr"

Progress = Callable[[str, int, int | None], None]


@dataclass
class ImportReport:
    """What an import found and did."""

    rows: int = 0
    new: int = 0
    updated: int = 0
    errors: list[BadRow] = field(default_factory=list)
    error_count: int = 0
    file_error: str | None = None
    sample: list[GoodRow] = field(default_factory=list)
    sample_existing_ids: set[Any] = field(default_factory=set)
    # The model's import columns, and the names of those the file has.
    schema: ImportSchema | None = None
    columns: list[str] = field(default_factory=list)
    strategy: str = ""
    written: bool = False
    index_error: str | None = None
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.file_error is None and self.error_count == 0

    @property
    def how(self) -> str:
        """How the rows went in, in words."""
        if self.strategy == "rebuild":
            return _("loaded without the vector indexes, then the indexes rebuilt")
        return _("written into the live vector indexes")

    def add_error(self, row: BadRow) -> None:
        self.add_errors([row], 1)

    def add_errors(self, rows: list[BadRow], count: int) -> None:
        """Count ``count`` bad lines, listing ``rows`` (some of them) up to the limit."""
        self.error_count += count
        self.errors.extend(rows[: max(0, MAX_LISTED_ERRORS - len(self.errors))])


def choose_strategy(*, existing: int, incoming: int) -> str:
    """``live`` (insert into the existing index) or ``rebuild`` (load without the index,
    then build it), whichever the cost model says is cheaper."""
    per_row = INSERT_INTO_INDEX_MS + INSERT_INTO_INDEX_MS_PER_MILLION_ROWS * existing / 1e6
    live = incoming * per_row
    rebuild = (existing + incoming) * BUILD_INDEX_MS_PER_ROW
    return "rebuild" if rebuild < live else "live"


def import_vectors(
    stream: BinaryIO,
    *,
    model: type[models.Model],
    dry_run: bool,
    replace: bool = False,
    strategy: str = "auto",
    delimiter: str = ",",
    progress: Progress | None = None,
    rights: ImportRights | None = None,
) -> ImportReport:
    """Import a CSV/TSV file of ``model``'s rows, all or nothing.

    The columns are the model's (``pgvector_admin.transfer.columns``), named in a header line.
    Every line is validated by the fields while the file streams into a temporary
    staging table (memory does not grow with the file); what needs the whole file
    (keys repeated, foreign keys, new rows lacking a column) is checked there in bulk.
    Any bad line and nothing is written: the report names each by line number. With
    ``dry_run`` the file is only checked (a preview). Otherwise the rows are upserted by
    primary key (rows without one are added) with ``replace`` emptying the table first,
    either into the live vector indexes or, when cheaper, without them and the indexes
    built again after (``strategy``: ``auto``, ``live`` or ``rebuild``). Searches keep
    working throughout; while an index is rebuilt they are exact scans. With
    ``rights`` (the user's permissions), a file that would add, change or (``replace``)
    delete more than they allow is refused whole, before anything is written.
    """
    started = time.perf_counter()
    report = ImportReport()
    progress = progress or _no_progress
    schema = import_schema(model)
    if not dry_run:
        _lock_imports()
    try:
        if not dry_run:
            ensure_vector_indexes(model)
        with transaction.atomic(), connection.cursor() as cursor:
            staging = _stage(cursor, stream, schema, report, delimiter=delimiter, progress=progress)
            if staging is not None and report.file_error is None:
                _check_whole_file(staging, report, replace=replace)
            if rights is not None and report.ok:
                report.file_error = rights.refusal(
                    new=report.new, updated=report.updated, replace=replace
                )
            report.phases["validate"] = time.perf_counter() - started
            if dry_run or not report.ok or staging is None:
                transaction.set_rollback(True)
                return report
            report.strategy = _pick_strategy(
                strategy, model=model, replace=replace, incoming=report.rows
            )
            if report.strategy == "live":
                _load(staging, report, replace=replace, progress=progress)
        if report.strategy == "live":
            # Committed: from here on the import cannot be undone (nor cancelled).
            progress("written", report.rows, report.rows)
        if report.strategy == "rebuild":
            _load_then_rebuild(staging, report, replace=replace, progress=progress)
        report.written = True
        return report
    except (IntegrityError, NotSupportedError, DataError) as error:
        # Refused by a constraint the lines could not be checked against one by one
        # (a unique value already in the table, a table other rows refer to emptied):
        # the transaction rolled back, nothing was written.
        report.file_error = (
            _("PostgreSQL refused the rows, so nothing was written: %(reason)s") % {"reason": error}
        ).strip()
        return report
    except (DatabaseError, InterfaceError, psycopg.Error) as error:
        if not is_connection_lost(error):
            raise
        # The connection died (the server restarted, the network dropped): PostgreSQL
        # rolled the open transaction back, so what was not committed is not there.
        raise ImportInterrupted(report, error) from error
    finally:
        if not dry_run:
            _end_import_session()
        report.seconds = time.perf_counter() - started


def import_schema(model: type[models.Model]) -> ImportSchema:
    """The columns ``model``'s import files may have. A vector field declared without a
    length takes that of the rows already stored, so every row keeps one length."""
    schema = ImportSchema.of(model)
    for column in schema.columns:
        if column.vector is not None and column.dimensions is None:
            column.dimensions = stored_dimensions(column.vector)
    return schema


def _stage(
    cursor: Any,
    stream: BinaryIO,
    schema: ImportSchema,
    report: ImportReport,
    *,
    delimiter: str,
    progress: Progress,
) -> Staging | None:
    """Validate every line; COPY the good ones into the staging table. None when the
    file's header cannot be read."""
    staging = None
    rows = read_rows(stream, schema=schema, delimiter=delimiter)
    try:
        file = next(rows)
        assert isinstance(file, FileColumns)
        report.columns = [column.name for column in file.columns]
        staging = Staging(cursor, schema, file)
        staging.create()
        with staging.copy() as copy:
            for row in rows:
                if isinstance(row, BadRow):
                    report.add_error(row)
                    continue
                assert isinstance(row, GoodRow)
                report.rows += 1
                if len(report.sample) < SAMPLE_ROWS:
                    report.sample.append(row)
                # Staged even after an error, to check the whole file in bulk.
                staging.write(copy, row)
                if report.rows % 10_000 == 0:
                    progress("validate", report.rows, None)
    except FileError as error:
        report.file_error = str(error)
    except psycopg.errors.DataError as error:
        # A value the field accepted and PostgreSQL does not (rare: its checks are
        # the same). The transaction is broken; the caller rolls it back.
        report.file_error = _("PostgreSQL refused a value: %(reason)s.") % {
            "reason": error.diag.message_primary
        }
    progress("validate", report.rows, report.rows)
    report.schema = schema
    return staging


def _check_whole_file(staging: Staging, report: ImportReport, *, replace: bool) -> None:
    for bad_rows, count in staging.bad_lines(replace=replace):
        report.add_errors(bad_rows, count)
    report.errors.sort(key=lambda row: row.line)
    if not report.ok:
        return
    report.updated = 0 if replace else staging.count_updates()
    report.new = report.rows - report.updated
    sample_ids = [row.id for row in report.sample if row.id is not None]
    if sample_ids and not replace:
        report.sample_existing_ids = set(
            staging.schema.model._default_manager.filter(pk__in=sample_ids).values_list(
                "pk", flat=True
            )
        )


def _load(staging: Staging, report: ImportReport, *, replace: bool, progress: Progress) -> None:
    """Move the staged rows into the table (in the caller's transaction)."""
    loading = time.perf_counter()
    progress("load", 0, report.rows)
    # Foreign keys checked statement by statement, not at commit: a row that breaks one
    # is refused here, and no check is left pending in the transaction (PostgreSQL
    # neither empties a table nor builds an index while one is).
    staging.cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    if replace:
        # Readers wait for this transaction (seconds: the index is built afterwards).
        staging.cursor.execute(f"TRUNCATE {identifier(staging.schema.table)}")
    staging.apply(replace=replace)
    staging.cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    progress("load", report.rows, report.rows)
    report.phases["load"] = time.perf_counter() - loading


def _load_then_rebuild(
    staging: Staging, report: ImportReport, *, replace: bool, progress: Progress
) -> None:
    """Drop the indexes (committed at once, so searches never wait behind it), load in
    a transaction of its own, then build the indexes again. Searches meanwhile are exact
    scans; building takes a SHARE lock, which lets them read."""
    model = staging.schema.model
    _drop_vector_indexes(model)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            staging.cursor = cursor
            _load(staging, report, replace=replace, progress=progress)
    finally:
        # Also when the load failed: the table must not stay without its indexes.
        building = time.perf_counter()
        try:
            ensure_vector_indexes(model, progress=progress)
        except DatabaseError as error:
            report.index_error = str(error)
        report.phases["index"] = time.perf_counter() - building


class ImportInterrupted(DatabaseError):
    """The database connection was lost during an import."""

    def __init__(self, report: ImportReport, error: Exception) -> None:
        self.report = report
        done = (
            _(
                "the rows were written, but the index rebuild did not finish (the next import "
                "rebuilds it)"
            )
            if report.written
            else _("nothing was written")
        )
        super().__init__(
            _("The database connection was lost during the import: %(done)s. (%(reason)s)")
            % {"done": done, "reason": error}
        )


def _end_import_session() -> None:
    """Drop the staging table and release the import lock; on a dead connection there is
    nothing to do (PostgreSQL dropped both with the session)."""
    try:
        drop_staging()
        _unlock_imports()
    except (DatabaseError, InterfaceError, psycopg.Error) as error:
        if not is_connection_lost(error):
            raise
        connection.close()


def _no_progress(phase: str, done: int, total: int | None) -> None:
    return None


def _pick_strategy(
    strategy: str, *, model: type[models.Model], replace: bool, incoming: int
) -> str:
    if not model_vector_indexes(model):
        return "live"  # no index to set aside
    if replace:
        return "rebuild"  # the table empties first: building once is always cheaper
    if strategy == "auto":
        return choose_strategy(existing=model._default_manager.count(), incoming=incoming)
    if strategy not in {"live", "rebuild"}:
        raise ValueError(f"unknown strategy {strategy!r}: auto, live or rebuild")
    return strategy


def export_columns(model: type[models.Model]) -> tuple[str, ...]:
    """The columns of ``model``'s export, by field name: its primary key, its other
    concrete fields (a foreign key as the related row's id), then its vector fields
    (as pgvector writes them: ``[1,2,3]``, ``{1:0.5}/10``, ``0101``)."""
    vectors = {column.name for column in vector_columns(model)}
    fields = [field.name for field in model._meta.concrete_fields if not field.primary_key]
    return (
        model._meta.pk.name,
        *(name for name in fields if name not in vectors),
        *(name for name in fields if name in vectors),
    )


def export_vectors(
    out: BinaryIO, *, model: type[models.Model], ids: Iterable[Any] | None = None
) -> int:
    """Write the CSV of every row of ``model`` (or those with ``ids``) to ``out``,
    streamed by PostgreSQL's COPY; returns the bytes written."""
    written = 0
    for chunk in export_chunks(queryset=model._default_manager.all(), ids=ids):
        out.write(chunk)
        written += len(chunk)
    return written


def export_chunks(
    *,
    queryset: QuerySet[Any],
    ids: Iterable[Any] | None = None,
    columns: Iterable[str] | None = None,
) -> Iterator[bytes]:
    """The export CSV of ``queryset``'s rows, as it streams out of
    ``COPY ... TO STDOUT``: a header of field names, then the rows by primary key.
    ``columns`` picks some of the model's export columns."""
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    every = export_columns(queryset.model)
    wanted = set(every if columns is None else columns)
    chosen = [column for column in every if column in wanted] or list(every)
    rows = queryset.order_by("pk").values_list(*chosen)
    sql, params = rows.query.sql_with_params()
    selected = _formula_safe(sql, params, queryset.model, chosen)
    query = f"COPY ({selected}) TO STDOUT WITH (FORMAT csv, HEADER)"
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(query, params or None) as copy:
        for chunk in copy:
            yield bytes(chunk)


def _formula_safe(sql: str, params: Any, model: type[models.Model], names: list[str]) -> str:
    """``sql`` (selecting the fields ``names``) with its text columns neutralised for
    spreadsheets (``pgvector_admin.transfer.formula_guard``); the other columns as they are, every
    column under the name it had."""
    fields = [model._meta.get_field(name) for name in names]
    if not guarding() or not any(isinstance(f, _TEXT_FIELDS) for f in fields):
        return sql
    with connection.cursor() as cursor:  # the names the query gives its columns
        cursor.execute(f"SELECT * FROM ({sql}) AS exported LIMIT 0", params)
        headers = [column.name for column in cursor.description]
    quote = identifier
    positional = ", ".join(f"c{number}" for number in range(len(headers)))
    selected = ", ".join(
        f"{neutralised_sql(f'c{number}') if isinstance(f, _TEXT_FIELDS) else f'c{number}'} "
        f"AS {quote(header)}"
        for number, (f, header) in enumerate(zip(fields, headers, strict=True))
    )
    # The inner query's order (by key) is kept: a scan of a subquery keeps its rows' order.
    return f"SELECT {selected} FROM ({sql}) AS exported({positional})"


_TEXT_FIELDS = (models.CharField, models.TextField)


def model_vector_indexes(model: type[models.Model]) -> list[HnswIndex | IvfflatIndex]:
    """The HNSW and IVFFlat indexes ``model`` declares (its Meta.indexes): those an
    import may set aside and build again. Indexes made by hand (RunSQL) stay live."""
    return [index for index in model._meta.indexes if isinstance(index, HnswIndex | IvfflatIndex)]


def ensure_vector_indexes(
    model: type[models.Model], *, progress: Progress | None = None
) -> list[str]:
    """Build the model's declared vector indexes that are missing (after a rebuild
    import, or one that was interrupted); returns the names built. Reports build
    progress from ``pg_stat_progress_create_index`` while it runs."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s", [model._meta.db_table]
        )
        present = {name for (name,) in cursor.fetchall()}
    missing = [index for index in model_vector_indexes(model) if index.name not in present]
    if not missing:
        return []
    watcher = IndexBuildWatcher(progress, table=model._meta.db_table) if progress else None
    if watcher:
        progress("index: building", 0, None)  # at once: the phase is known before it reports
        watcher.start()
    try:
        with connection.schema_editor() as editor:
            for index in missing:
                editor.add_index(model, index)
    finally:
        if watcher:
            watcher.stop()
    return [index.name for index in missing]


def _drop_vector_indexes(model: type[models.Model]) -> None:
    with connection.cursor() as cursor:
        for index in model_vector_indexes(model):
            cursor.execute(f"DROP INDEX IF EXISTS {identifier(index.name)}")


def _lock_imports() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [IMPORT_LOCK_KEY])


def _unlock_imports() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK_KEY])


class IndexBuildWatcher:
    """Reports an index build's progress from pg_stat_progress_create_index, read on a
    second connection while the build runs on the first."""

    def __init__(self, progress: Progress, *, table: str, interval: float = 1.0) -> None:
        self.progress = progress
        self.table = table
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        params = connection.get_connection_params()
        try:
            with psycopg.connect(**params, autocommit=True) as watcher:
                while not self._stop.wait(self.interval):
                    row = watcher.execute(
                        "SELECT phase, tuples_done, tuples_total, blocks_done, blocks_total "
                        "FROM pg_stat_progress_create_index WHERE relid = to_regclass(%s)",
                        [self.table],
                    ).fetchone()
                    if row:
                        phase, tuples_done, tuples_total, blocks_done, blocks_total = row
                        if tuples_total:
                            self.progress(f"index: {phase} (tuples)", tuples_done, tuples_total)
                        else:
                            total = blocks_total or None
                            self.progress(f"index: {phase} (blocks)", blocks_done, total)
        except Exception:
            return  # progress is a courtesy: the build goes on without it
