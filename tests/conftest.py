"""Shared fixtures. The tests run against real PostgreSQL + pgvector: the embedded
server by default, or the server named by DATABASE_URL."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client

from catalog import selectors
from catalog.models import Item
from catalog.samples import load_seed_items


@pytest.fixture
def seed_items(db: None) -> list[Item]:
    """The seed tutorial's 27 vectors, [i, j, k] for i, j, k in 1..3, in a fresh table.

    TRUNCATE (undone with the test's transaction) gives the table and its index new,
    empty files, as in the tutorial: rows that earlier tests inserted and rolled back
    would otherwise still weigh on the planner's size estimates.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Item._meta.db_table}")
    load_seed_items()
    return list(Item.objects.order_by("id"))


@pytest.fixture
def index_scans_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Searches that may use an index must: sequential scans off, as on a table large
    enough for the planner to choose the index by itself."""
    original = selectors.search_settings

    def settings(*, k: int, exact: bool, index: selectors.VectorIndex | None = None):
        chosen = original(k=k, exact=exact, index=index)
        return chosen if exact or index is None else {**chosen, "enable_seqscan": "off"}

    monkeypatch.setattr(selectors, "search_settings", settings)


def staff_client(*permissions: str) -> Client:
    """A logged-in client of a staff user holding only the given Item permissions
    (codenames such as ``view_item``)."""
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client
