"""Long query vectors: the search form posts, the answer redirects to an address that
carries a short vector inline and a long one by reference, and that address can be
reloaded and shared."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission, User
from django.http import QueryDict
from django.test import Client

from pgvector_admin.models import QueryVector
from pgvector_admin.search.query_vectors import query_string
from tests.vector_data import admin_url
from tests.vector_models.models import Document, HalfDocument

pytestmark = pytest.mark.django_db


def vector_text(values) -> str:
    return "[" + ",".join(f"{v:.6f}" for v in values) + "]"


def test_a_short_vector_stays_readable_in_the_address(admin_client, seed_items) -> None:
    response = admin_client.post("/admin/catalog/item/search/", {"vector": "3,1,2", "k": "4"})
    assert response.status_code == 303
    assert parse_qs(urlsplit(response["Location"]).query) == {"vector": ["3,1,2"], "k": ["4"]}
    assert QueryVector.objects.count() == 0
    assert "vector=3,1,2" in response["Location"]


def test_the_query_string_writes_spaces_as_a_form_does_and_keeps_commas() -> None:
    query = QueryDict("text=wait+for+a+few+seconds&vector=3,1,2&q=%ED%95%9C+%26+b&k=1&k=2")
    written = query_string(query)
    assert written == "text=wait+for+a+few+seconds&vector=3,1,2&q=%ED%95%9C+%26+b&k=1&k=2"
    assert QueryDict(written) == query


@pytest.mark.parametrize(
    ("model", "fixture"), [(HalfDocument, "half_documents"), (Document, "documents")]
)
def test_a_long_vector_is_kept_and_its_results_page_reloads_and_is_shared(
    admin_client, request, model, fixture
) -> None:
    rows = request.getfixturevalue(fixture)
    text = vector_text(rows[3].embedding)
    url = admin_url(model, "search")
    response = admin_client.post(f"{url}?q=", {"vector": text, "k": "5", "recall": "on"})
    assert response.status_code == 303
    location = response["Location"]
    assert len(location) < 200  # far from any server's limit on a request line
    params = parse_qs(urlsplit(location).query)
    assert "vector" not in params
    assert params["k"] == ["5"]
    first = admin_client.get(location)
    assert first.status_code == 200
    ids = [n.id for n in first.context["outcome"].neighbours]
    assert ids[0] == rows[3].pk
    assert admin_client.get(location).context["outcome"].neighbours[0].id == rows[3].pk
    # Shared with another user who may view the model: the same answer.
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    opts = model._meta
    viewer.user_permissions.add(Permission.objects.get(codename=f"view_{opts.model_name}"))
    other = Client()
    other.force_login(viewer)
    shared = other.get(location)
    assert [n.id for n in shared.context["outcome"].neighbours] == ids
    # The picture's points and the CSV follow the same reference.
    assert "vector_ref=" in shared.context["points_url"]
    assert other.get(shared.context["points_url"]).status_code == 200
    assert other.get(shared.context["csv_url"]).status_code == 200
    assert QueryVector.objects.count() == 1


def test_the_changelists_conditions_go_with_the_posted_vector(admin_client, seed_items) -> None:
    response = admin_client.post(
        "/admin/catalog/item/search/", {"vector": "3,1,2", "q": "1-1-", "k": "3"}
    )
    page = admin_client.get(response["Location"])
    assert page.context["conditions"].params["q"] == "1-1-"
    assert all(n.label.startswith("seed 1-1-") for n in page.context["outcome"].neighbours)


def test_an_unknown_reference_is_a_clear_message(admin_client, seed_items) -> None:
    page = admin_client.get("/admin/catalog/item/search/", {"vector_ref": "0" * 64})
    assert page.status_code == 400
    assert "not kept here" in page.content.decode()


def test_posting_needs_the_view_permission_and_csrf(seed_items) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_superuser("root", password="pw"))
    assert client.post("/admin/catalog/item/search/", {"vector": "3,1,2"}).status_code == 403
    staff = Client()
    staff.force_login(User.objects.create_user("nobody", password="pw", is_staff=True))
    assert staff.post("/admin/catalog/item/search/", {"vector": "1," * 600 + "1"}).status_code == (
        403
    )
    assert QueryVector.objects.count() == 0
