"""Writes to the catalog."""

from __future__ import annotations

from itertools import product

from django.db import connection, transaction

from catalog.models import Item


def seed_vectors() -> list[list[float]]:
    """The seed tutorial's 27 example vectors: [i, j, k] for i, j, k in 1..3."""
    return [[float(i), float(j), float(k)] for i, j, k in product(range(1, 4), repeat=3)]


def load_seed_items() -> int:
    """Insert the seed's 27 vectors if the table is empty; return how many were added."""
    with transaction.atomic():
        # A second quickstart running at the same time waits here, then sees the rows.
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Item._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        if Item.objects.exists():
            return 0
        items = [
            Item(embedding=vector, label="seed " + "-".join(str(int(v)) for v in vector))
            for vector in seed_vectors()
        ]
        Item.objects.bulk_create(items)
    return len(items)
