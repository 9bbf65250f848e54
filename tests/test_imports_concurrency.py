"""Searches keep working while an import loads: checked from a second connection at
the moment the import is inside its load transaction, with a lock timeout so that a
search that would wait fails instead."""

from __future__ import annotations

import io

import psycopg
import pytest
from django.db import connection

from catalog.models import Item
from pgvector_admin.transfer.services import import_vectors

pytestmark = pytest.mark.django_db(transaction=True)

SEARCH = "SELECT id FROM catalog_item ORDER BY embedding <=> '[1,2,3]' LIMIT 5"


def search_from_another_connection() -> int:
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SET lock_timeout = '2s'")
        return len(other.execute(SEARCH).fetchall())


def file_of(count: int) -> io.BytesIO:
    body = "".join(f'r{i},"[{i % 9 + 1},{i % 4 + 1},1]"\n' for i in range(count))
    return io.BytesIO(("label,embedding\n" + body).encode())


@pytest.mark.parametrize("strategy", ["live", "rebuild"])
def test_searches_do_not_wait_for_an_import(strategy: str) -> None:
    Item.objects.bulk_create(Item(embedding=[1, 1, i + 1], label=f"old {i}") for i in range(10))
    seen: list[int] = []

    def progress(phase: str, done: int, total: int | None) -> None:
        if phase == "load" and done == total:  # rows inserted, transaction still open
            seen.append(search_from_another_connection())

    report = import_vectors(
        file_of(300), model=Item, dry_run=False, strategy=strategy, progress=progress
    )
    assert report.written
    assert seen == [5]  # answered at once, from the rows committed before
    assert Item.objects.count() == 310
    assert search_from_another_connection() == 5
