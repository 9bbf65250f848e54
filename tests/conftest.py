"""Shared fixtures. The tests run against real PostgreSQL + pgvector: the embedded
server by default, or the server named by DATABASE_URL."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from pgvector import SparseVector

from pgvector_admin.search import searches
from pgvector_admin.search.catalogue import VectorIndex
from tests.vector_data import clustered
from tests.vector_models.models import (
    BitDocument,
    Collection,
    Document,
    HalfDocument,
    Passage,
    Product,
    SparseDocument,
    Untyped,
)


@pytest.fixture
def seed_items(db: None) -> list[Any]:
    """The seed tutorial's 27 vectors, [i, j, k] for i, j, k in 1..3, in a fresh table.

    TRUNCATE (undone with the test's transaction) gives the table and its index new,
    empty files, as in the tutorial: rows that earlier tests inserted and rolled back
    would otherwise still weigh on the planner's size estimates.
    """
    # The demo's model, imported here: the package's own tests run without the demo.
    from catalog.models import Item
    from catalog.samples import load_seed_items

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Item._meta.db_table}")
    load_seed_items()
    return list(Item.objects.order_by("id"))


@pytest.fixture
def index_scans_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Searches that may use an index must: sequential scans off, as on a table large
    enough for the planner to choose the index by itself."""
    original = searches.search_settings

    def settings(*, k: int, exact: bool, index: VectorIndex | None = None, **kwargs: Any):
        chosen = original(k=k, exact=exact, index=index, **kwargs)
        return chosen if exact or index is None else {**chosen, "enable_seqscan": "off"}

    monkeypatch.setattr(searches, "search_settings", settings)


def staff_client(*permissions: str) -> Client:
    """A logged-in client of a staff user holding only the given Item permissions
    (codenames such as ``view_item``)."""
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client


# The tests' own models (tests/vector_models), filled with realistic data.


@pytest.fixture
def documents() -> list[Document]:
    vectors = clustered(300, 768, seed=1)
    rows = [Document(title=f"doc {i}", embedding=list(v)) for i, v in enumerate(vectors)]
    return Document.objects.bulk_create(rows)


@pytest.fixture
def half_documents() -> list[HalfDocument]:
    vectors = clustered(150, 1536, seed=2)
    rows = [HalfDocument(title=f"half {i}", embedding=list(v)) for i, v in enumerate(vectors)]
    return HalfDocument.objects.bulk_create(rows)


@pytest.fixture
def products() -> list[Product]:
    text, image = clustered(120, 16, seed=3), clustered(120, 8, seed=4)
    rows = [
        Product(name=f"product {i}", text_embedding=list(t), image_embedding=list(m))
        for i, (t, m) in enumerate(zip(text, image, strict=True))
    ]
    return Product.objects.bulk_create(rows)


@pytest.fixture
def sparse_documents() -> list[SparseDocument]:
    """30,000-d, at most 100 non-zero values each, drawn from a few topics' words."""
    rng = np.random.default_rng(5)
    topics = [rng.choice(30000, size=150, replace=False) for _ in range(6)]
    rows = []
    for i in range(200):
        words = rng.choice(topics[i % 6], size=80, replace=False)
        noise = rng.choice(30000, size=20, replace=False)
        indices = sorted(set(words.tolist()) | set(noise.tolist()))
        values = {int(index): float(rng.uniform(0.1, 3)) for index in indices}
        rows.append(SparseDocument(title=f"sparse {i}", embedding=SparseVector(values, 30000)))
    return SparseDocument.objects.bulk_create(rows)


@pytest.fixture
def bit_documents() -> list[BitDocument]:
    """1,024 bits each: a few random codes, 10% of each copy's bits flipped."""
    rng = np.random.default_rng(6)
    codes = rng.integers(2, size=(6, 1024))
    rows = []
    for i in range(200):
        flips = rng.random(1024) < 0.1
        bits = "".join(str(bit) for bit in np.where(flips, 1 - codes[i % 6], codes[i % 6]))
        rows.append(BitDocument(title=f"bits {i}", embedding=bits))
    return BitDocument.objects.bulk_create(rows)


@pytest.fixture
def untyped() -> list[Untyped]:
    vectors = clustered(40, 5, seed=9)
    rows = [Untyped(name=f"untyped {i}", embedding=list(v)) for i, v in enumerate(vectors)]
    return Untyped.objects.bulk_create(rows)


@pytest.fixture
def passages() -> list[Passage]:
    """400 passages of two collections, 768-d, every other one an abstract; with
    metadata, a code on some, published unknown on others."""
    collections = [Collection.objects.create(name=name) for name in ("papers", "notes")]
    vectors = clustered(400, 768, seed=10)
    rows = [
        Passage(
            collection=collections[i % 2],
            kind="abstract" if i % 2 else "body",
            position=i,
            published=None if i % 3 == 0 else bool(i % 2),
            metadata={"source": f"s{i % 5}", "tags": ["a", "b"][: i % 3]},
            code=f"P{i:04d}" if i % 4 == 0 else None,
            embedding=list(v),
        )
        for i, v in enumerate(vectors)
    ]
    return Passage.objects.bulk_create(rows)
