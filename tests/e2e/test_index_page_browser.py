"""The index page as a person uses it in Chromium: read the indexes, measure the recall
curve and use its recommendation, create an index and drop it. Tasks run as they are
queued here (the tests' task backend), so each page shows its result at once."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from pgvector_admin.models import SearchDefault
from tests.e2e.conftest import admin_login
from tests.vector_data import clustered
from tests.vector_models.models import Document

pytestmark = pytest.mark.django_db(transaction=True)


def test_measure_the_curve_use_it_then_create_and_drop_an_index(page: Page, live_server) -> None:
    User.objects.create_superuser("admin", "", "password")
    admin_login(page, live_server.url, username="admin", password="password")
    vectors = clustered(150, 768, seed=5)
    Document.objects.bulk_create(
        [Document(title=f"doc {i}", embedding=list(v)) for i, v in enumerate(vectors)]
    )
    page.goto(f"{live_server.url}/admin/vector_models/document/")
    page.click("text=Vector indexes")
    expect(page).to_have_url(re.compile(r"/admin/vector_models/document/indexes/$"))
    table = page.locator("table.vector-indexes")
    expect(table).to_contain_text("document_embedding_hnsw")
    expect(table).to_contain_text("m=16")
    expect(table).to_contain_text("valid")
    expect(page.locator(".index-unserved")).to_contain_text("by L2 distance")

    form = page.locator("form.curve-form").first
    form.locator("input[name=queries]").fill("20")
    form.locator("input[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/admin/pgvector_admin/taskprogress/\d+/change/$"))
    expect(page.locator("svg.recall-curve")).to_be_visible()
    expect(page.locator("table.recall-curve-table tbody tr")).to_have_count(8)
    use = page.locator("input[value^='Use hnsw.ef_search = ']")
    value = int(re.search(r"= (\d+)", use.get_attribute("value")).group(1))
    use.click()
    expect(page.locator(".messagelist li.success")).to_contain_text(
        f"searches through document_embedding_hnsw now run with hnsw.ef_search = {value}"
    )
    assert SearchDefault.objects.get().value == value
    expect(page.locator(".recall-curve-box")).to_contain_text(
        "Searches through document_embedding_hnsw run with it."
    )

    page.select_option("#id_metric", "l2")
    page.select_option("#id_method", "ivfflat")
    page.fill("#id_lists", "5")
    page.click("text=Create the index")
    expect(page.locator(".task-finished")).to_contain_text("created")
    page.goto(f"{live_server.url}/admin/vector_models/document/indexes/")
    expect(table).to_contain_text("vector_models_document_embedding_ivfflat_l2")
    expect(page.locator(".index-drift")).to_contain_text("IvfflatIndex(")
    row = table.locator("tr", has_text="vector_models_document_embedding_ivfflat_l2")
    row.locator("input[value=Drop]").click()
    expect(page.locator(".task-finished")).to_contain_text("dropped")
    page.goto(f"{live_server.url}/admin/vector_models/document/indexes/")
    expect(table).not_to_contain_text("ivfflat_l2")
    page.screenshot(path="/tmp/index-page.png", full_page=True)
