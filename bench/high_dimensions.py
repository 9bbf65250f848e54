"""768-d embeddings at 100,000 rows, stored as `vector` and as `halfvec`: the HNSW
build, the index size, the search and similar pages against raw SQL, and recall@10
against numpy's exact answer at several `hnsw.ef_search` values.

    uv run python bench/high_dimensions.py [--rows 100000] [--dimensions 768]
                                           [--queries 100] [--requests 100]

The data are clustered (200 centres, each row a centre plus noise), as real
embeddings are, not uniform noise. The queries are held out: drawn the same way,
not in the table. Each type gets a table of its own in the benchmark database,
`bench_hd_vector` and `bench_hd_halfvec`, with a cosine HNSW index (m=16,
ef_construction=64); models over them are declared here and registered with the
vector admin, as a user's would be, so the pages are the real ones.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

import numpy as np
from common import setup_django, summary, timed

TYPES = ("vector", "halfvec")
EF_SEARCH = (40, 100, 200)
K = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dimensions", type=int, default=768)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--types", nargs="+", choices=TYPES, default=list(TYPES))
    parser.add_argument(
        "--keep", action="store_true", help="use tables an earlier run loaded (no build timed)"
    )
    args = parser.parse_args()

    setup_django()
    rng = np.random.default_rng(2026)
    centres = rng.normal(size=(200, args.dimensions)).astype(np.float32)
    data = clustered(rng, centres, args.rows)
    queries = clustered(rng, centres, args.queries)
    print(f"{args.rows:,} rows of {args.dimensions}-d clustered vectors, {args.queries} queries")

    models = {name: declare_model(name, args.dimensions) for name in args.types}
    register_admins(models)
    for name in args.types:
        report(name, models[name], data, queries, args)


def clustered(rng: np.random.Generator, centres: np.ndarray, count: int) -> np.ndarray:
    picks = rng.integers(len(centres), size=count)
    noise = rng.normal(scale=0.6, size=(count, centres.shape[1])).astype(np.float32)
    return centres[picks] + noise


def declare_model(type_name: str, dimensions: int) -> Any:
    """A model over the benchmark's table, as a user declares one."""
    from django.db import models
    from pgvector.django import HalfVectorField, VectorField

    field = VectorField if type_name == "vector" else HalfVectorField
    attrs = {
        "__module__": __name__,
        "embedding": field(dimensions=dimensions),
        "Meta": type(
            "Meta",
            (),
            {"app_label": "catalog", "db_table": f"bench_hd_{type_name}", "managed": False},
        ),
        "__str__": lambda self: f"row {self.pk}",
    }
    return type(f"HighDimensional{type_name.capitalize()}", (models.Model,), attrs)


def register_admins(models: dict[str, Any]) -> None:
    """Each model in the demo's admin with the vector admin, and in a stock admin at
    /stock/ with a plain ModelAdmin: Django's own change page, the floor."""
    import sys
    import types

    from django.conf import settings
    from django.contrib import admin
    from django.urls import clear_url_caches, include, path

    from pgvector_admin.admin.vector_admin import VectorModelAdmin

    stock = admin.AdminSite(name="stock")
    for model in models.values():
        admin.site.register(model, VectorModelAdmin)
        stock.register(model)
    urls = types.ModuleType("bench_high_dimensions_urls")
    urls.urlpatterns = [path("stock/", stock.urls), path("", include("project.urls"))]
    sys.modules[urls.__name__] = urls
    settings.ROOT_URLCONF = urls.__name__
    clear_url_caches()


def _loaded(table: str, rows: int, dimensions: int) -> bool:
    """Whether ``table`` already holds ``rows`` rows of ``dimensions`` and its index."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL",
            [table, f"{table}_hnsw"],
        )
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(f"SELECT count(*), max(vector_dims(embedding)) FROM {table}")
        return cursor.fetchone() == (rows, dimensions)


def load(type_name: str, data: np.ndarray, *, kept: bool = False) -> dict[str, float]:
    """Create the table, COPY the rows in (binary), then build the index; timings and
    sizes. With ``kept``, a table already loaded with as many rows is used as it is
    (the data are the same: the generator is seeded)."""
    import psycopg
    from django.db import connection
    from pgvector import HalfVector, Vector
    from pgvector.psycopg import register_vector

    table = f"bench_hd_{type_name}"
    dimensions = data.shape[1]
    figures: dict[str, float] = {}
    if kept and _loaded(table, len(data), dimensions):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_table_size(%s), pg_relation_size(%s)", [table, f"{table}_hnsw"]
            )
            table_bytes, index_bytes = cursor.fetchone()
        return {"copy s": 0.0, "build s": 0.0, "table MB": table_bytes / 2**20,
                "index MB": index_bytes / 2**20, "kept": 1.0}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"CREATE TABLE {table} (id bigint PRIMARY KEY, embedding {type_name}({dimensions}))"
        )
    started = time.perf_counter()
    wrap = Vector if type_name == "vector" else HalfVector
    # A connection of its own: pgvector's psycopg types would change what Django's reads.
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as raw:
        register_vector(raw)
        query = f"COPY {table} (id, embedding) FROM STDIN WITH (FORMAT BINARY)"
        with raw.cursor() as cursor, cursor.copy(query) as copy:
            copy.set_types(["int8", type_name])
            for number, row in enumerate(data, start=1):
                copy.write_row((number, wrap(row)))
    figures["copy s"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX {table}_hnsw ON {table} USING hnsw (embedding {type_name}_cosine_ops) "
            "WITH (m = 16, ef_construction = 64)"
        )
    figures["build s"] = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("SELECT pg_table_size(%s), pg_relation_size(%s)", [table, f"{table}_hnsw"])
        table_bytes, index_bytes = cursor.fetchone()
    figures["table MB"] = table_bytes / 2**20
    figures["index MB"] = index_bytes / 2**20
    return figures


def stored(type_name: str, data: np.ndarray) -> np.ndarray:
    """The values as PostgreSQL keeps them: float4, or float16 for halfvec."""
    return data.astype(np.float16).astype(np.float32) if type_name == "halfvec" else data


def exact_top(matrix: np.ndarray, queries: np.ndarray, k: int) -> list[set[int]]:
    """numpy's exact cosine top k (ids from 1, as loaded)."""
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    answers = []
    for query in queries:
        scores = unit @ (query / np.linalg.norm(query))
        top = np.argpartition(-scores, k)[:k]
        answers.append({int(i) + 1 for i in top})
    return answers


def recall_at(type_name: str, queries: np.ndarray, truth: list[set[int]], ef: int) -> float:
    import psycopg
    from django.db import connection

    table = f"bench_hd_{type_name}"
    found = 0
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as conn:
        for query, expected in zip(queries, truth, strict=True):
            text = "[" + ",".join(map(repr, query.tolist())) + "]"
            with conn.transaction():
                conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(ef)])
                conn.execute("SELECT set_config('hnsw.iterative_scan', 'strict_order', true)")
                rows = conn.execute(
                    f"SELECT id FROM {table} ORDER BY embedding <=> %s::{type_name} LIMIT {K}",
                    [text],
                ).fetchall()
            found += len({row[0] for row in rows} & expected)
    return found / (K * len(queries))


def report(type_name: str, model: Any, data: np.ndarray, queries: np.ndarray, args) -> None:
    import psycopg
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from pgvector_admin.search.index_choice import index_for
    from pgvector_admin.search.scan_settings import search_settings
    from pgvector_admin.search.searches import nearest
    from pgvector_admin.vectors.fields import SHORT_MAX_ITEMS, VectorColumn
    from pgvector_admin.vectors.metrics import COSINE

    print(f"\n## {type_name}({args.dimensions}), {args.rows:,} rows", flush=True)
    figures = load(type_name, data, kept=args.keep)
    if figures.get("kept"):
        print(f"Table and index kept from an earlier run: table {figures['table MB']:.0f} MB, "
              f"index {figures['index MB']:.0f} MB", flush=True)  # fmt: skip
    else:
        print(
            f"COPY {figures['copy s']:.1f} s, CREATE INDEX (HNSW, m=16, ef_construction=64) "
            f"{figures['build s']:.1f} s; table {figures['table MB']:.0f} MB, "
            f"index {figures['index MB']:.0f} MB",
            flush=True,
        )
    truth = exact_top(stored(type_name, data), stored(type_name, queries), K)
    for ef in EF_SEARCH:
        print(f"recall@{K} at hnsw.ef_search {ef}: {recall_at(type_name, queries, truth, ef):.3f}")

    column = VectorColumn.of(model, "embedding")
    index = index_for(column, COSINE)
    settings = search_settings(k=K, exact=False, index=index)
    texts = [",".join(f"{value:.5g}" for value in query) for query in queries]
    rng = random.Random(3)
    User.objects.filter(username="bench-hd").delete()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.create_superuser("bench-hd", "", "bench"))
    app = f"/admin/catalog/{model._meta.model_name}"
    raw = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    norm = "vector_norm" if type_name == "vector" else "l2_norm"

    def raw_search() -> None:
        text = "[" + rng.choice(texts) + "]"
        with raw.transaction():
            for name, value in settings.items():
                raw.execute("SELECT set_config(%s, %s, true)", [name, value])
            # What the results table shows of each row: its vector's ends, length and
            # norm (pgvector_admin.vectors.parts), and every distance.
            rows = raw.execute(
                f"SELECT id, embedding <=> %(q)s::{type_name}, "
                f"embedding <-> %(q)s::{type_name}, embedding <#> %(q)s::{type_name}, "
                f"embedding <+> %(q)s::{type_name}, "
                f"ARRAY[vector_dims(embedding)::float8, {norm}(embedding)], "
                f"subvector(embedding, 1, {SHORT_MAX_ITEMS})::real[] "
                "|| subvector(embedding, vector_dims(embedding), 1)::real[] "
                f"FROM bench_hd_{type_name} ORDER BY 2 LIMIT {K}",
                {"q": text},
            ).fetchall()
        assert len(rows) == K

    def selector() -> None:
        # As the results pages call it: of each row's vector, what its cell shows.
        vector = [float(value) for value in rng.choice(texts).split(",")]
        found = nearest(column=column, vector=vector, k=K, metric=COSINE, cells_only=True)
        assert len(found.neighbours) == K

    def search_page() -> None:
        response = client.get(f"{app}/search/", {"vector": rng.choice(texts), "k": K})
        assert response.content.count(b'class="similar-row"') == K, response.status_code

    def similar_page() -> None:
        response = client.get(f"{app}/{rng.randint(1, args.rows)}/similar/", {"k": K})
        assert response.content.count(b'class="similar-row"') == K, response.status_code

    def stock_change_page() -> None:
        response = client.get(
            f"/stock/catalog/{model._meta.model_name}/{rng.randint(1, args.rows)}/change/"
        )
        assert response.status_code == 200, response.status_code

    runs = {
        "raw SQL (psycopg)": raw_search,
        "selector nearest(), cells only": selector,
        "admin search page": search_page,
        "admin similar page": similar_page,
        "stock change page (Django)": stock_change_page,
    }
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm up
    for _ in range(args.requests):  # interleaved: each sees the same machine
        for name, run in runs.items():
            samples[name] += timed(run, 1)
    results = {name: summary(values) for name, values in samples.items()}
    raw.close()
    used = nearest(column=column, vector=queries[0].tolist(), k=K, metric=COSINE).scan_index
    print(f"\nSearches served by: {used}; settings {settings}\n")
    base = results["raw SQL (psycopg)"]["p50"]
    floor = results["stock change page (Django)"]["p50"]
    print("| what | p50 ms | p90 ms | p99 ms | p50 / raw | p50 / stock change page |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, row in results.items():
        print(
            f"| {name} | {row['p50']:.2f} | {row['p90']:.2f} | {row['p99']:.2f} | "
            f"{row['p50'] / base:.1f}x | {row['p50'] / floor:.2f}x |"
        )
    print(flush=True)


if __name__ == "__main__":
    main()
