"""The pictures' pages and points (pgvector_admin.admin.pictures): the search and similar
pages ask for the query, its neighbours and a sample; the changelist's Map button opens
a map of the filtered rows coloured by a field; bad input is a clear 400."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from catalog.models import Digit, Item
from catalog.samples import load_digits
from tests.conftest import staff_client
from tests.vector_data import admin_url
from tests.vector_models.models import BitDocument, Document, Passage, SparseDocument

pytestmark = pytest.mark.django_db


def unpacked(values: dict[str, str]) -> np.ndarray:
    """A packed array of the points' JSON (little-endian float32 in base64)."""
    return np.frombuffer(base64.b64decode(values["float32"]), dtype="<f4")


def test_the_search_page_draws_the_query_its_neighbours_and_the_other_rows(
    admin_client: Client, seed_items
) -> None:
    page = admin_client.get(admin_url(Item, "search"), {"vector": "3,1,2", "k": "3"})
    html = page.content.decode()
    assert "Where are they?" in html
    assert 'class="point-cloud" data-points-url="/admin/catalog/item/search/points/?' in html
    assert "plotly-gl3d.min.js" in html
    assert "The 3-d picture needs JavaScript; the table above has every neighbour" in html

    data = admin_client.get(admin_url(Item, "search/points"), {"vector": "3,1,2", "k": "3"}).json()
    assert data["axes"] == ["x", "y", "z"]
    assert data["projection"] == "The vectors themselves (3 dimensions)."
    assert data["query"] == {"id": None, "x": 3.0, "y": 1.0, "z": 2.0}
    near = data["neighbours"]
    # The grid of the seed's data holds [3,1,2] itself: the nearest, at distance 0.
    assert near["labels"][0] == "seed 3-1-2"
    assert near["distances"]["cosine"][0] == pytest.approx(0, abs=1e-6)
    assert [near["x"][0], near["y"][0], near["z"][0]] == [3.0, 1.0, 2.0]
    assert near["distances"]["cosine"] == sorted(near["distances"]["cosine"])
    sample = data["sample"]
    # Every other row, each with every distance, none of the neighbours twice.
    assert len(sample["ids"]) == len(seed_items) - 3
    assert not set(sample["ids"]) & set(near["ids"])
    assert set(sample["distances"]) == {"cosine", "l2", "ip", "l1"}
    # Packed as float32: each row's own vector and its distances from the query.
    stored = dict(Item.objects.values_list("pk", "embedding"))
    xs, ys, zs = (unpacked(sample[axis]) for axis in "xyz")
    l2 = unpacked(sample["distances"]["l2"])
    for position, pk in enumerate(sample["ids"]):
        vector = np.asarray(stored[pk])
        assert np.allclose([xs[position], ys[position], zs[position]], vector, atol=1e-6)
        assert l2[position] == pytest.approx(np.linalg.norm(vector - [3, 1, 2]), rel=1e-6)
    assert data["change_url"] == "/admin/catalog/item/__pk__/change/"
    assert data["read_from"] is None  # no read replicas here


def test_the_similar_page_leaves_the_row_out_and_marks_it_as_the_query(
    admin_client: Client, documents
) -> None:
    row = documents[4]
    page = admin_client.get(admin_url(Document, "similar", row.pk), {"k": "5"})
    assert "/similar/points/?k=5" in page.content.decode()
    data = admin_client.get(admin_url(Document, "similar/points", row.pk), {"k": "5"}).json()
    assert data["axes"] == ["PC1", "PC2", "PC3"]
    assert (
        "principal axes (PCA) of the 768 dimensions, fitted on 300 sampled rows"
        in (data["projection"])
    )
    assert 0 < data["variance_kept"] < 1
    assert data["query"]["id"] == row.pk
    assert len(data["neighbours"]["ids"]) == 5
    assert row.pk not in data["sample"]["ids"]
    assert len(data["sample"]["ids"]) == 300 - 1 - 5
    # The row's own point is where the sample would have put it: its vector's projection.
    query = np.array([data["query"][axis] for axis in "xyz"])
    assert np.linalg.norm(query) > 0
    assert data["sample"]["labels"][0].startswith("doc ")


def test_no_neighbour_within_the_distance_draws_the_rest_and_no_neighbours(
    admin_client: Client, documents
) -> None:
    # Found by the URL sweep: a max_distance that keeps no row left nothing to project.
    row = documents[4]
    response = admin_client.get(
        admin_url(Document, "similar/points", row.pk), {"k": "5", "max_distance": "0.000001"}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["neighbours"] is None
    assert data["query"]["id"] == row.pk
    assert len(data["sample"]["ids"]) == 300 - 1


@pytest.mark.parametrize(
    ("model", "fixture"), [(SparseDocument, "sparse_documents"), (BitDocument, "bit_documents")]
)
def test_sparse_and_bit_fields_are_drawn_too(
    admin_client: Client, model: type, fixture: str, request: pytest.FixtureRequest
) -> None:
    rows = request.getfixturevalue(fixture)
    data = admin_client.get(admin_url(model, "similar/points", rows[0].pk), {"k": "4"}).json()
    assert data["reason"] is None
    assert data["axes"] == ["PC1", "PC2", "PC3"]
    assert len(data["neighbours"]["ids"]) == 4
    assert len(unpacked(data["sample"]["x"])) == len(rows) - 5


def test_a_bad_query_is_a_clear_400_and_no_picture(admin_client: Client, seed_items) -> None:
    response = admin_client.get(admin_url(Item, "search/points"), {"vector": "1,2", "k": "3"})
    assert response.status_code == 400
    assert (
        "expected 3 dimensions" in response.json()["error"].lower()
        or "3" in response.json()["error"]
    )
    page = admin_client.get(admin_url(Item, "search"), {"vector": "1,2"})
    assert "point-cloud" not in page.content.decode()
    missing = admin_client.get(admin_url(Item, "similar/points", 999999), {"k": "3"})
    assert missing.status_code == 404


def test_the_pictures_need_the_view_permission(seed_items) -> None:
    nobody = staff_client()  # staff, with no permission on items
    assert nobody.get(admin_url(Item, "search/points"), {"vector": "3,1,2"}).status_code == 403
    assert nobody.get(admin_url(Item, "map")).status_code == 403
    assert nobody.get(admin_url(Item, "map/points")).status_code == 403
    User.objects.get(username="staff").user_permissions.add(
        Permission.objects.get(codename="view_item")
    )
    viewer = Client()
    viewer.force_login(User.objects.get(username="staff"))
    assert viewer.get(admin_url(Item, "map/points")).status_code == 200


def test_the_changelist_map_button_keeps_its_filters_and_colours_by_the_digit(
    admin_client: Client,
) -> None:
    load_digits()
    changelist = admin_client.get(admin_url(Digit, ""), {"digit__exact": "3"})
    html = changelist.content.decode()
    assert 'href="/admin/catalog/digit/map/?digit__exact=3" class="vector-map-link"' in html

    page = admin_client.get(admin_url(Digit, "map"), {"digit__exact": "3"})
    html = page.content.decode()
    assert page.status_code == 200
    assert '<option value="digit" selected>digit</option>' in html
    assert 'data-points-url="/admin/catalog/digit/map/points/?digit__exact=3"' in html

    everything = admin_client.get(admin_url(Digit, "map/points")).json()
    total = Digit.objects.count()
    assert len(everything["sample"]["ids"]) == total
    assert everything["colour"]["kind"] == "category"
    assert everything["colour"]["values"] == [str(d) for d in range(10)]
    by_pk = dict(Digit.objects.values_list("pk", "digit"))
    for pk, colour in zip(
        everything["sample"]["ids"], everything["sample"]["colours"], strict=True
    ):
        assert colour == str(by_pk[pk])

    threes = admin_client.get(admin_url(Digit, "map/points"), {"digit__exact": "3"}).json()
    assert set(threes["sample"]["colours"]) == {"3"}
    assert len(threes["sample"]["ids"]) == Digit.objects.filter(digit=3).count()
    plain = admin_client.get(admin_url(Digit, "map/points"), {"colour": ""}).json()
    assert "colour" not in plain
    assert "colours" not in plain["sample"]


def test_a_map_refuses_an_unknown_field_or_filter(admin_client: Client, seed_items) -> None:
    bad_colour = admin_client.get(admin_url(Item, "map/points"), {"colour": "embedding"})
    assert bad_colour.status_code == 400
    assert "embedding is not one of the available choices" in bad_colour.json()["error"]
    bad_filter = admin_client.get(admin_url(Item, "map/points"), {"nonsense__exact": "1"})
    assert bad_filter.status_code == 400
    page = admin_client.get(admin_url(Item, "map"), {"colour": "embedding"})
    assert page.status_code == 400
    assert "point-cloud" not in page.content.decode()


def test_a_map_colours_by_choices_by_a_number_scale_or_by_a_related_row(
    admin_client: Client, passages
) -> None:
    kinds = admin_client.get(admin_url(Passage, "map/points"), {"colour": "kind"}).json()
    assert kinds["colour"]["kind"] == "category"
    labels = [str(label) for _, label in Passage._meta.get_field("kind").choices]
    assert kinds["colour"]["values"] == labels  # every choice, in order: stable colours
    assert set(kinds["sample"]["colours"]) <= set(labels)
    positions = admin_client.get(admin_url(Passage, "map/points"), {"colour": "position"}).json()
    assert positions["colour"] == {"field": "position", "label": "position", "kind": "number"}
    by_pk = dict(Passage.objects.values_list("pk", "position"))
    for pk, value in zip(positions["sample"]["ids"], positions["sample"]["colours"], strict=True):
        assert value == by_pk[pk]
    collections = admin_client.get(
        admin_url(Passage, "map/points"), {"colour": "collection"}
    ).json()
    assert collections["colour"]["kind"] == "category"
    assert len(collections["colour"]["values"]) == 2
