"""The index page's recall/latency curve (pgvector_admin.indexes.tuning.measure_curve) at a million
3-d rows and at 100,000 x 768-d, with the time the sweep itself takes:

    uv run python bench/curve.py [--queries 100] [--k 10]

The 3-d table is the Item table of the benchmark database (bench/common.ensure_rows:
1,000,000 uniform random vectors, HNSW cosine m=16, ef_construction=64); the 768-d
one is bench/high_dimensions.py's `bench_hd_vector` (100,000 clustered vectors, the
same index), loaded if missing. The queries are sample rows of each table, as the
index page takes them; the raw baseline is the exact scan of the same queries,
measured in the same sweep.
"""

from __future__ import annotations

import argparse

import numpy as np
from common import ensure_rows, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()

    setup_django()
    from catalog.models import Item
    from pgvector_admin.vectors.metrics import COSINE

    ensure_rows(1_000_000)
    sweep("1,000,000 x 3-d (Item)", Item, COSINE, args)
    sweep("100,000 x 768-d (bench_hd_vector)", high_dimensional_model(), COSINE, args)


def high_dimensional_model():
    """bench/high_dimensions.py's vector table, loaded (100,000 rows) if missing."""
    from django.db import connection
    from high_dimensions import clustered, declare_model, load

    model = declare_model("vector", 768)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_hd_vector_hnsw') IS NOT NULL")
        (indexed,) = cursor.fetchone()
        rows = 0
        if indexed:
            cursor.execute("SELECT count(*) FROM bench_hd_vector")
            (rows,) = cursor.fetchone()
    if rows != 100_000:
        print("Loading 100,000 x 768-d clustered vectors and building their index…", flush=True)
        rng = np.random.default_rng(2026)
        centres = rng.normal(size=(200, 768)).astype(np.float32)
        print(load("vector", clustered(rng, centres, 100_000)), flush=True)
    return model


def sweep(label: str, model, metric, args) -> None:
    from pgvector_admin.indexes.tuning import measure_curve, sample_queries
    from pgvector_admin.search.catalogue import vector_indexes
    from pgvector_admin.vectors.fields import vector_columns

    column = vector_columns(model)[0]
    (index,) = vector_indexes(model._meta.db_table)
    queries = sample_queries(column, args.queries)
    curve = measure_curve(column=column, metric=metric, index=index, k=args.k, queries=queries)
    recommended = curve.recommended
    print(f"\n{label}: {curve.queries} sample rows, recall@{curve.k} by {curve.metric}")
    print(f"\n| {curve.setting_name} | recall@{curve.k} | p50 ms | p95 ms |")
    print("| ---: | ---: | ---: | ---: |")
    for point in curve.points:
        print(f"| {point.setting} | {point.recall:.4f} | {point.p50_ms:.2f} | {point.p95_ms:.2f} |")
    print(f"| exact scan | 1.0000 | {curve.exact_p50_ms:.2f} | {curve.exact_p95_ms:.2f} |")
    chosen = f"{recommended.setting}" if recommended else "none reaches it"
    print(
        f"\nRecommended for recall {curve.target}: {chosen}. The sweep took {curve.seconds:.1f} s."
    )


if __name__ == "__main__":
    main()
