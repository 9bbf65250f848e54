"""``manage.py export_vectors [FILE]``: every item as CSV, streamed by COPY."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from catalog.services import export_vectors


class Command(BaseCommand):
    help = "Write every item as CSV (id,label,embedding) to FILE or standard output, streamed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", nargs="?", default="-", help="the output file (default: -, stdout)"
        )

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        started = time.perf_counter()
        if file == "-":
            written = export_vectors(sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            with open(file, "wb") as out:
                written = export_vectors(out)
        seconds = time.perf_counter() - started
        self.stderr.write(f"Wrote {written:,} bytes in {seconds:.1f} s.")
