"""The search pages' distance sample (pgvector_admin.search.histogram.distance_sample) at a
million rows, against a raw baseline measured in the same run:

    uv run python bench/distance_sample.py [--rows 20000] [--repeat 7]

On the benchmark database's Item table (1,000,000 3-d rows). The baseline is the same
TABLESAMPLE read with psycopg and no distance; the full scan is the distance of every
row, which a sample avoids.
"""

from __future__ import annotations

import argparse
import random

from common import ensure_rows, setup_django, summary, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from catalog.models import Item
    from pgvector_admin.search.histogram import distance_sample
    from pgvector_admin.vectors.fields import vector_columns
    from pgvector_admin.vectors.metrics import COSINE

    ensure_rows(1_000_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_item")
    column = vector_columns(Item)[0]
    rng = random.Random(1)

    def query() -> list[float]:
        return [rng.uniform(-1, 1) for _ in range(3)]

    def sample() -> None:
        found = distance_sample(
            column=column, vector=query(), metric=COSINE, neighbours=[0.1], rows=args.rows
        )
        assert len(found.distances) > args.rows * 0.8, len(found.distances)

    percent = 125.0 * args.rows / 1_000_000

    def raw_sample() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT embedding FROM catalog_item TABLESAMPLE SYSTEM ({percent}) "
                f"LIMIT {args.rows}"
            )
            cursor.fetchall()

    def full_scan() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT embedding <=> %s::vector FROM catalog_item", [str(query())])
            cursor.fetchall()

    sampled = summary(timed(sample, args.repeat))["p50"]
    raw = summary(timed(raw_sample, args.repeat))["p50"]
    full = summary(timed(full_scan, 3))["p50"]
    print("\n| medians, 1,000,000 rows | ms |\n| --- | ---: |")
    print(f"| distance_sample, {args.rows:,} rows | {sampled:.1f} ({sampled / raw:.2f}x raw) |")
    print(f"| raw TABLESAMPLE read of the same share, no distance | {raw:.1f} |")
    print(f"| every row's distance, no sample | {full:.1f} |")


if __name__ == "__main__":
    main()
