"""The pictures' data requests at a million rows, against a raw baseline measured in
the same run:

    uv run python bench/pictures.py [--repeat 9] [--skip-768]

At 1,000,000 3-d rows (Item): GET …/search/points/ (the search page's picture: the
search, then 20,000 sampled rows with their coordinates and 4 distances each, as
JSON) and GET …/map/points/ (the changelist's map), through Django's full stack; the
baseline is psycopg alone reading the same TABLESAMPLE share of rows (id, label, the
vector as real[]; in binary, as the app reads them) with no distance and no JSON. At
100,000 768-d rows (bench/high_dimensions.py's table): the same request, where a PCA
is fitted on 1,000 sampled rows and PostgreSQL projects the sample on its axes; the
baseline reads the same share of rows' vectors as text.
"""

from __future__ import annotations

import argparse
import random

from common import ensure_rows, setup_django, summary, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--skip-768", action="store_true")
    args = parser.parse_args()
    setup_django()
    import psycopg
    from django.contrib import admin
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from pgvector_admin.admin.vector_admin import VectorModelAdmin

    hd_model = None
    if not args.skip_768:
        from curve import high_dimensional_model

        hd_model = high_dimensional_model()
        # Registered before the first request builds the admin's URLs.
        admin.site.register(hd_model, VectorModelAdmin)
    ensure_rows(1_000_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_item")
    User.objects.filter(username="bench-pictures").delete()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.create_superuser("bench-pictures", "", "bench"))
    raw = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    rng = random.Random(11)
    rows = 20_000

    def query(dimensions: int) -> str:
        return ",".join(f"{rng.uniform(-1, 1):.4f}" for _ in range(dimensions))

    def points(url: str, params: dict[str, str]) -> None:
        response = client.get(url, params)
        assert response.status_code == 200, response.content[:300]
        data = response.json()
        assert len(data["sample"]["ids"]) > rows * 0.8, len(data["sample"]["ids"])

    def raw_sample(table: str, estimate: int, columns: str, binary: bool = True) -> None:
        # In binary where it can be, as the app reads its sample: the fastest raw read.
        percent = 125.0 * rows / estimate
        with psycopg.Cursor(raw) as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {table} TABLESAMPLE SYSTEM ({percent}) REPEATABLE (23) "
                f"LIMIT {rows}",
                binary=binary,
            ).fetchall()

    search_url = "/admin/catalog/item/search/points/"
    figures = {
        "search": summary(
            timed(lambda: points(search_url, {"vector": query(3), "k": "10"}), args.repeat)
        )["p50"],
        "map": summary(timed(lambda: points("/admin/catalog/item/map/points/", {}), args.repeat))[
            "p50"
        ],
        "raw": summary(
            timed(
                lambda: raw_sample("catalog_item", 1_000_000, "id, label, embedding::real[]"),
                args.repeat,
            )
        )["p50"],
    }
    print("\n| medians, 1,000,000 3-d rows, 20,000 points | ms |\n| --- | ---: |")
    print(
        f"| GET search/points/ (the search, 20,000 points, 4 distances each, JSON) | "
        f"{figures['search']:.1f} ({figures['search'] / figures['raw']:.1f}x raw) |"
    )
    print(
        f"| GET map/points/ (20,000 points and labels, JSON) | {figures['map']:.1f} "
        f"({figures['map'] / figures['raw']:.1f}x raw) |"
    )
    print(f"| raw: psycopg reads the same TABLESAMPLE rows, no JSON | {figures['raw']:.1f} |")

    if hd_model is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bench_hd_vector")
    url = f"/admin/catalog/{hd_model._meta.model_name}/search/points/"
    hd = {
        "search": summary(
            timed(lambda: points(url, {"vector": query(768), "k": "10"}), args.repeat)
        )["p50"],
        "raw": summary(
            timed(
                lambda: raw_sample("bench_hd_vector", 100_000, "id, embedding::text", False),
                args.repeat,
            )
        )["p50"],
    }
    print("\n| medians, 100,000 768-d rows, 20,000 points | ms |\n| --- | ---: |")
    print(
        f"| GET search/points/ (PCA fitted on 1,000 rows, 20,000 points projected by "
        f"PostgreSQL, JSON) | {hd['search']:.1f} ({hd['search'] / hd['raw']:.1f}x raw) |"
    )
    print(f"| raw: psycopg reads the same rows' vectors as text | {hd['raw']:.1f} |")


if __name__ == "__main__":
    main()
