"""``manage.py embed_rows --model app.Model --field NAME [--all]``: embed a model's rows
from their source text with the field's embedder (its vector admin's
``vector_embedders``), in batches, with a progress line."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pgvector_admin.embedders.backfill import BATCH, embed_rows
from pgvector_admin.embedders.base import EmbedderError
from pgvector_admin.embedders.fields import text_embedding
from pgvector_admin.management.commands.export_vectors import vector_model


class Command(BaseCommand):
    help = (
        "Embed the rows without a vector in a field (or every row, with --all) from their "
        "source text, with the embedder its vector admin sets. Batches are committed one by "
        "one: stopped part way, run it again and it goes on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", required=True, help="app_label.ModelName")
        parser.add_argument("--field", required=True, help="the vector field")
        parser.add_argument("--all", action="store_true", dest="every", help="re-embed every row")
        parser.add_argument("--batch", type=int, default=BATCH, help=f"rows a batch ({BATCH})")

    def handle(
        self, *args: Any, model: str, field: str, every: bool, batch: int, **options: Any
    ) -> None:
        model_class = vector_model(model)
        try:
            embedding = text_embedding(model_class, field)
        except LookupError as error:
            raise CommandError(str(error)) from error
        if embedding.source is None:
            raise CommandError(f"{model}.{field}'s embedding has no source text to embed.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        started = time.perf_counter()
        show = sys.stderr.isatty() or options.get("verbosity", 1) > 1

        def progress(done: int, total: int, last_pk: Any) -> None:
            elapsed = time.perf_counter() - started
            rate = done / elapsed if elapsed else 0.0
            left = (total - done) / rate if rate else 0.0
            bar = "#" * int(30 * done / total) if total else ""
            line = (
                f"\r[{bar:<30}] {done:,} / {total:,} rows, {rate:,.0f} rows/s, {left:,.0f} s left"
            )
            if show:
                self.stderr.write(line, ending="")
                self.stderr.flush()

        try:
            report = embed_rows(
                model=model_class,
                field=field,
                embedding=embedding,
                every=every,
                batch=batch,
                progress=progress,
            )
        except EmbedderError as error:
            raise CommandError(
                f"Stopped: {error} The batches written before keep theirs."
            ) from error
        if show:
            self.stderr.write("")
        self.stdout.write(
            f"Embedded {report.embedded:,} rows of {model_class._meta.label}.{field} with "
            f"{embedding.embedder.name} in {report.seconds:.1f} s ({report.rate:,.0f} rows/s)"
            + (f"; {report.empty:,} with no text have no vector." if report.empty else ".")
        )
