"""Data and checks shared by the tests of the vector admin on the tests' own models
(tests/vector_models): clustered vectors as real embeddings are, the exact answer by
numpy, and the comparison of a results CSV with it."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import numpy as np
import pytest
from django.apps import apps
from django.urls import reverse
from pgvector import SparseVector

from tests.vector_models.models import (
    BitDocument,
    Document,
    HalfDocument,
    Passage,
    Product,
    SparseDocument,
    Untyped,
)

# Every model with vector fields the tests fill, with the fixture that fills it.
MODELS_WITH_DATA = [
    (Document, "documents"),
    (HalfDocument, "half_documents"),
    (Product, "products"),
    (Untyped, "untyped"),
    (SparseDocument, "sparse_documents"),
    (BitDocument, "bit_documents"),
    (Passage, "passages"),
]
if apps.is_installed("catalog"):  # the demo's seed model, when the demo is there
    from catalog.models import Item

    MODELS_WITH_DATA.append((Item, "seed_items"))


def admin_url(model: type, view: str, *args: object) -> str:
    """``/admin/<app>/<model>/[<args>/][<view>/]`` for any model."""
    prefix = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    return prefix + "".join(f"{arg}/" for arg in args) + (f"{view}/" if view else "")


def clustered(count: int, dimensions: int, *, seed: int, clusters: int = 8) -> np.ndarray:
    """Vectors around a few centres, as real embeddings are, rather than uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dimensions))
    picks = rng.integers(clusters, size=count)
    return centres[picks] + 0.3 * rng.normal(size=(count, dimensions))


def url(model: type, verb: str, *args: Any) -> str:
    return reverse(f"admin:vector_models_{model._meta.model_name}_{verb}", args=args)


def exact_answer(
    model: type, field: str, query: np.ndarray, metric: str, k: int, exclude: Any = None
) -> list[tuple[Any, float]]:
    """The true k nearest by numpy over the stored values (as pgvector stores them)."""
    ids, vectors = [], []
    for pk, value in model.objects.values_list("pk", field):
        if pk != exclude:
            ids.append(pk)
            vectors.append(as_array(value))
    matrix = np.asarray(vectors, dtype=np.float64)
    query = as_array(query)
    if metric in ("hamming", "jaccard"):
        matrix, query = matrix.astype(bool), query.astype(bool)
        differ = (matrix != query).sum(axis=1)
        if metric == "hamming":
            distances = differ.astype(np.float64)
        else:
            union = (matrix | query).sum(axis=1)
            distances = np.where(union == 0, 1.0, 1 - (matrix & query).sum(axis=1) / union)
    elif metric == "cosine":
        distances = 1 - matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query))
    elif metric == "l2":
        distances = np.linalg.norm(matrix - query, axis=1)
    elif metric == "ip":
        distances = -(matrix @ query)
    else:
        distances = np.abs(matrix - query).sum(axis=1)
    order = np.argsort(distances, kind="stable")[:k]
    return [(ids[i], float(distances[i])) for i in order]


def as_array(value: Any) -> np.ndarray:
    """A stored or query value of any type as a dense numpy array."""
    if isinstance(value, SparseVector):
        return value.to_numpy().astype(np.float64)
    if isinstance(value, str):
        return np.fromiter((bit == "1" for bit in value), dtype=np.float64)
    return np.asarray(value, dtype=np.float64)


def results_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:2000]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


COLUMN_OF_METRIC = {
    "cosine": "cosine_distance",
    "l2": "l2_distance",
    "ip": "inner_product",
    "l1": "l1_distance",
    "hamming": "hamming_distance",
    "jaccard": "jaccard_distance",
}


def assert_same_answer(rows: list[dict[str, str]], expected: list[tuple[Any, float]], metric: str):
    """Same distances in the same order (float4 arithmetic against float64), and the same
    rows wherever the distances are not tied."""
    column = COLUMN_OF_METRIC[metric]
    sign = -1.0 if metric == "ip" else 1.0
    got = [sign * float(row[column]) for row in rows]
    assert got == pytest.approx([d for _, d in expected], rel=1e-4, abs=1e-4)
    distinct = [
        pk
        for position, (pk, distance) in enumerate(expected)
        if all(
            abs(distance - other) > 1e-4 for j, (_, other) in enumerate(expected) if j != position
        )
    ]
    got_ids = [int(row["id"]) for row in rows]
    for pk in distinct:
        assert pk in got_ids


def distances_of(client: Any, page: Any) -> Any:
    """The distance histogram a search or similar ``page`` asks for after it loads (its
    ``data-distances-url``), fetched as the page's script does."""
    found = re.search(r'data-distances-url="([^"]+)"', page.content.decode())
    assert found, "the page asks for no histogram"
    return client.get(html.unescape(found.group(1)), headers={"X-Pgvector-Admin-Part": "1"})
