"""Imports write no more than the user may: new rows need "add", changing rows that
exist needs "change", replacing every row needs "delete" as well; through the admin's
preview and confirm, its JSON path, and the task queue's worker alike."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from catalog.models import Item
from pgvector_admin.models import TaskProgress
from pgvector_admin.tasks.jobs import start_import
from pgvector_admin.transfer.rights import ImportRights
from pgvector_admin.transfer.uploads import save_upload

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/catalog/item/import/"
PROCESS_URL = "/admin/catalog/item/process_import/"
CSV_FORMAT, JSON_FORMAT = "0", "2"

FILES = {
    "new rows": (b'label,embedding\nfresh,"[1,2,3]"\n', False, {"add"}),
    "changed rows": (b'id,label,embedding\n1,changed,"[1,2,3]"\n', False, {"change"}),
    "both": (
        b'id,label,embedding\n1,changed,"[1,2,3]"\n,fresh,"[3,2,1]"\n',
        False,
        {"add", "change"},
    ),
    "replace": (b'label,embedding\nfresh,"[1,2,3]"\n', True, {"add", "delete"}),
}
PERMISSIONS = [
    set(chosen)
    for size in (1, 2, 3)
    for chosen in itertools.combinations(["add", "change", "delete"], size)
]


@pytest.fixture
def items() -> list[Item]:
    """Items 1 to 4, with the key sequence past them (new rows take 5 on)."""
    made = [Item.objects.create(id=i, label=f"item {i}", embedding=[i, 1, 1]) for i in (1, 2, 3, 4)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('catalog_item', 'id'), 4)")
    return made


def user_with(*actions: str) -> User:
    user = User.objects.create_user("importer", password="pw", is_staff=True)
    for action in ("view", *actions):
        user.user_permissions.add(Permission.objects.get(codename=f"{action}_item"))
    return User.objects.get(pk=user.pk)  # no cached permissions


def table() -> list[tuple[int, str]]:
    return sorted(Item.objects.values_list("id", "label"))


@pytest.mark.parametrize("granted", PERMISSIONS, ids=lambda p: "+".join(sorted(p)))
@pytest.mark.parametrize("kind", FILES)
def test_the_admin_imports_only_what_the_user_may_write(items, kind, granted) -> None:
    content, replace, needed = FILES[kind]
    client = Client()
    client.force_login(user_with(*granted))
    before = table()
    data = {
        "format": CSV_FORMAT,
        "resource": "0",
        "import_file": SimpleUploadedFile("v.csv", content),
    }
    preview = client.post(IMPORT_URL, {**data, **({"replace": "on"} if replace else {})})
    if not needed <= granted:
        assert preview.status_code in {400, 403}
        if preview.status_code == 400:
            page = preview.content.decode()
            missing = sorted(needed - granted)
            assert any(f"catalog.{action}_item" in page for action in missing), page
            assert "Confirm import" not in page
        assert table() == before
        return
    assert preview.status_code == 200, preview.content.decode()
    form = preview.context["confirm_form"]
    confirmed = client.post(
        PROCESS_URL, {name: form.initial.get(name, "") for name in form.fields}, follow=True
    )
    assert confirmed.status_code == 200
    assert TaskProgress.objects.get().phase == "done"
    assert table() != before


@pytest.mark.parametrize("granted", PERMISSIONS, ids=lambda p: "+".join(sorted(p)))
@pytest.mark.parametrize("kind", FILES)
def test_the_background_import_checks_the_users_permissions_when_it_runs(
    items, kind, granted
) -> None:
    content, replace, needed = FILES[kind]
    user = user_with(*granted)
    before = table()
    progress = start_import(
        token=save_upload([content]), model=Item, file_name="v.csv", replace=replace, user=user
    )
    progress.refresh_from_db()
    if needed <= granted:
        assert progress.phase == "done", progress.report
        assert table() != before
    else:
        # Refused by what the file would write, or (neither add nor change) not run.
        assert progress.phase in {"refused", "failed"}
        said = progress.report.get("file_error") or progress.report["reason"]
        missing = sorted(needed - granted)
        assert any(f"catalog.{action}_item" in said for action in missing), said
        assert table() == before


def test_a_permission_taken_away_after_the_preview_is_honoured_by_the_worker(items) -> None:
    user = user_with("add", "change")
    token = save_upload([FILES["changed rows"][0]])
    user.user_permissions.remove(Permission.objects.get(codename="change_item"))
    progress = start_import(token=token, model=Item, file_name="v.csv", user=User.objects.get())
    progress.refresh_from_db()
    assert progress.phase == "refused"
    assert (
        "needs the “change” permission on items (catalog.change_item)"
        in (progress.report["file_error"])
    )
    assert Item.objects.get(pk=1).label == "item 1"


def json_preview(*actions: str, content: bytes) -> tuple[Client, object]:
    """A client of a user with ``actions`` on items, and its preview of a JSON file."""
    client = Client()
    client.force_login(user_with(*actions))
    upload = SimpleUploadedFile("v.json", content)
    preview = client.post(
        IMPORT_URL, {"format": JSON_FORMAT, "resource": "0", "import_file": upload}
    )
    return client, preview


def test_a_json_import_that_changes_rows_needs_the_change_permission(items) -> None:
    content = b'[{"id": 1, "label": "changed", "embedding": "[1,2,3]"}]'
    _, preview = json_preview("add", content=content)
    assert "confirm_form" not in preview.context or preview.context["confirm_form"] is None
    assert "catalog.change_item" in preview.content.decode()
    assert Item.objects.get(pk=1).label == "item 1"


def test_a_json_import_of_new_rows_with_only_add_goes_through(items) -> None:
    client, preview = json_preview("add", content=b'[{"label": "fresh", "embedding": "[1,2,3]"}]')
    form = preview.context["confirm_form"]
    client.post(PROCESS_URL, {name: form.initial.get(name, "") for name in form.fields})
    assert Item.objects.filter(label="fresh").count() == 1


def test_replace_is_refused_for_json_files(admin_client, items) -> None:
    response = admin_client.post(
        IMPORT_URL,
        {
            "format": JSON_FORMAT,
            "resource": "0",
            "replace": "on",
            "import_file": SimpleUploadedFile("v.json", b"[]"),
        },
    )
    assert response.status_code == 400
    assert "Replace every row works with CSV and TSV files only" in response.content.decode()
    assert len(table()) == 4


def test_rights_of_a_superuser_allow_everything(admin_user) -> None:
    rights = ImportRights.of_user(admin_user, Item)
    assert rights.refusal(new=5, updated=5, replace=True) is None
