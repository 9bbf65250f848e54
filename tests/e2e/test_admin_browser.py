from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from catalog.samples import load_seed_items
from tests.e2e.conftest import DevServer, admin_login


def test_quickstart_serves_the_admin_with_the_27_seed_items(
    page: Page, dev_server: DevServer
) -> None:
    assert any("Loaded 27 example vectors" in line for line in dev_server.output)
    admin_login(page, dev_server.url, username="admin", password=dev_server.password)
    page.goto(f"{dev_server.url}/admin/catalog/item/")
    expect(page.locator("#result_list tbody tr")).to_have_count(27)
    expect(page.locator("#result_list")).to_contain_text("seed 3-1-2")
    expect(page.locator("#result_list")).to_contain_text("[3, 1, 2]")
    # quickstart serves with DEBUG on: the debug toolbar is on the page.
    expect(page.locator("#djDebug")).to_be_attached()


def test_the_vector_panel_shows_the_verdict_of_a_search(page: Page, dev_server: DevServer) -> None:
    admin_login(page, dev_server.url, username="admin", password=dev_server.password)
    page.goto(f"{dev_server.url}/admin/catalog/item/search/?vector=3,1,2&k=4")
    expect(page.locator("#neighbours tbody tr")).to_have_count(4)
    page.click("#djShowToolBarButton")
    page.click("a.VectorSearchPanel")
    verdict = page.locator("#VectorSearchPanel .djdt-vector-verdict").first
    expect(verdict).to_contain_text("uses index item_embedding_hnsw_idx")
    expect(page.locator("#VectorSearchPanel .djdt-vector-plan").first).to_contain_text(
        "Index Scan using item_embedding_hnsw_idx"
    )


@pytest.mark.django_db(transaction=True)
def test_admin_changelist_lists_the_items(page: Page, live_server, admin_user) -> None:
    load_seed_items()
    admin_login(page, live_server.url, username="admin", password="password")
    page.click("text=Items")
    expect(page).to_have_url(re.compile(r"/admin/catalog/item/$"))
    expect(page.locator("#result_list tbody tr")).to_have_count(27)
    expect(page.locator(".paginator")).to_contain_text("27 items")
