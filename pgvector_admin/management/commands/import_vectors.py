"""``manage.py import_vectors FILE [--model app.Model]``: load a big CSV/TSV file of a
model's rows, all or nothing."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from pgvector_admin.management.commands.export_vectors import vector_model
from pgvector_admin.transfer.csv_rows import sniff_delimiter
from pgvector_admin.transfer.services import ImportInterrupted, ImportReport, import_vectors

LISTED_ERRORS = 50


class ProgressBar:
    """A redrawn one-line bar on a terminal; elsewhere (logs, CI) a line every few
    seconds and at the end of each phase."""

    def __init__(self, out: OutputWrapper, *, width: int = 30) -> None:
        self.out = out
        self.width = width
        self.tty = out.isatty()
        self.phase = ""
        self.shown_at = 0.0

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        interval = 0.2 if self.tty else 5.0
        if phase == self.phase and not finished and now - self.shown_at < interval:
            return
        self.phase, self.shown_at = phase, now
        if total:
            filled = int(self.width * min(done, total) / total)
            bar = "#" * filled + "." * (self.width - filled)
            text = f"[{bar}] {100 * done / total:5.1f}% {phase}: {done:,} of {total:,}"
        else:
            text = f"{phase}: {done:,} rows"
        if self.tty:
            self.out.write(f"\r{text:<100}", ending="\n" if finished else "")
        else:
            self.out.write(text)
        self.out.flush()


class Command(BaseCommand):
    help = (
        "Import a model's rows from a CSV or TSV file (a header names the columns: the "
        "model's id, its fields, its vector fields), streamed, all or nothing: any bad line "
        "and nothing is written, each bad line is named. Rows with an existing id update it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV/TSV file, or - for standard input")
        parser.add_argument(
            "--model",
            required=True,
            help="the model, as app_label.ModelName",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="empty the table first, load, then build its vector indexes",
        )
        parser.add_argument(
            "--strategy",
            choices=["auto", "live", "rebuild"],
            default="auto",
            help="write into the live indexes, or load and rebuild them (default: the cheaper)",
        )
        parser.add_argument("--tsv", action="store_true", help="tab-separated (default: by name)")
        parser.add_argument("--check", action="store_true", help="validate only; write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        options["model"] = vector_model(options["model"])
        file: str = options["file"]
        if file == "-":
            report = self._import(sys.stdin.buffer, options)
        else:
            path = Path(file)
            if not path.is_file():
                raise CommandError(f"No such file: {file}")
            with open(path, "rb") as stream:
                report = self._import(stream, options)
        self._summarise(report, check=options["check"])

    def _import(self, stream: BinaryIO, options: dict[str, Any]) -> ImportReport:
        try:
            return self._run(stream, options)
        except ImportInterrupted as error:
            raise CommandError(str(error)) from error

    def _run(self, stream: BinaryIO, options: dict[str, Any]) -> ImportReport:
        return import_vectors(
            stream,
            model=options["model"],
            dry_run=options["check"],
            replace=options["replace"],
            strategy=options["strategy"],
            delimiter="\t" if options["tsv"] else sniff_delimiter(options["file"]),
            progress=ProgressBar(self.stderr),
        )

    def _summarise(self, report: ImportReport, *, check: bool) -> None:
        if report.file_error:
            raise CommandError(f"Nothing was imported: {report.file_error}")
        if report.error_count:
            for bad in report.errors[:LISTED_ERRORS]:
                self.stderr.write(f"line {bad.line}: {bad.reason}")
            more = report.error_count - min(len(report.errors), LISTED_ERRORS)
            if more:
                self.stderr.write(f"… and {more:,} more bad lines")
            lines = "line" if report.error_count == 1 else "lines"
            raise CommandError(f"Nothing was imported: {report.error_count:,} bad {lines}.")
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.phases.items())
        if check:
            self.stdout.write(
                f"{report.rows:,} rows are valid ({report.new:,} new, {report.updated:,} "
                f"updated); nothing written. {report.seconds:.1f} s ({phases})."
            )
            return
        rate = report.rows / report.seconds if report.seconds else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {report.rows:,} rows ({report.new:,} new, {report.updated:,} updated) "
                f"in {report.seconds:.1f} s, {rate:,.0f} rows/s ({phases}); {report.how}."
            )
        )
        if report.index_error:
            raise CommandError(
                f"The rows are in, but building a vector index failed: {report.index_error}"
            )
