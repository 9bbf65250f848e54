"""Shared fixtures. The tests run against real PostgreSQL + pgvector: the embedded
server by default, or the server named by DATABASE_URL."""

from __future__ import annotations

import pytest

from catalog.models import Item
from catalog.services import load_seed_items


@pytest.fixture
def seed_items(db: None) -> list[Item]:
    """The seed tutorial's 27 vectors, [i, j, k] for i, j, k in 1..3."""
    load_seed_items()
    return list(Item.objects.order_by("id"))
