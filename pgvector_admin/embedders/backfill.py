"""Embedding a table's rows: each row's source text through its field's embedder, in
batches, each batch written in one statement and committed on its own. Rows are taken
in primary key order, after a checkpoint: a run stopped (cancelled, or its worker
killed) and started again from its checkpoint embeds no row twice, and a run of the
rows *without* a vector never picks up those already done.

While the database writes one batch, the embedder works on the next (a thread each:
PostgreSQL's index writes and the model share the machine's cores), so a backfill
runs at about the pace of the slower of the two.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from django.db import connections, models, router
from psycopg import sql

from pgvector_admin.embedders.base import checked_vectors
from pgvector_admin.embedders.fields import TextEmbedding

BATCH = 512

# (rows done, rows in all, the last primary key done): called after every batch.
Progress = Callable[[int, int, Any], None]


@dataclass
class BackfillReport:
    """What a backfill did."""

    embedded: int = 0
    # Rows whose source text is empty: their vector is cleared (None), not made up.
    empty: int = 0
    seconds: float = 0.0
    last_pk: Any = None

    @property
    def rate(self) -> float:
        return (self.embedded + self.empty) / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "embedded": self.embedded,
            "empty": self.empty,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rate, 1),
        }


def rows_to_embed(
    model: type[models.Model], field: str, *, every: bool, after: Any = None
) -> models.QuerySet[Any]:
    """The rows a backfill of ``field`` embeds: every row, or those without a vector;
    after the checkpoint ``after`` (a primary key), in primary key order."""
    rows = model._default_manager.all()
    if not every:
        rows = rows.filter(**{f"{field}__isnull": True})
    if after is not None:
        rows = rows.filter(pk__gt=after)
    return rows.order_by("pk")


def embed_rows(
    *,
    model: type[models.Model],
    field: str,
    embedding: TextEmbedding,
    every: bool = False,
    after: Any = None,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> BackfillReport:
    """Embed ``model``'s rows (those without a vector in ``field``, or ``every`` one)
    from their source text, after the checkpoint ``after``; ``progress`` hears of each
    batch written. An ``EmbedderError`` stops it: the batches written stay."""
    if embedding.source is None:
        raise ValueError(f"{model._meta.label}.{field}'s embedding has no source text.")
    started = time.perf_counter()
    rows = rows_to_embed(model, field, every=every, after=after)
    total = rows.count()
    report = BackfillReport(last_pk=after)
    writer = _BatchWriter(model, field)
    done = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") as pool:
        pending: Future[list[Any]] | None = None
        pending_ids: list[Any] = []
        for ids, texts in _batches(rows, embedding, batch):
            # The next batch is embedded while the previous one is written.
            next_vectors = pool.submit(_embed, embedding, texts)
            if pending is not None:
                done += _write(writer, pending_ids, pending.result(), report)
                if progress is not None:
                    progress(done, total, report.last_pk)
            pending, pending_ids = next_vectors, ids
        if pending is not None:
            done += _write(writer, pending_ids, pending.result(), report)
            if progress is not None:
                progress(done, total, report.last_pk)
    report.seconds = time.perf_counter() - started
    return report


def _batches(
    rows: models.QuerySet[Any], embedding: TextEmbedding, size: int
) -> Iterator[tuple[list[Any], list[str]]]:
    """``(ids, texts)`` of ``rows`` ``size`` at a time, read by keyset (each batch one
    short query: nothing held open between batches)."""
    source = embedding.source_field
    last = None
    while True:
        page = rows if last is None else rows.filter(pk__gt=last)
        if source is not None:
            chunk = list(page.values_list("pk", source)[:size])
            ids = [pk for pk, _ in chunk]
            texts = ["" if text is None else str(text) for _, text in chunk]
        else:
            objects = list(page[:size])
            ids = [obj.pk for obj in objects]
            texts = [embedding.text_of(obj) for obj in objects]
        if not ids:
            return
        yield ids, texts
        last = ids[-1]


def _embed(embedding: TextEmbedding, texts: list[str]) -> list[Any]:
    """The texts' vectors (rows of an array); None for an empty text."""
    present = [i for i, text in enumerate(texts) if text.strip()]
    vectors: list[Any] = [None] * len(texts)
    if present:
        made = checked_vectors(embedding.embedder, [texts[i] for i in present])
        for i, vector in zip(present, made, strict=True):
            vectors[i] = vector
    return vectors


def _write(writer: _BatchWriter, ids: list[Any], vectors: list[Any], report: BackfillReport) -> int:
    writer.write(ids, vectors)
    report.embedded += sum(vector is not None for vector in vectors)
    report.empty += sum(vector is None for vector in vectors)
    report.last_pk = ids[-1]
    return len(ids)


class _BatchWriter:
    """One ``UPDATE ... FROM unnest(ids, vectors)`` per batch, in autocommit: a batch is
    written whole or not at all, and stays written. For a ``vector`` column the vectors
    travel in pgvector's binary form (pgvector-python's psycopg dumper, registered on
    this writer's cursors only): formatting them as text costs more than embedding
    them."""

    def __init__(self, model: type[models.Model], field: str) -> None:
        self.alias = router.db_for_write(model)
        connection = connections[self.alias]
        opts = model._meta
        vector_field = opts.get_field(field)
        vector_type = vector_field.db_type(connection)
        self.binary = vector_type.startswith("vector")
        self.statement = sql.SQL(
            "UPDATE {table} SET {column} = batch.vector "
            "FROM unnest(%s::{pk_type}[], %s::{vector_type}[]) AS batch(pk, vector) "
            "WHERE {table}.{pk} = batch.pk"
        ).format(
            table=sql.Identifier(opts.db_table),
            column=sql.Identifier(vector_field.column),
            pk=sql.Identifier(opts.pk.column),
            pk_type=sql.SQL(opts.pk.rel_db_type(connection)),
            vector_type=sql.SQL(vector_type),
        )
        self._vector_info: Any = None

    def write(self, ids: list[Any], vectors: list[Any]) -> None:
        connection = connections[self.alias]
        connection.ensure_connection()
        raw = connection.connection
        # A cursor that binds on the server: Django's own (ClientCursor) writes every
        # parameter into the statement as text, vectors included.
        with psycopg.Cursor(raw) as cursor:
            if self.binary:
                self._register(raw, cursor)
                values: list[Any] = [
                    None if vector is None else np.asarray(vector, dtype=np.float32)
                    for vector in vectors
                ]
                statement = self.statement.as_string(raw).replace("%s", "%b")
            else:
                values = [
                    None if vector is None else "[" + ",".join(map(repr, map(float, vector))) + "]"
                    for vector in vectors
                ]
                statement = self.statement.as_string(raw)
            cursor.execute(statement, [ids, values])

    def _register(self, raw: Any, cursor: Any) -> None:
        from pgvector.psycopg.vector import register_vector_info
        from psycopg.types import TypeInfo

        if self._vector_info is None:
            self._vector_info = TypeInfo.fetch(raw, "vector")
        register_vector_info(cursor, self._vector_info)
