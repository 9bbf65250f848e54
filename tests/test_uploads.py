"""Uploads trust nothing from the client: the confirm step finds the file through a
ticket signed for the user who uploaded it, in a folder of the app's own."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from catalog.models import Item
from pgvector_admin.transfer.uploads import (
    BadTicket,
    UploadFolderError,
    claim,
    save_upload,
    sweep,
    ticket_for,
    upload_dir,
    upload_path,
)

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/catalog/item/import/"
PROCESS_URL = "/admin/catalog/item/process_import/"
CSV_FORMAT, JSON_FORMAT = "0", "2"


def importer(name: str) -> Client:
    user = User.objects.create_user(name, password="pw", is_staff=True)
    for codename in ("view_item", "add_item"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client


def preview(client: Client, content: bytes, *, fmt: str = CSV_FORMAT, name: str = "v.csv"):
    response = client.post(
        IMPORT_URL,
        {"format": fmt, "resource": "0", "import_file": SimpleUploadedFile(name, content)},
    )
    form = response.context["confirm_form"]
    return {name: form.initial.get(name, "") for name in form.fields}


@pytest.mark.parametrize("fmt", [CSV_FORMAT, JSON_FORMAT], ids=["csv", "json"])
def test_the_reviews_traversal_post_is_refused_and_the_file_kept(fmt) -> None:
    client = importer("mallory")
    victim = Path(tempfile.mkstemp(prefix="victim-")[1])
    victim.write_text("keep me")
    try:
        response = client.post(
            PROCESS_URL,
            {
                "import_file_name": "../../" + victim.name,
                "original_file_name": "x.json",
                "format": fmt,
                "resource": "0",
            },
        )
        assert response.status_code == 400
        assert "Nothing was imported" in response.content.decode()
        assert victim.read_text() == "keep me"
    finally:
        victim.unlink()
    assert Item.objects.count() == 0


@pytest.mark.parametrize(
    ("fmt", "content", "name"),
    [
        (CSV_FORMAT, b'label,embedding\nx,"[1,2,3]"\n', "v.csv"),
        (JSON_FORMAT, b'[{"label": "x", "embedding": "[1,2,3]"}]', "v.json"),
    ],
    ids=["csv", "json"],
)
def test_another_users_confirm_form_is_refused(fmt, content, name) -> None:
    alice, bob = importer("alice"), importer("bob")
    data = preview(alice, content, fmt=fmt, name=name)
    response = bob.post(PROCESS_URL, data)
    assert response.status_code == 400
    assert "not one of yours" in response.content.decode()
    assert Item.objects.count() == 0
    # Alice's own confirm still works.
    alice.post(PROCESS_URL, data)
    assert Item.objects.count() == 1


def test_a_ticket_is_for_one_user_and_one_model(admin_user) -> None:
    token = save_upload([b"x"])
    ticket = ticket_for(token, user=admin_user, model=Item)
    assert claim(ticket, user=admin_user, model=Item) == token
    other = User.objects.create_user("other")
    with pytest.raises(BadTicket, match="not one of yours"):
        claim(ticket, user=other, model=Item)
    from catalog.models import Digit

    with pytest.raises(BadTicket, match="not for this table"):
        claim(ticket, user=admin_user, model=Digit)
    with pytest.raises(BadTicket):
        claim(token, user=admin_user, model=Item)


def test_the_folder_is_private_and_its_files_are_the_users_alone(tmp_path) -> None:
    folder = tmp_path / "imports"
    with override_settings(PGVECTOR_ADMIN={"IMPORT_DIR": str(folder)}):
        token = save_upload([b"label,embedding\n"])
        assert stat.S_IMODE(upload_dir().stat().st_mode) == 0o700
        assert stat.S_IMODE(upload_path(token).stat().st_mode) == 0o600


def test_the_sweep_passes_over_an_upload_removed_while_it_lists_the_folder(
    tmp_path, monkeypatch
) -> None:
    # Two workers share the folder: one confirms (removes) an upload the other's sweep
    # has just listed. That once made an import a 500.
    folder = tmp_path / "imports"
    with override_settings(PGVECTOR_ADMIN={"IMPORT_DIR": str(folder)}):
        gone, old = save_upload([b"a\n"]), save_upload([b"b\n"])
        os.utime(upload_path(old), (0, 0))
        listed = list(upload_dir().iterdir())
        upload_path(gone).unlink()
        monkeypatch.setattr(Path, "iterdir", lambda self: iter(listed))
        sweep()
        assert not (upload_dir() / old).exists()


def test_the_default_folder_is_under_media_root(tmp_path) -> None:
    with override_settings(PGVECTOR_ADMIN={"IMPORT_DIR": ""}, MEDIA_ROOT=str(tmp_path)):
        assert upload_dir() == tmp_path / "vector-imports"


def test_without_media_root_a_private_folder_in_the_temporary_folder(tmp_path, monkeypatch) -> None:
    # A new project (startproject) sets neither MEDIA_ROOT nor the package's IMPORT_DIR.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with override_settings(PGVECTOR_ADMIN={}, MEDIA_ROOT=""):
        folder = upload_dir()
    assert folder == tmp_path / f"pgvector-admin-{os.geteuid()}"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_of_another_user_is_refused_with_a_clear_message(tmp_path, admin_client) -> None:
    folder = tmp_path / "imports"
    folder.mkdir(mode=0o777)
    os.chown(folder, 65534, 65534)  # nobody
    with override_settings(PGVECTOR_ADMIN={"IMPORT_DIR": str(folder)}):
        with pytest.raises(UploadFolderError, match="belongs to another user"):
            upload_dir()
        response = admin_client.post(
            IMPORT_URL,
            {
                "format": CSV_FORMAT,
                "resource": "0",
                "import_file": SimpleUploadedFile("v.csv", b'label,embedding\nx,"[1,2,3]"\n'),
            },
        )
    assert response.status_code == 400
    assert "belongs to another user" in response.content.decode()
    assert list(folder.iterdir()) == []
