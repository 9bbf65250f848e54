"""The changelist at any size: the vector admin's list against Django's own pages of
the same table, interleaved in one run.

    uv run python bench/changelist.py --rows 1000000
    uv run python bench/changelist.py --rows 10000000 --exact-requests 3

Each table is its own database (bench_changelist_<rows>), kept between runs: random
3-d vectors inserted by PostgreSQL itself (generate_series), no vector index (the list
needs none). Timed through Django's full stack with the test client:
  stock change page     Django's change page of one row (a plain ModelAdmin): the floor
  stock changelist      Django's list: it counts every row (twice)
  stock changelist without its count
                        Django's list of the vector list's columns (id, label; 50 rows),
                        its count the planner's: Django's own work of listing the rows
  vector changelist     the vector admin's list: past COUNT_ESTIMATE_ABOVE rows, the
                        planner's estimate instead of counts
  vector, exact count   the same with ?_count=exact (fewer requests: it counts)
"""

from __future__ import annotations

import argparse
import random
import time

from common import print_ratio_table, setup_django, timed


def load(rows: int) -> None:
    from django.db import connection

    from catalog.models import Item

    table = Item._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        if cursor.fetchone()[0] == rows:
            print(f"{rows:,} rows already loaded.")
            return
        print(f"Inserting {rows:,} random 3-d vectors…", flush=True)
        started = time.perf_counter()
        cursor.execute(f"TRUNCATE {table} RESTART IDENTITY")
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE '%%hnsw%%'",
            [table],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')  # the list needs no vector index
        cursor.execute(
            f"INSERT INTO {table} (embedding, label) SELECT "
            "ARRAY[random() * 2 - 1, random() * 2 - 1, random() * 2 - 1]::vector, "
            "'row ' || g FROM generate_series(1, %s) AS g",
            [rows],
        )
        cursor.execute(f"VACUUM ANALYZE {table}")
        print(f"  {time.perf_counter() - started:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--exact-requests", type=int, default=10)
    args = parser.parse_args()

    setup_django(f"bench_changelist_{args.rows}")
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    settings.ROOT_URLCONF = "bench.changelist_urls"
    load(args.rows)
    User.objects.filter(username="bench").delete()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.create_superuser("bench", "", "bench"))
    rng = random.Random(7)

    def get(path: str, marker: bytes) -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert marker in response.content, (path, marker)

    pages = {
        "stock change page": lambda: get(
            f"/stock/catalog/item/{rng.randint(1, args.rows)}/change/", b'name="label"'
        ),
        "stock changelist": lambda: get("/stock/catalog/item/", b'class="paginator"'),
        "stock changelist without its count": lambda: get(
            "/uncounted/catalog/item/", b'class="paginator"'
        ),
        "vector changelist": lambda: get("/admin/catalog/item/", b"about "),
        "vector changelist, exact count": lambda: get(
            "/admin/catalog/item/?_count=exact", b'class="paginator"'
        ),
    }
    few = {"stock changelist", "vector changelist, exact count"}
    samples: dict[str, list[float]] = {name: [] for name in pages}
    for run in pages.values():
        run()  # warm up
    for turn in range(args.requests):
        for name, run in pages.items():
            if name in few and turn >= args.exact_requests:
                continue
            samples[name] += timed(run, 1)

    print(f"\n{args.rows:,} rows, interleaved: {args.requests} requests each "
          f"({args.exact_requests} for the counting pages)\n")  # fmt: skip
    print_ratio_table(samples, "stock change page")


if __name__ == "__main__":
    main()
