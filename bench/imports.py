"""Imports and exports against raw COPY / CREATE INDEX and stock django-import-export,
all measured in the same run on the benchmark database.

    uv run python bench/imports.py [--admin-rows 100000] [--command-rows 1000000]
                                   [--stock-rows 20000]

Prints one table; the figures go into docs/benchmarks.md. Leaves the benchmark
table holding --command-rows rows with the HNSW index (what bench/similar_page.py
uses).
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
from pathlib import Path

from common import setup_django


def write_csv(path: Path, rows: int, *, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "w") as out:
        out.write("label,embedding\n")
        for number in range(rows):
            x, y, z = rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)
            out.write(f'row {number},"[{x!r},{y!r},{z!r}]"\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--admin-rows", type=int, default=100_000)
    parser.add_argument("--command-rows", type=int, default=1_000_000)
    parser.add_argument("--stock-rows", type=int, default=20_000)
    args = parser.parse_args()

    setup_django()
    import tablib
    from django.core.management import call_command
    from django.db import connection

    from catalog.models import INDEX_NAME, Item
    from pgvector_admin.transfer.resources import vector_resource
    from pgvector_admin.transfer.services import (
        ensure_vector_indexes,
        export_vectors,
        import_vectors,
    )

    table = Item._meta.db_table
    folder = Path(tempfile.mkdtemp(prefix="vector-bench-"))
    small, big, stock = folder / "small.csv", folder / "big.csv", folder / "stock.csv"
    write_csv(small, args.admin_rows, seed=1)
    write_csv(big, args.command_rows, seed=2)
    write_csv(stock, args.stock_rows, seed=3)
    results: list[tuple[str, str]] = []

    def reset(*, index: bool) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table} RESTART IDENTITY")
            cursor.execute(f'DROP INDEX IF EXISTS "{INDEX_NAME}"')
        if index:
            ensure_vector_indexes(Item)

    def raw_copy(path: Path) -> float:
        started = time.perf_counter()
        statement = f"COPY {table} (label, embedding) FROM STDIN WITH (FORMAT csv, HEADER)"
        with (
            connection.cursor() as cursor,
            open(path, "rb") as data,
            cursor.cursor.copy(statement) as copy,
        ):
            while chunk := data.read(1 << 20):
                copy.write(chunk)
        return time.perf_counter() - started

    def build_index() -> float:
        started = time.perf_counter()
        ensure_vector_indexes(Item)
        return time.perf_counter() - started

    def timed(run) -> float:
        started = time.perf_counter()
        run()
        return time.perf_counter() - started

    def row(label: str, seconds: float, rows: int, note: str = "") -> None:
        results.append((label, f"| {label} | {seconds:.2f} | {rows / seconds:,.0f} | {note} |"))
        print(results[-1][1], flush=True)

    n = args.admin_rows
    print(f"\nAdmin-sized import: {n:,} rows into an empty table\n", flush=True)
    reset(index=False)
    copy_bare = raw_copy(small)
    row("raw COPY, no index", copy_bare, n)
    build = build_index()
    row("raw CREATE INDEX after it", build, n)
    reset(index=True)
    copy_indexed = raw_copy(small)
    row("raw COPY into the indexed table", copy_indexed, n)
    best_raw = min(copy_bare + build, copy_indexed)
    row("best raw path", best_raw, n, "the cheaper of the two")

    reset(index=True)
    with open(small, "rb") as data:
        preview = timed(lambda: import_vectors(data, model=Item, dry_run=True))
    row("preview (validate in bulk, no write)", preview, n)
    with open(small, "rb") as data:
        report = import_vectors(data, model=Item, dry_run=False)
    assert report.written, report
    row("confirm (COPY load)", report.seconds, n, f"strategy {report.strategy}: {report.how}")
    row(
        "preview + confirm",
        preview + report.seconds,
        n,
        f"{(preview + report.seconds) / best_raw:.2f}x the best raw path",
    )

    reset(index=True)
    dataset = tablib.Dataset().load(stock.read_text(), format="csv")
    resource = vector_resource(Item)()
    resource._meta.use_bulk = True
    stock_preview = timed(lambda: resource.import_data(dataset, dry_run=True))
    row(
        f"stock import-export bulk, dry run ({args.stock_rows:,} rows)",
        stock_preview,
        args.stock_rows,
    )
    stock_import = timed(lambda: resource.import_data(dataset, dry_run=False))
    row(
        f"stock import-export bulk, import ({args.stock_rows:,} rows)",
        stock_import,
        args.stock_rows,
    )
    assert Item.objects.count() == args.stock_rows

    m = args.command_rows
    print(f"\nCommand-sized import: {m:,} rows with --replace\n", flush=True)
    reset(index=False)
    raw_big = raw_copy(big)
    raw_big_build = build_index()
    row("raw COPY, no index", raw_big, m)
    row("raw CREATE INDEX after it", raw_big_build, m)
    row("raw total", raw_big + raw_big_build, m)
    out = io.StringIO()
    started = time.perf_counter()
    call_command(
        "import_vectors",
        "--model",
        "catalog.Item",
        str(big),
        "--replace",
        stdout=out,
        stderr=io.StringIO(),
    )
    command_total = time.perf_counter() - started
    print(out.getvalue().strip())
    assert Item.objects.count() == m
    row(
        "import_vectors --replace, whole command",
        command_total,
        m,
        f"{command_total / (raw_big + raw_big_build):.2f}x raw",
    )

    print(f"\nExport: {m:,} rows\n", flush=True)
    exported = folder / "export.csv"
    with open(exported, "wb") as sink:
        export_seconds = timed(lambda: export_vectors(sink, model=Item))
    row(
        "export_vectors (COPY TO, streamed)",
        export_seconds,
        m,
        f"{exported.stat().st_size / 1e6:,.0f} MB",
    )
    raw_export = timed(lambda: _raw_export(connection, table, folder / "raw.csv"))
    row("raw COPY TO", raw_export, m)

    print("\n| step | seconds | rows/s | note |\n| --- | ---: | ---: | --- |")
    for _, line in results:
        print(line)


def _raw_export(connection, table: str, path: Path) -> None:
    statement = (
        f"COPY (SELECT id, label, embedding FROM {table} ORDER BY id) "
        "TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    with (
        connection.cursor() as cursor,
        open(path, "wb") as out,
        cursor.cursor.copy(statement) as copy,
    ):
        for chunk in copy:
            out.write(chunk)


if __name__ == "__main__":
    main()
