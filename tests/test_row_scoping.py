"""Row scoping: every vector page and data request searches inside the admin's
``get_queryset(request)``, with or without the changelist's filters. ``NoteAdmin``
shows each user only their own notes; Bob's notes are nearer to every query than
Alice's, so any leak would show."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from tests.vector_data import distances_of
from tests.vector_models.models import Note

pytestmark = pytest.mark.django_db

BASE = "/admin/vector_models/note/"
QUERY = {"vector": "1,0,0", "k": "10"}


@pytest.fixture
def tenants() -> tuple[Client, list[Note], list[Note]]:
    alice = User.objects.create_user("alice", password="pw", is_staff=True)
    bob = User.objects.create_user("bob", password="pw", is_staff=True)
    for user in (alice, bob):
        for action in ("view", "add", "change"):
            user.user_permissions.add(Permission.objects.get(codename=f"{action}_note"))
    alices = [
        Note.objects.create(owner=alice, title=f"alice {i}", embedding=[1, i + 1, 1])
        for i in range(6)
    ]
    bobs = [
        Note.objects.create(owner=bob, title=f"bob-note {i}", embedding=[1, 0.01 * i, 0])
        for i in range(6)
    ]
    client = Client()
    client.force_login(alice)
    return client, alices, bobs


def assert_no_bob(content: bytes | str, bobs: list[Note]) -> None:
    text = content.decode() if isinstance(content, bytes) else content
    # "bob-note", not "bob": a random CSRF token (letters and digits) may contain "bob".
    assert "bob-note" not in text
    for note in bobs:
        assert f"/note/{note.pk}/change/" not in text


@pytest.mark.parametrize("conditions", [{}, {"q": "alice"}], ids=["unfiltered", "filtered"])
def test_search_and_its_csv_and_points_stay_inside_the_users_rows(tenants, conditions) -> None:
    client, alices, bobs = tenants
    page = client.get(f"{BASE}search/", {**QUERY, **conditions, "recall": "1"})
    assert page.status_code == 200
    outcome = page.context["outcome"]
    assert sorted(n.id for n in outcome.neighbours) == sorted(n.pk for n in alices)
    assert outcome.recall == 1.0
    assert_no_bob(page.content, bobs)
    # The histogram's sample: Alice's six rows, not twelve.
    distances = distances_of(client, page)
    assert len(distances.context["distance_sample"].distances) == len(alices)
    assert_no_bob(distances.content, bobs)

    csv = client.get(f"{BASE}search/", {**QUERY, **conditions, "format": "csv"})
    assert_no_bob(csv.content, bobs)
    assert csv.content.decode().count("alice") == len(alices)

    points = client.get(f"{BASE}search/points/", {**QUERY, **conditions})
    data = json.loads(points.content)
    ids = set(data["sample"]["ids"]) | set(data["neighbours"]["ids"])
    assert ids == {n.pk for n in alices}
    assert_no_bob(points.content, bobs)


@pytest.mark.parametrize("conditions", [{}, {"q": "alice"}], ids=["unfiltered", "filtered"])
def test_similar_and_its_points_stay_inside_the_users_rows(tenants, conditions) -> None:
    client, alices, bobs = tenants
    page = client.get(f"{BASE}{alices[0].pk}/similar/", {**conditions, "recall": "1"})
    assert page.status_code == 200
    assert {n.id for n in page.context["outcome"].neighbours} == {n.pk for n in alices[1:]}
    assert_no_bob(page.content, bobs)
    distances = distances_of(client, page)
    assert len(distances.context["distance_sample"].distances) == len(alices) - 1
    assert_no_bob(distances.content, bobs)
    csv = client.get(f"{BASE}{alices[0].pk}/similar/", {**conditions, "format": "csv"})
    assert_no_bob(csv.content, bobs)
    points = client.get(f"{BASE}{alices[0].pk}/similar/points/", conditions)
    assert_no_bob(points.content, bobs)
    data = json.loads(points.content)
    assert set(data["sample"]["ids"]) | set(data["neighbours"]["ids"]) == {n.pk for n in alices[1:]}


def test_another_users_row_has_no_similar_page_nor_points(tenants) -> None:
    client, _, bobs = tenants
    page = client.get(f"{BASE}{bobs[0].pk}/similar/", follow=True)
    assert_no_bob(page.content, bobs)
    points = client.get(f"{BASE}{bobs[0].pk}/similar/points/")
    assert points.status_code == 404
    assert_no_bob(points.content, bobs)
    distances = client.get(f"{BASE}{bobs[0].pk}/similar/distances/")
    assert distances.status_code == 404
    assert_no_bob(distances.content, bobs)


@pytest.mark.parametrize("conditions", [{}, {"q": "alice"}], ids=["unfiltered", "filtered"])
def test_the_map_and_its_points_stay_inside_the_users_rows(tenants, conditions) -> None:
    client, alices, bobs = tenants
    page = client.get(f"{BASE}map/", conditions)
    assert page.status_code == 200
    assert_no_bob(page.content, bobs)
    points = client.get(f"{BASE}map/points/", {**conditions, "colour": "owner"})
    assert_no_bob(points.content, bobs)
    assert set(json.loads(points.content)["sample"]["ids"]) == {n.pk for n in alices}


def test_exports_stay_inside_the_users_rows(tenants) -> None:
    client, alices, bobs = tenants
    fields = {f"noteresource_{name}": "on" for name in ("id", "owner", "title", "embedding")}
    everything = client.post(f"{BASE}export/", {"format": "0", "resource": "0", **fields})
    content = b"".join(everything.streaming_content).decode()
    assert_no_bob(content, bobs)
    assert content.count("alice") == len(alices)
    # Bob's ids posted by hand are not exported.
    chosen = client.post(
        f"{BASE}export/",
        {
            "format": "0",
            "resource": "0",
            "export_items": [str(bobs[0].pk), str(alices[0].pk)],
            **fields,
        },
    )
    # The form refuses an id that is not among the user's rows.
    content = (b"".join(chosen.streaming_content) if chosen.streaming else chosen.content).decode()
    assert_no_bob(content, bobs)


def test_the_find_similar_action_cannot_reach_another_users_row(tenants) -> None:
    client, _, bobs = tenants
    response = client.post(
        BASE, {"action": "find_similar", "_selected_action": [str(bobs[0].pk)]}, follow=True
    )
    assert_no_bob(response.content, bobs)
