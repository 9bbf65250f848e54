"""Two imports at once: they take turns (an advisory lock) and both land whole."""

from __future__ import annotations

import io
import threading

import pytest
from django.db import connections

from catalog.models import Item
from pgvector_admin.transfer.services import import_vectors

pytestmark = pytest.mark.django_db(transaction=True)


def file_of(prefix: str, count: int) -> io.BytesIO:
    body = "".join(f'{prefix}{i},"[{i % 9 + 1},{i % 5 + 1},1]"\n' for i in range(count))
    return io.BytesIO(("label,embedding\n" + body).encode())


@pytest.mark.parametrize("strategy", ["live", "rebuild"])
def test_two_imports_at_once_both_land_whole(strategy: str) -> None:
    reports = {}
    errors: list[BaseException] = []

    def run(prefix: str) -> None:
        try:
            reports[prefix] = import_vectors(
                file_of(prefix, 2000),
                dry_run=False,
                strategy=strategy,
                model=Item,
            )
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(prefix,)) for prefix in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    assert all(report.written for report in reports.values())
    assert Item.objects.filter(label__startswith="a").count() == 2000
    assert Item.objects.filter(label__startswith="b").count() == 2000
    assert len(set(Item.objects.values_list("id", flat=True))) == 4000
