"""Every vector page against Django's own change page of the same table, interleaved in
one run, with the statements each page sends.

    uv run python bench/pages.py [--rows 1000000] [--requests 30]

The demo's Item table (random 3-d vectors with the HNSW cosine index, the database of
bench/similar_page.py), Django's full stack through the test client, production
settings over plain HTTP. Pages: a stock change page (a plain ModelAdmin at /stock/:
the floor), the vector changelist, the search and similar pages (k=10), the map, the
pictures' points and the index page.
"""

from __future__ import annotations

import argparse
import random

from common import ensure_rows, print_ratio_table, setup_django, timed, warm_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()

    setup_django()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ROOT_URLCONF = "bench.changelist_urls"
    ensure_rows(args.rows)
    print(f"Index warmed by 3,000 searches in {warm_index():.1f} s.")
    User.objects.filter(username="bench").delete()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.create_superuser("bench", "", "bench"))
    rng = random.Random(11)

    def pk() -> int:
        return rng.randint(1, args.rows)

    def vector() -> str:
        return ",".join(f"{rng.uniform(-1, 1):.4f}" for _ in range(3))

    items = "/admin/catalog/item"
    pages = {
        "stock change page (Django)": lambda: f"/stock/catalog/item/{pk()}/change/",
        "Django's changelist without its count": lambda: "/uncounted/catalog/item/",
        "vector changelist": lambda: f"{items}/",
        "search page": lambda: f"{items}/search/?vector={vector()}&k=10",
        "similar page": lambda: f"{items}/{pk()}/similar/?k=10",
        "similar page's points": lambda: f"{items}/{pk()}/similar/points/?k=10",
        "similar page's histogram": lambda: f"{items}/{pk()}/similar/distances/?k=10",
        "map page": lambda: f"{items}/map/",
        "map's points": lambda: f"{items}/map/points/",
        "index page": lambda: f"{items}/indexes/",
    }

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)

    statements = {}
    for name, address in pages.items():
        get(address())  # warm up
        with CaptureQueriesContext(connection) as seen:
            get(address())
        statements[name] = len(seen.captured_queries)
    samples: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(args.requests):
        for name, address in pages.items():
            path = address()
            samples[name] += timed(lambda path=path: get(path), 1)

    print(f"\n{args.rows:,} rows, {args.requests} requests each, interleaved\n")
    counts = {name: str(count) for name, count in statements.items()}
    print_ratio_table(samples, "stock change page (Django)", extra=counts, extra_name="statements")


if __name__ == "__main__":
    main()
