"""Who may do what: every admin page and action of the catalog, for anonymous users,
non-staff users, staff without the permission, and staff with it; CSRF on POSTs."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog.models import Item
from tests.conftest import staff_client

pytestmark = pytest.mark.django_db

CSV = b'label,embedding\nx,"[1,2,3]"\n'


def pages(item: Item) -> dict[str, tuple[str, str, dict]]:
    """name: (method, url, data), and the permission each needs."""
    return {
        "changelist": ("get", "/admin/catalog/item/", {}),
        "search": ("get", "/admin/catalog/item/search/", {"vector": "1,2,3"}),
        "similar": ("get", f"/admin/catalog/item/{item.pk}/similar/", {}),
        "export page": ("get", "/admin/catalog/item/export/", {}),
        "export": (
            "post",
            "/admin/catalog/item/export/",
            {"format": "0", "resource": "0", "itemresource_id": "on"},
        ),
        "import page": ("get", "/admin/catalog/item/import/", {}),
        "import": (
            "post",
            "/admin/catalog/item/import/",
            {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("v.csv", CSV)},
        ),
    }


NEEDS = {
    "changelist": "view_item",
    "search": "view_item",
    "similar": "view_item",
    "export page": "view_item",
    "export": "view_item",
    # Add or change (pgvector_admin.transfer.rights): what the file does is checked in turn.
    "import page": "add_item",
    "import": "add_item",
}


def call(client: Client, method: str, url: str, data: dict):
    return getattr(client, method)(url, data)


@pytest.fixture
def item(db) -> Item:
    return Item.objects.create(embedding=[1, 2, 3], label="x")


@pytest.mark.parametrize("name", list(NEEDS))
def test_anonymous_users_are_sent_to_the_login_page(name: str, client: Client, item: Item) -> None:
    method, url, data = pages(item)[name]
    response = call(client, method, url, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("name", list(NEEDS))
def test_users_who_are_not_staff_are_sent_to_the_login_page(
    name: str, client: Client, item: Item
) -> None:
    client.force_login(User.objects.create_user("plain", password="pw"))
    method, url, data = pages(item)[name]
    response = call(client, method, url, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("name", list(NEEDS))
def test_staff_without_the_permission_get_403(name: str, item: Item) -> None:
    # Django's admin lets "change" stand for "view", and an import may change rows: without
    # view, grant add and delete; for the import, grant view and delete.
    granted = (
        ["add_item", "delete_item"] if NEEDS[name] == "view_item" else ["view_item", "delete_item"]
    )
    client = staff_client(*granted)
    method, url, data = pages(item)[name]
    assert call(client, method, url, data).status_code == 403
    assert Item.objects.count() == 1


@pytest.mark.parametrize("name", list(NEEDS))
def test_staff_with_the_permission_get_the_page(name: str, item: Item) -> None:
    client = staff_client("view_item", NEEDS[name])
    method, url, data = pages(item)[name]
    assert call(client, method, url, data).status_code == 200


def test_deleting_needs_the_delete_permission(item: Item) -> None:
    client = staff_client("view_item")
    response = client.post(
        "/admin/catalog/item/",
        {
            "action": "delete_selected",
            "index": "0",
            "_selected_action": [str(item.pk)],
            "post": "yes",
        },
    )
    assert Item.objects.filter(pk=item.pk).exists()
    assert response.status_code in {200, 302, 403}  # the action is not even offered
    client = staff_client_with_delete()
    client.post(
        "/admin/catalog/item/",
        {
            "action": "delete_selected",
            "index": "0",
            "_selected_action": [str(item.pk)],
            "post": "yes",
        },
    )
    assert not Item.objects.filter(pk=item.pk).exists()


def staff_client_with_delete() -> Client:
    user = User.objects.create_superuser("boss", "", "pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/admin/catalog/item/import/", {"format": "0", "resource": "0"}),
        ("/admin/catalog/item/process_import/", {"import_file_name": "0" * 32, "format": "0"}),
        ("/admin/catalog/item/export/", {"format": "0", "resource": "0"}),
        (
            "/admin/catalog/item/",
            {"action": "find_similar", "index": "0", "_selected_action": ["1"]},
        ),
    ],
)
def test_csrf_is_enforced_on_every_post(url: str, data: dict, admin_user, item: Item) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    if "import" in url and "process" not in url:
        data = {**data, "import_file": SimpleUploadedFile("v.csv", CSV)}
    response = client.post(url, data)
    assert response.status_code == 403
    assert b"CSRF" in response.content
    assert Item.objects.count() == 1
