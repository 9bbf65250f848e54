"""Shared pieces of the benchmarks: Django setup on a benchmark database, data, timing."""

from __future__ import annotations

import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
BENCH_DATABASE = "bench_vector_catalog"


def setup_django(database: str = BENCH_DATABASE) -> None:
    """Configure Django and switch to the benchmark database (created and migrated once,
    then kept between runs so a million rows are loaded only once)."""
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    # Benchmarks run with DEBUG off, as in production: they need a key of their own.
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-" + secrets.token_urlsafe(40))
    # ...and plain HTTP on loopback, as behind a proxy that terminates TLS.
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
    import django
    from django.conf import settings

    settings.DATABASES["default"]["TEST"] = {"NAME": database}
    django.setup()
    from django.db import connection

    # No serialize: it would read every row of a ten-million-row table into memory.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)


def ensure_rows(count: int, *, seed: int = 42) -> None:
    """Make the Item table hold exactly ``count`` random 3-d vectors with the HNSW index:
    rows loaded with COPY, then the index built, as a bulk load should be."""
    from django.db import connection

    from catalog.models import INDEX_NAME, Item

    table = Item._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        (present,) = cursor.fetchone()
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [INDEX_NAME])
        indexed = cursor.fetchone() is not None
    if present == count and indexed:
        print(f"{count:,} rows already loaded, with {INDEX_NAME}.")
        return
    print(f"Loading {count:,} random 3-d vectors…", flush=True)
    index = next(index for index in Item._meta.indexes if index.name == INDEX_NAME)
    rng = random.Random(seed)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} RESTART IDENTITY")
        cursor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")
        with cursor.connection.cursor().copy(f"COPY {table} (embedding, label) FROM STDIN") as copy:
            for number in range(count):
                vector = (rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1))
                copy.write_row((f"[{vector[0]!r},{vector[1]!r},{vector[2]!r}]", f"row {number}"))
    loaded = time.perf_counter()
    print(f"  COPY: {loaded - started:.1f} s", flush=True)
    with connection.schema_editor() as editor:
        editor.add_index(Item, index)
    built = time.perf_counter()
    print(f"  CREATE INDEX {INDEX_NAME}: {built - loaded:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")


def warm_index(queries: int = 3000, *, seed: int = 5) -> float:
    """Bring the Item table's HNSW index into PostgreSQL's buffers with ``queries``
    random k-NN searches (the wheel's server has no pg_prewarm): after a restart the
    first searches read the graph from disk, a cost of the restart and not of the pages
    measured. Returns the seconds it took."""
    from django.db import connection

    from catalog.models import Item

    rng = random.Random(seed)
    table = Item._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for _ in range(queries):
            vector = f"[{rng.uniform(-1, 1)},{rng.uniform(-1, 1)},{rng.uniform(-1, 1)}]"
            cursor.execute(
                f"SELECT id FROM {table} ORDER BY embedding <=> %s::vector LIMIT 10", [vector]
            )
            cursor.fetchall()
    return time.perf_counter() - started


def timed(run: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock milliseconds of ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def print_ratio_table(
    samples: dict[str, list[float]],
    floor: str,
    *,
    extra: dict[str, str] | None = None,
    extra_name: str = "",
) -> None:
    """A Markdown table of each page's p50 and p90 and its p50 against ``floor``'s
    (``extra``: one more column, ``extra_name``, by page)."""
    base = summary(samples[floor])["p50"]
    head = f" {extra_name} |" if extra else ""
    print(f"| page |{head} p50 ms | p90 ms | p50 / {floor} |")
    print("| --- |" + (" ---: |" if extra else "") + " ---: | ---: | ---: |")
    for name, values in samples.items():
        figures = summary(values)
        cell = f" {extra[name]} |" if extra else ""
        print(
            f"| {name} |{cell} {figures['p50']:.1f} | {figures['p90']:.1f} | "
            f"{figures['p50'] / base:.2f}x |"
        )


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": statistics.median(ordered),
        "p90": ordered[int(0.9 * (len(ordered) - 1))],
        "p99": ordered[int(0.99 * (len(ordered) - 1))],
    }
