"""The "find similar" page at a million rows: server time against raw SQL.

    uv run python bench/similar_page.py [--rows 1000000] [--requests 300]

Three timings of the same work, interleaved in the same run, on the same database:
  raw SQL   psycopg alone: fetch the row's embedding, then the k-NN query with the
            same SET LOCAL settings in a transaction: the floor.
  selector  pgvector_admin.search.searches.similar_to(), as every page and command calls it.
  page      GET /admin/catalog/item/<pk>/similar/?k=10 through Django's full stack
            (middleware, session, admin, template): the server time of the page.
The query's EXPLAIN is printed so that the index use can be seen, and where the
selector's time goes: each statement's round trip (as Django's cursor times it) and
the rest, Python's.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from common import ensure_rows, setup_django, summary, timed, warm_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()

    setup_django()
    import psycopg
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from catalog.models import Item
    from pgvector_admin.search.distance_query import distance_queryset
    from pgvector_admin.search.index_choice import index_for
    from pgvector_admin.search.scan_settings import search_settings
    from pgvector_admin.search.searches import similar_to
    from pgvector_admin.vectors.fields import VectorColumn
    from pgvector_admin.vectors.metrics import COSINE

    ensure_rows(args.rows)
    print(f"Index warmed by 3,000 searches in {warm_index():.1f} s.")
    column = VectorColumn.of(Item, "embedding")
    User.objects.filter(username="bench").delete()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.create_superuser("bench", "", "bench"))
    rng = random.Random(7)
    max_id = Item.objects.order_by("-id").values_list("id", flat=True).first()
    pks = [rng.randint(1, max_id) for _ in range(args.requests)]

    settings = search_settings(k=args.k, exact=False, index=index_for(column, COSINE))
    params = connection.get_connection_params()
    raw = psycopg.connect(**params, autocommit=True)

    def raw_similar(pk: int) -> int:
        # A transaction, as the selector uses, so that SET LOCAL applies.
        with raw.transaction(), raw.cursor() as cursor:
            for name, value in settings.items():
                cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
            cursor.execute("SELECT embedding::text FROM catalog_item WHERE id = %s", [pk])
            (vector,) = cursor.fetchone()
            cursor.execute(
                "SELECT id, label, embedding::text, embedding <=> %(q)s::vector AS cosine, "
                "embedding <-> %(q)s::vector, embedding <#> %(q)s::vector, "
                "embedding <+> %(q)s::vector FROM catalog_item WHERE id <> %(pk)s "
                "ORDER BY cosine LIMIT %(k)s",
                {"q": vector, "pk": pk, "k": args.k},
            )
            rows = cursor.fetchall()
        return len(rows)

    def selector(pk: int) -> int:
        obj = Item.objects.get(pk=pk)
        return len(similar_to(obj=obj, column=column, k=args.k, metric=COSINE).neighbours)

    def page(pk: int) -> int:
        response = client.get(f"/admin/catalog/item/{pk}/similar/", {"k": args.k})
        assert response.status_code == 200, response.status_code
        return response.content.count(b'class="similar-row"')

    for name, run in (("raw", raw_similar), ("selector", selector), ("page", page)):
        assert run(pks[0]) == args.k, name  # warm up and check completeness
    # Interleaved, each row's three in turn and in a turning order: each sees the same
    # machine, and none always reads the row's part of the graph first.
    runs = {
        "raw SQL (psycopg)": raw_similar,
        "selector similar_to()": selector,
        "admin similar page": page,
    }
    samples: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for turn, pk in enumerate(pks):
        order = names[turn % 3 :] + names[: turn % 3]
        for name in order:
            samples[name] += timed(lambda run=runs[name], pk=pk: run(pk), 1)
    results = {name: summary(values) for name, values in samples.items()}

    target = Item.objects.get(pk=pks[0])
    queryset = distance_queryset(
        column=column, vector=list(target.embedding), metric=COSINE, exclude_id=target.pk
    )
    with connection.cursor() as cursor:
        for name, value in settings.items():
            cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
    plan = queryset[: args.k].explain(analyze=True)

    base = results["raw SQL (psycopg)"]["p50"]
    print(f"\n{args.rows:,} rows, k={args.k}, {args.requests} requests each, settings {settings}\n")
    print("| what | p50 ms | p90 ms | p99 ms | p50 / raw |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, figures in results.items():
        print(
            f"| {name} | {figures['p50']:.2f} | {figures['p90']:.2f} | {figures['p99']:.2f} "
            f"| {figures['p50'] / base:.1f}x |"
        )
    print("\nEXPLAIN ANALYZE of the similar query:\n")
    print(plan)
    print_selector_parts(selector, pks[: args.requests])


def print_selector_parts(selector, pks: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Median milliseconds of each statement of the selector (the round trip, timed
    around Django's cursor) and of the rest of its time."""
    from collections import defaultdict

    from django.db import connection

    # First match: the k-NN query leaves the row out by its id too.
    kinds = (
        ("BEGIN + settings + the table's stamp", "set_config("),
        ("k-NN query + its plan (one round trip)", "<=>"),
        ("the row (ORM get)", '."id" = '),
    )
    spent: dict[str, list[float]] = defaultdict(list)
    current: dict[str, float] = defaultdict(float)

    def timer(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = next((name for name, mark in kinds if mark in sql), "other statements")
            current[kind] += (time.perf_counter() - started) * 1000

    totals = []
    with connection.execute_wrapper(timer):
        for pk in pks:
            current.clear()
            started = time.perf_counter()
            selector(pk)
            totals.append((time.perf_counter() - started) * 1000)
            for name in [*(name for name, _ in kinds), "other statements"]:
                spent[name].append(current.get(name, 0.0))
    print("\nWhere the selector's time goes (median ms):\n")
    print("| part | ms |")
    print("| --- | ---: |")
    for name, values in spent.items():
        print(f"| {name} | {statistics.median(values):.2f} |")
    statements = [sum(parts) for parts in zip(*spent.values(), strict=True)]
    rest = [total - used for total, used in zip(totals, statements, strict=True)]
    print(f"| the rollback, and Python (the ORM, the outcome) | {statistics.median(rest):.2f} |")
    print(f"| total | {statistics.median(totals):.2f} |")


if __name__ == "__main__":
    main()
