"""Writes to the catalog."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
from django.db import DatabaseError, InterfaceError, connection, models, transaction
from django.db.models import QuerySet
from pgvector.django import HnswIndex

from catalog.csv_rows import BadRow, FileError, GoodRow, read_rows
from catalog.db_errors import is_connection_lost
from catalog.models import INDEX_NAME, Digit, Item
from catalog.vector_fields import vector_columns


def seed_vectors() -> list[list[float]]:
    """The seed tutorial's 27 example vectors: [i, j, k] for i, j, k in 1..3."""
    return [[float(i), float(j), float(k)] for i, j, k in product(range(1, 4), repeat=3)]


def load_seed_items() -> int:
    """Insert the seed's 27 vectors if the table is empty; return how many were added."""
    with transaction.atomic():
        # A second quickstart running at the same time waits here, then sees the rows.
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Item._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        if Item.objects.exists():
            return 0
        items = [
            Item(embedding=vector, label="seed " + "-".join(str(int(v)) for v in vector))
            for vector in seed_vectors()
        ]
        Item.objects.bulk_create(items)
    return len(items)


DIGITS_FILE = Path(__file__).resolve().parent / "data" / "digits.csv.gz"


def read_digits() -> list[tuple[list[float], int]]:
    """The 1,797 handwritten digits (catalog/data/README.md): 64 pixel values and the
    digit, for each image."""
    with gzip.open(DIGITS_FILE, "rt", encoding="ascii") as lines:
        rows = [line.strip().split(",") for line in lines if line.strip()]
    return [([float(value) for value in row[:64]], int(row[64])) for row in rows]


def load_digits() -> int:
    """Insert the handwritten digits if their table is empty; return how many were added."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Digit._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        if Digit.objects.exists():
            return 0
        digits = [Digit(image=image, digit=digit) for image, digit in read_digits()]
        Digit.objects.bulk_create(digits, batch_size=1000)
    return len(digits)


# Imports and exports ---------------------------------------------------------------

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
    sample_existing_ids: set[int] = field(default_factory=set)
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
            return "loaded without the index, then the index rebuilt"
        return "written into the live index"

    def add_error(self, row: BadRow) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(row)


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
    dry_run: bool,
    replace: bool = False,
    strategy: str = "auto",
    delimiter: str = ",",
    progress: Progress | None = None,
) -> ImportReport:
    """Import a CSV/TSV file of vectors, all or nothing.

    Every line is validated while the file streams into a temporary staging table
    (memory does not grow with the file); duplicate ids are found there. Any bad line
    and nothing is written: the report names each by line number. With ``dry_run``
    the file is only checked (a preview). Otherwise the rows are upserted by id (rows
    without an id are added) with ``replace`` emptying the table first, either into
    the live HNSW index or, when cheaper, without it and the index rebuilt after
    (``strategy``: ``auto``, ``live`` or ``rebuild``). Searches keep working
    throughout; while the index is rebuilt they are exact scans.
    """
    started = time.perf_counter()
    report = ImportReport()
    progress = progress or _no_progress
    if not dry_run:
        _lock_imports()
    try:
        if not dry_run:
            ensure_vector_index()
        with transaction.atomic(), connection.cursor() as cursor:
            _create_staging(cursor)
            _validate(
                cursor, stream, report, replace=replace, delimiter=delimiter, progress=progress
            )
            report.phases["validate"] = time.perf_counter() - started
            if dry_run or not report.ok:
                transaction.set_rollback(True)
                return report
            report.strategy = _pick_strategy(strategy, replace=replace, incoming=report.rows)
            if report.strategy == "live":
                _load(cursor, report, replace=replace, progress=progress)
        if report.strategy == "rebuild":
            _load_then_rebuild(report, replace=replace, progress=progress)
        report.written = True
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


def _validate(
    cursor: Any,
    stream: BinaryIO,
    report: ImportReport,
    *,
    replace: bool,
    delimiter: str,
    progress: Progress,
) -> None:
    _stage(cursor, stream, report, delimiter=delimiter, progress=progress)
    if report.file_error is None:
        _check_duplicate_ids(cursor, report)
    if not report.ok:
        return
    report.updated = 0 if replace else _count_updates(cursor)
    report.new = report.rows - report.updated
    sample_ids = [row.id for row in report.sample if row.id is not None]
    if sample_ids and not replace:
        report.sample_existing_ids = set(
            Item.objects.filter(pk__in=sample_ids).values_list("pk", flat=True)
        )


def _load(cursor: Any, report: ImportReport, *, replace: bool, progress: Progress) -> None:
    """Move the staged rows into the table (in the caller's transaction)."""
    loading = time.perf_counter()
    progress("load", 0, report.rows)
    if replace:
        # Readers wait for this transaction (seconds: the index is built afterwards).
        cursor.execute(f"TRUNCATE {Item._meta.db_table}")
    _apply_staging(cursor)
    progress("load", report.rows, report.rows)
    report.phases["load"] = time.perf_counter() - loading


def _load_then_rebuild(report: ImportReport, *, replace: bool, progress: Progress) -> None:
    """Drop the index (committed at once, so searches never wait behind it), load in a
    transaction of its own, then build the index again. Searches meanwhile are exact
    scans; building takes a SHARE lock, which lets them read."""
    _drop_vector_index()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _load(cursor, report, replace=replace, progress=progress)
    finally:
        # Also when the load failed: the table must not stay without its index.
        building = time.perf_counter()
        try:
            ensure_vector_index(progress=progress)
        except DatabaseError as error:
            report.index_error = str(error)
        report.phases["index"] = time.perf_counter() - building


class ImportInterrupted(DatabaseError):
    """The database connection was lost during an import."""

    def __init__(self, report: ImportReport, error: Exception) -> None:
        self.report = report
        done = (
            "the rows were written, but the index rebuild did not finish (the next import "
            "rebuilds it)"
            if report.written
            else "nothing was written"
        )
        super().__init__(f"The database connection was lost during the import: {done}. ({error})")


def _end_import_session() -> None:
    """Drop the staging table and release the import lock; on a dead connection there is
    nothing to do (PostgreSQL dropped both with the session)."""
    try:
        _drop_staging()
        _unlock_imports()
    except (DatabaseError, InterfaceError, psycopg.Error) as error:
        if not is_connection_lost(error):
            raise
        connection.close()


def _no_progress(phase: str, done: int, total: int | None) -> None:
    return None


def _pick_strategy(strategy: str, *, replace: bool, incoming: int) -> str:
    if replace:
        return "rebuild"  # the table empties first: building once is always cheaper
    if strategy == "auto":
        return choose_strategy(existing=Item.objects.count(), incoming=incoming)
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
    out: BinaryIO, *, model: type[models.Model] = Item, ids: Iterable[Any] | None = None
) -> int:
    """Write the CSV of every row of ``model`` (or those with ``ids``) to ``out``,
    streamed by PostgreSQL's COPY; returns the bytes written."""
    written = 0
    for chunk in export_chunks(queryset=model._default_manager.all(), ids=ids):
        out.write(chunk)
        written += len(chunk)
    return written


EXPORT_COLUMNS = export_columns(Item)


def export_chunks(
    *,
    queryset: QuerySet[Any] | None = None,
    ids: Iterable[Any] | None = None,
    columns: Iterable[str] | None = None,
) -> Iterator[bytes]:
    """The export CSV of ``queryset`` (default: every item), as it streams out of
    ``COPY ... TO STDOUT``: a header of field names, then the rows by primary key.
    ``columns`` picks some of the model's export columns."""
    queryset = Item.objects.all() if queryset is None else queryset
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    every = export_columns(queryset.model)
    wanted = set(every if columns is None else columns)
    chosen = [column for column in every if column in wanted] or list(every)
    rows = queryset.order_by("pk").values_list(*chosen)
    sql, params = rows.query.sql_with_params()
    query = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)"
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(query, params or None) as copy:
        for chunk in copy:
            yield bytes(chunk)


def ensure_vector_index(*, progress: Progress | None = None) -> bool:
    """Build the model's HNSW index if it is missing (after a rebuild import, or one that
    was interrupted); returns whether it was built. Reports build progress from
    ``pg_stat_progress_create_index`` while it runs."""
    index = _model_vector_index()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [index.name])
        if cursor.fetchone():
            return False
    watcher = _IndexBuildWatcher(progress) if progress else None
    if watcher:
        watcher.start()
    try:
        with connection.schema_editor() as editor:
            editor.add_index(Item, index)
    finally:
        if watcher:
            watcher.stop()
    return True


def _model_vector_index() -> HnswIndex:
    return next(index for index in Item._meta.indexes if index.name == INDEX_NAME)


def _drop_vector_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX IF EXISTS "{INDEX_NAME}"')


def _lock_imports() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [IMPORT_LOCK_KEY])


def _unlock_imports() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK_KEY])


STAGING = "catalog_import_staging"


def _create_staging(cursor: Any) -> None:
    """A temporary table of this session: it outlives the validating transaction, for
    the load that follows in another one, and is dropped at the end (_drop_staging)."""
    dimensions = Item._meta.get_field("embedding").dimensions
    cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGING}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {STAGING} (line bigint NOT NULL, id bigint, "
        f"label text NOT NULL, embedding vector({dimensions}) NOT NULL)"
    )


def _drop_staging() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGING}")


def _stage(
    cursor: Any, stream: BinaryIO, report: ImportReport, *, delimiter: str, progress: Progress
) -> None:
    """Validate every line; COPY the good ones into the staging table in big chunks."""
    dimensions = Item._meta.get_field("embedding").dimensions
    buffer: list[str] = []
    raw = cursor.cursor  # psycopg's own cursor, for COPY
    try:
        with raw.copy(f"COPY {STAGING} (line, id, label, embedding) FROM STDIN") as copy:
            for row in read_rows(stream, dimensions=dimensions, delimiter=delimiter):
                if isinstance(row, BadRow):
                    report.add_error(row)
                    continue
                report.rows += 1
                if len(report.sample) < SAMPLE_ROWS:
                    report.sample.append(row)
                # Staged even after an error, to find duplicate ids in the whole file.
                buffer.append(_copy_line(row))
                if len(buffer) >= 10_000:
                    copy.write("".join(buffer))
                    buffer.clear()
                    progress("validate", report.rows, None)
            if buffer:
                copy.write("".join(buffer))
    except FileError as error:
        report.file_error = str(error)
    progress("validate", report.rows, report.rows)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_line(row: GoodRow) -> str:
    """One line of COPY's text format."""
    item_id = "\\N" if row.id is None else str(row.id)
    vector = row.pgvector_text or "[" + ",".join(map(repr, row.embedding)) + "]"
    return f"{row.line}\t{item_id}\t{row.label.translate(_COPY_ESCAPES)}\t{vector}\n"


def _check_duplicate_ids(cursor: Any, report: ImportReport) -> None:
    cursor.execute(
        f"SELECT id, array_agg(line ORDER BY line) FROM {STAGING} WHERE id IS NOT NULL "
        "GROUP BY id HAVING count(*) > 1"
    )
    for item_id, lines in cursor.fetchall():
        for line in lines[1:]:
            report.add_error(BadRow(line, f"duplicate id {item_id} (first on line {lines[0]})", ""))
    report.errors.sort(key=lambda row: row.line)


def _count_updates(cursor: Any) -> int:
    cursor.execute(f"SELECT count(*) FROM {STAGING} s JOIN {Item._meta.db_table} i ON i.id = s.id")
    return cursor.fetchone()[0]


def _apply_staging(cursor: Any) -> None:
    """Upsert the rows with ids, move the id sequence past them, add the rows without."""
    table = Item._meta.db_table
    cursor.execute(
        f"INSERT INTO {table} (id, embedding, label) "
        f"SELECT id, embedding, label FROM {STAGING} WHERE id IS NOT NULL ORDER BY line "
        "ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding, label = EXCLUDED.label"
    )
    cursor.execute(
        "SELECT setval(s.seq, m.max_id) "
        "FROM (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq) s, "
        f"(SELECT max(id) AS max_id FROM {table}) m "
        "WHERE m.max_id > COALESCE(pg_sequence_last_value(s.seq), 0)",
        [table],
    )
    cursor.execute(
        f"INSERT INTO {table} (embedding, label) "
        f"SELECT embedding, label FROM {STAGING} WHERE id IS NULL ORDER BY line"
    )


class _IndexBuildWatcher:
    """Reports an index build's progress from pg_stat_progress_create_index, read on a
    second connection while the build runs on the first."""

    def __init__(self, progress: Progress, *, interval: float = 1.0) -> None:
        self.progress = progress
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
                        [Item._meta.db_table],
                    ).fetchone()
                    if row:
                        phase, tuples_done, tuples_total, blocks_done, blocks_total = row
                        if tuples_total:
                            self.progress(f"index: {phase}", tuples_done, tuples_total)
                        else:
                            self.progress(f"index: {phase}", blocks_done, blocks_total or None)
        except psycopg.Error:
            return  # progress is a courtesy: the build goes on without it
