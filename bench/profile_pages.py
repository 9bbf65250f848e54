"""Where a vector page's time goes: its statements by kind (with their time as Django
measured each, round trip included), the templates' rendering, and the rest (Python:
middleware, the admin, forms, building the queries), against Django's change page of
the same table (and, at 3-d, Django's own changelist without its counts). The pages:
the changelist, search, similar (and its histogram's and points' requests), the map
(and its points) and the index page.

    uv run python bench/profile_pages.py [--rows 1000000] [--requests 20]
    uv run python bench/profile_pages.py --high-dimensions [--requests 20]

The demo's Item table at 1,000,000 3-d rows (bench/pages.py's database), or with
``--high-dimensions`` the 100,000 768-d rows of bench/high_dimensions.py (run that
first). Medians over the requests of each page, taken in turn.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import defaultdict

from common import ensure_rows, setup_django, warm_index

# Each statement's kind, by what it says (first match).
KINDS = [
    ("session and user", ("django_session", "auth_user")),
    # A search's settings statement reads the table's stamp too (recorded.run_recorded).
    ("search settings", ("set_config(",)),
    ("table facts (stamp)", ("array_agg(concat_ws",)),
    # Sent with the k-NN query in one round trip (psycopg's pipeline): its time is there.
    ("plan for the verdict", ("EXPLAIN SELECT",)),
    ("row estimate", ("EXPLAIN (FORMAT JSON)",)),
    ("histogram sample", ("sampled_distance", "pg_relation_size(to_regclass")),
    ("search (k-NN)", ("<=>", "<->", "<#>")),
    ("the row", ('."id" = ',)),
    ("transaction", ("BEGIN", "ROLLBACK", "SAVEPOINT", "RELEASE")),
]


def kind_of(sql: str) -> str:
    for kind, marks in KINDS:
        if any(mark in sql for mark in marks):
            return kind
    return "other statements"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--high-dimensions", action="store_true")
    args = parser.parse_args()

    setup_django()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.template.response import SimpleTemplateResponse
    from django.test import Client

    rng = random.Random(13)
    if args.high_dimensions:
        import high_dimensions

        model = high_dimensions.declare_model("vector", 768)
        high_dimensions.register_admins({"vector": model})
        rows, dimensions, name = 100_000, 768, model._meta.model_name
    else:
        settings.ROOT_URLCONF = "bench.changelist_urls"
        ensure_rows(args.rows)
        warm_index()
        rows, dimensions, name = args.rows, 3, "item"
    User.objects.filter(username="bench-profile").delete()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.create_superuser("bench-profile", "", "bench"))

    if args.high_dimensions:
        # Queries near the rows' clusters, as bench/high_dimensions.py draws them (the
        # same centres): uniform noise would be far from every row, and the index would
        # work harder than it does for a real embedding.
        import numpy as np

        centres = np.random.default_rng(2026).normal(size=(200, dimensions)).astype(np.float32)
        held_out = high_dimensions.clustered(np.random.default_rng(7), centres, 500)
        # Each query once, before the timing: the first search near a part of the graph
        # reads its pages into shared buffers (bench/high_dimensions.py's recall pass
        # does the same for its queries).
        from pgvector_admin.search.searches import nearest
        from pgvector_admin.vectors.fields import VectorColumn
        from pgvector_admin.vectors.metrics import COSINE

        column = VectorColumn.of(model, "embedding")
        for query in held_out:
            nearest(column=column, vector=query.tolist(), k=10, metric=COSINE)

        def vector() -> str:
            return ",".join(f"{value:.5g}" for value in held_out[rng.randrange(len(held_out))])

    else:

        def vector() -> str:
            return ",".join(f"{rng.uniform(-1, 1):.4f}" for _ in range(dimensions))

    base = f"/admin/catalog/{name}"
    pages = {
        "stock change page (Django)": lambda: (
            f"/stock/catalog/{name}/{rng.randint(1, rows)}/change/"
        ),
        "vector changelist": lambda: f"{base}/",
        "search page": lambda: f"{base}/search/?vector={vector()}&k=10",
        "similar page": lambda: f"{base}/{rng.randint(1, rows)}/similar/?k=10",
        "histogram (its request)": lambda: f"{base}/{rng.randint(1, rows)}/similar/distances/?k=10",
        "similar page's points (JSON)": lambda: (
            f"{base}/{rng.randint(1, rows)}/similar/points/?k=10"
        ),
        "map page": lambda: f"{base}/map/",
        "map's points (JSON)": lambda: f"{base}/map/points/",
        "index page": lambda: f"{base}/indexes/",
    }
    if not args.high_dimensions:
        # Django's own list of the same columns, without its counts (bench/changelist_urls.py).
        pages["Django changelist, uncounted"] = lambda: f"/uncounted/catalog/{name}/"

    rendering = [0.0]
    original_render = SimpleTemplateResponse.render

    def timed_render(self):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return original_render(self)
        finally:
            rendering[0] += time.perf_counter() - started

    SimpleTemplateResponse.render = timed_render  # type: ignore[method-assign]
    # Each statement timed here (Django's own log keeps milliseconds to three decimals
    # of a second: whole milliseconds).
    timed: list[tuple[str, float]] = []

    def time_statement(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timed.append((sql, (time.perf_counter() - started) * 1000))

    figures: dict[str, dict[str, list[float]]] = {p: defaultdict(list) for p in pages}
    counts: dict[str, int] = {}
    for path in pages.values():
        client.get(path())  # warm up
    for _ in range(args.requests):
        for page, path in pages.items():
            rendering[0] = 0.0
            timed.clear()
            with connection.execute_wrapper(time_statement):
                started = time.perf_counter()
                response = client.get(path())
                total = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (page, response.status_code)
            by_kind: dict[str, float] = defaultdict(float)
            for sql, milliseconds in timed:
                by_kind[kind_of(sql)] += milliseconds
            for kind, _ in [*KINDS, ("other statements", ())]:
                figures[page][kind].append(by_kind.get(kind, 0.0))
            sql = sum(by_kind.values())
            figures[page]["templates"].append(rendering[0] * 1000)
            figures[page]["the rest (Python)"].append(total - sql - rendering[0] * 1000)
            figures[page]["total"].append(total)
            counts[page] = len(timed)

    print(f"\n{rows:,} {dimensions}-d rows, {args.requests} requests a page: median ms\n")
    columns = [kind for kind, _ in KINDS] + ["other statements", "templates", "the rest (Python)"]
    print("| page | statements | " + " | ".join(columns) + " | total |")
    print("| --- | ---: | " + " | ".join("---:" for _ in columns) + " | ---: |")
    for page, kinds in figures.items():
        cells = [f"{statistics.median(kinds[column]):.1f}" for column in columns]
        total = statistics.median(kinds["total"])
        print(f"| {page} | {counts[page]} | " + " | ".join(cells) + f" | {total:.1f} |")


if __name__ == "__main__":
    main()
