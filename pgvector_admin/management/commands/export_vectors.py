"""``manage.py export_vectors [FILE] [--model app.Model]``: a model's rows as CSV,
streamed by COPY."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models

from pgvector_admin.transfer.services import export_columns, export_vectors
from pgvector_admin.vectors.fields import vector_columns


def vector_model(label: str) -> type[models.Model]:
    """The model called ``label`` (``app_label.ModelName``), which must have a vector
    field; ``CommandError`` with a clear message otherwise."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError) as error:
        raise CommandError(
            f"No model {label!r}: name it as app_label.ModelName, e.g. shop.Document."
        ) from error
    try:
        columns = vector_columns(model)
    except ImproperlyConfigured as error:
        raise CommandError(str(error)) from error
    if not columns:
        raise CommandError(f"{model._meta.label} has no pgvector field.")
    return model


class Command(BaseCommand):
    help = (
        "Write every row of a model with vector fields as CSV (its id, its other fields, "
        "then its vectors as pgvector writes them) to FILE or standard output, streamed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", nargs="?", default="-", help="the output file (default: -, stdout)"
        )
        parser.add_argument(
            "--model",
            required=True,
            help="the model, as app_label.ModelName",
        )

    def handle(self, *args: Any, file: str, model: str, **options: Any) -> None:
        chosen = vector_model(model)
        started = time.perf_counter()
        if file == "-":
            written = export_vectors(sys.stdout.buffer, model=chosen)
            sys.stdout.buffer.flush()
        else:
            with open(file, "wb") as out:
                written = export_vectors(out, model=chosen)
        seconds = time.perf_counter() - started
        columns = ",".join(export_columns(chosen))
        self.stderr.write(
            f"Wrote {chosen._meta.label} ({columns}): {written:,} bytes in {seconds:.1f} s."
        )
