"""Filtered vector search at a million rows: a condition on an indexed integer column
keeping 50%, 5%, 0.5% and 0.05% of the rows, searched through the admin's search page
(the changelist's conditions in the URL). For each: the page's p50, recall@10 against
the exact filtered answer, and the exact filtered query's own time beside them.

    uv run python bench/filtered.py [--rows 1000000] [--dimensions 32]
                                    [--queries 50] [--requests 50]

The rows are clustered vectors (200 centres plus noise, numpy's generator seeded)
with a `bucket` drawn uniformly from 0..9,999 and a btree index on it; the condition
is `bucket < t`. The table `bench_filtered` lives in the benchmark database, with a
cosine HNSW index (m=16, ef_construction=64); a model over it is declared here and
registered with the vector admin, as a user's would be. It is loaded once and kept.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

import numpy as np
from common import setup_django, summary, timed

TABLE = "bench_filtered"
K = 10
# bucket < t keeps t / 10,000 of the rows.
THRESHOLDS = {"50%": 5000, "5%": 500, "0.5%": 50, "0.05%": 5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dimensions", type=int, default=32)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    setup_django()
    rng = np.random.default_rng(2027)
    centres = rng.normal(size=(200, args.dimensions)).astype(np.float32)
    queries = clustered(rng, centres, args.queries)
    model = declare_model(args.dimensions)
    load(rng, centres, args.rows, args.dimensions)
    register_admin(model)
    report(model, queries, args)


def clustered(rng: np.random.Generator, centres: np.ndarray, count: int) -> np.ndarray:
    picks = rng.integers(len(centres), size=count)
    noise = rng.normal(scale=0.6, size=(count, centres.shape[1])).astype(np.float32)
    return centres[picks] + noise


def declare_model(dimensions: int) -> Any:
    from django.db import models
    from pgvector.django import VectorField

    attrs = {
        "__module__": __name__,
        "bucket": models.IntegerField(db_index=True),
        "embedding": VectorField(dimensions=dimensions),
        "Meta": type("Meta", (), {"app_label": "catalog", "db_table": TABLE, "managed": False}),
        "__str__": lambda self: f"row {self.pk}",
    }
    return type("FilteredRow", (models.Model,), attrs)


def register_admin(model: Any) -> None:
    from django.contrib import admin

    from pgvector_admin.admin.vector_admin import VectorModelAdmin

    admin.site.register(model, VectorModelAdmin)


def load(rng: np.random.Generator, centres: np.ndarray, rows: int, dimensions: int) -> None:
    """Create and fill the table once (binary COPY, then the indexes)."""
    import psycopg
    from django.db import connection
    from pgvector import Vector
    from pgvector.psycopg import register_vector

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname = %s", [f"{TABLE}_hnsw"])
        if cursor.fetchone()[0]:
            cursor.execute(f"SELECT count(*) FROM {TABLE}")
            if cursor.fetchone()[0] == rows:
                print(f"{rows:,} rows already loaded.", flush=True)
                return
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(
            f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, bucket integer NOT NULL, "
            f"embedding vector({dimensions}))"
        )
    started = time.perf_counter()
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as raw:
        register_vector(raw)
        query = f"COPY {TABLE} (id, bucket, embedding) FROM STDIN WITH (FORMAT BINARY)"
        with raw.cursor() as cursor, cursor.copy(query) as copy:
            copy.set_types(["int8", "int4", "vector"])
            done = 0
            while done < rows:
                batch = min(100_000, rows - done)
                data = clustered(rng, centres, batch)
                buckets = rng.integers(10_000, size=batch)
                for offset in range(batch):
                    copy.write_row((done + offset + 1, int(buckets[offset]), Vector(data[offset])))
                done += batch
    print(f"COPY {rows:,} rows: {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX {TABLE}_bucket ON {TABLE} (bucket)")
        cursor.execute(
            f"CREATE INDEX {TABLE}_hnsw ON {TABLE} USING hnsw (embedding vector_cosine_ops) "
            "WITH (m = 16, ef_construction = 64)"
        )
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
    print(f"CREATE INDEX (btree, HNSW): {time.perf_counter() - started:.1f} s", flush=True)


def report(model: Any, queries: np.ndarray, args: argparse.Namespace) -> None:
    import psycopg
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    # The page's context (its outcome) is kept for the client, as in the tests.
    setup_test_environment()
    User.objects.filter(username="bench-filtered").delete()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.create_superuser("bench-filtered", "", "bench"))
    page = f"/admin/catalog/{model._meta.model_name}/search/"
    texts = [",".join(f"{value:.5g}" for value in query) for query in queries]
    raw = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    rng = random.Random(5)

    print(
        f"\n{args.rows:,} rows of {args.dimensions}-d vectors; k = {K}; "
        f"{args.queries} queries for recall, {args.requests} requests for the page\n"
    )
    print(
        "| rows kept | matching rows | page p50 ms | page p90 ms | recall@10 | "
        "exact filtered query p50 ms | how the page's query ran |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for share, threshold in THRESHOLDS.items():
        (matching,) = raw.execute(
            f"SELECT count(*) FROM {TABLE} WHERE bucket < %s", [threshold]
        ).fetchone()
        recalls, exact_ms, visited = [], [], []
        how: dict[str, int] = {}
        for text in texts:
            truth, seconds = exact_filtered(raw, text, threshold)
            exact_ms.append(seconds * 1000)
            response = client.get(page, {"vector": text, "k": K, "bucket__lt": threshold})
            outcome = response.context["outcome"]
            assert response.status_code == 200, response.content[:500]
            assert len(outcome.neighbours) == min(K, matching)
            found = {neighbour.id for neighbour in outcome.neighbours}
            recalls.append(len(found & truth) / len(truth) if truth else 1.0)
            kind = describe(outcome)
            how[kind] = how.get(kind, 0) + 1
            if outcome.tuples_visited:
                visited.append(outcome.tuples_visited[0])

        def page_request(threshold: int = threshold) -> None:
            text = rng.choice(texts)
            client.get(page, {"vector": text, "k": K, "bucket__lt": threshold})

        page_request()
        times = summary(timed(page_request, args.requests))
        ways = "; ".join(f"{kind} ({count}/{len(texts)})" for kind, count in sorted(how.items()))
        if visited:
            ways += f"; median {statistics.median(visited):,.0f} tuples visited"
        print(
            f"| {share} | {matching:,} | {times['p50']:.1f} | {times['p90']:.1f} | "
            f"{statistics.mean(recalls):.3f} | {statistics.median(exact_ms):.1f} | {ways} |",
            flush=True,
        )
    raw.close()


def exact_filtered(raw: Any, text: str, threshold: int) -> tuple[set[int], float]:
    """The exact filtered top k (index scans off), and how long the query took."""
    started = time.perf_counter()
    with raw.transaction():
        raw.execute("SET LOCAL enable_indexscan = off")
        rows = raw.execute(
            f"SELECT id FROM {TABLE} WHERE bucket < %s ORDER BY embedding <=> %s::vector LIMIT {K}",
            [threshold, f"[{text}]"],
        ).fetchall()
    return {row[0] for row in rows}, time.perf_counter() - started


def describe(outcome: Any) -> str:
    if outcome.fell_back_to_exact:
        return "index scan cut short, exact answer"
    if outcome.scan_index:
        return "HNSW iterative scan"
    return "matching rows read and sorted"


if __name__ == "__main__":
    main()
