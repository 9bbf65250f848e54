"""Test data: random vectors, and the exact answers to compare searches with."""

from __future__ import annotations

import math
import random

from catalog.models import Item
from pgvector_admin.vectors.fields import VectorColumn
from pgvector_admin.vectors.metrics import Metric

# The seed's Item.embedding, as the searches and forms take it.
ITEM_EMBEDDING = VectorColumn.of(Item, "embedding")


def random_vectors(count: int, *, seed: int = 0, dimensions: int = 3) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-1, 1) for _ in range(dimensions)] for _ in range(count)]


def create_items(vectors: list[list[float]], *, prefix: str = "item") -> list[Item]:
    items = [Item(embedding=v, label=f"{prefix} {i}") for i, v in enumerate(vectors)]
    return Item.objects.bulk_create(items, batch_size=2000)


def exact_value(metric: Metric, a: list[float], b: list[float]) -> float:
    """The metric computed in Python, as the page shows it (true inner product for ip)."""
    if metric.name == "cosine":
        dot = sum(x * y for x, y in zip(a, b, strict=True))
        return 1 - dot / (math.hypot(*a) * math.hypot(*b))
    if metric.name == "l2":
        return math.dist(a, b)
    if metric.name == "ip":
        return sum(x * y for x, y in zip(a, b, strict=True))
    if metric.name == "l1":
        return sum(abs(x - y) for x, y in zip(a, b, strict=True))
    raise ValueError(metric.name)


def exact_nearest(
    metric: Metric, query: list[float], k: int, *, exclude_id: int | None = None
) -> list[tuple[int, float]]:
    """(id, value) of the k nearest rows, computed in Python over every row."""
    rows = [
        (item.pk, exact_value(metric, list(item.embedding), query))
        for item in Item.objects.exclude(pk=exclude_id).only("id", "embedding")
    ]
    sign = -1 if metric.negated else 1
    rows.sort(key=lambda row: sign * row[1])
    return rows[:k]


def task_url(pk: int, view: str = "change") -> str:
    """The address of a background task's page (or of its ``state``, ``cancel``… view)."""
    return f"/admin/pgvector_admin/taskprogress/{pk}/{view}/"
