"""The catalog's own sample data: the seed tutorial's 27 items, the handwritten digits
and the standard library's docstrings, loaded by ``quickstart``."""

from __future__ import annotations

import gzip
from itertools import product
from pathlib import Path

from django.db import connection, transaction

from catalog.models import Digit, Docstring, Item
from catalog.stdlib_docs import read_corpus


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


DIGITS_FILE = Path(__file__).resolve().parent / "data" / "digits.csv.gz"


def read_digits() -> list[tuple[list[float], int]]:
    """The 1,797 handwritten digits (catalog/data/README.md): 64 pixel values and the
    digit, for each image."""
    with gzip.open(DIGITS_FILE, "rt", encoding="ascii") as lines:
        rows = [line.strip().split(",") for line in lines if line.strip()]
    return [([float(value) for value in row[:64]], int(row[64])) for row in rows]


def load_digits() -> int:
    """Insert the handwritten digits if their table is empty; return how many were added."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Digit._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        if Digit.objects.exists():
            return 0
        digits = [Digit(image=image, digit=digit) for image, digit in read_digits()]
        Digit.objects.bulk_create(digits, batch_size=1000)
    return len(digits)


def load_docstrings() -> int:
    """Insert the running interpreter's standard library docstrings
    (``catalog.stdlib_docs``) if their table is empty, without embeddings (they are
    made in the background); return how many were added."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Docstring._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        if Docstring.objects.exists():
            return 0
        docs = [
            Docstring(qualname=doc.qualname, kind=doc.kind, module=doc.module, text=doc.text)
            for doc in read_corpus()
        ]
        Docstring.objects.bulk_create(docs, batch_size=2000)
    return len(docs)
