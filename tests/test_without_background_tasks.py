"""Without the ``tasks`` extra (no django-tasks-db in INSTALLED_APPS): imports run in the
request, big exports stream, and the index page says what index changes need
(pgvector_admin.features). The core install without any extra is driven in Chromium by
tests/e2e/test_installed_wheel.py."""

from __future__ import annotations

import csv
import io

import pytest
from django.conf import settings
from django.test import override_settings

from catalog.models import Item
from pgvector_admin import checks
from pgvector_admin.admin import imports as admin_imports
from pgvector_admin.admin import indexes as admin_indexes
from pgvector_admin.features import background_tasks_available
from pgvector_admin.models import TaskProgress
from pgvector_admin.tasks import runs
from tests.test_admin_imports import ALL_FIELDS, CSV_FORMAT, EXPORT_URL, GOOD, confirm, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_background_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if django-tasks-db were not installed: every place that asks is told so (the
    admin's other apps stay registered, so the pages render as they would)."""
    for module in (admin_imports, admin_indexes, checks, runs):
        monkeypatch.setattr(module, "background_tasks_available", lambda: False)


@pytest.mark.usefixtures("no_background_tasks")
def test_an_import_runs_in_the_request_and_the_changelist_says_what_it_did(admin_client) -> None:
    response = confirm(admin_client, upload(admin_client, GOOD))
    assert response.redirect_chain[-1][0] == "/admin/catalog/item/"
    assert "Imported 3 new and 0 updated items from vectors.csv." in response.content.decode()
    assert sorted(Item.objects.values_list("label", flat=True)) == ["first", "second", "third"]
    assert not TaskProgress.objects.exists()


@pytest.mark.usefixtures("no_background_tasks")
def test_an_export_of_many_rows_streams_in_the_request(admin_client) -> None:
    Item.objects.bulk_create([Item(embedding=[i + 1, 1, 1], label=f"r{i}") for i in range(120)])
    response = admin_client.post(EXPORT_URL, {"format": CSV_FORMAT, "resource": "0", **ALL_FIELDS})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 121
    assert not TaskProgress.objects.exists()


@pytest.mark.usefixtures("no_background_tasks")
def test_the_index_page_says_what_index_changes_need_and_changes_nothing(admin_client) -> None:
    page = admin_client.get("/admin/catalog/item/indexes/").content.decode()
    assert 'class="tasks-missing"' in page
    assert "django-pgvector-admin[tasks]" in page
    assert 'name="action" value="create"' not in page
    response = admin_client.post(
        "/admin/catalog/item/indexes/", {"action": "drop", "name": "item_embedding_hnsw_idx"}
    )
    assert response.status_code == 302
    followed = admin_client.get(response["Location"]).content.decode()
    assert "Nothing done: building, rebuilding and dropping indexes" in followed
    assert "item_embedding_hnsw_idx" in followed  # still there
    assert not TaskProgress.objects.exists()


def test_background_tasks_are_available_with_django_tasks_db_in_installed_apps() -> None:
    assert background_tasks_available()
    apps = [app for app in settings.INSTALLED_APPS if app != "django_tasks_db"]
    with override_settings(INSTALLED_APPS=apps):
        assert not background_tasks_available()
