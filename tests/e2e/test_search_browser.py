"""Searching by vector and finding similar items, as a person does it in Chromium."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from catalog.models import Item
from catalog.samples import load_seed_items
from tests.e2e.conftest import admin_login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def logged_in(page: Page, live_server) -> str:
    load_seed_items()
    User.objects.create_superuser("admin", "", "password")
    admin_login(page, live_server.url, username="admin", password="password")
    return live_server.url


def test_type_a_vector_and_see_the_nearest_rows_with_their_distances(
    page: Page, logged_in: str
) -> None:
    page.goto(f"{logged_in}/admin/catalog/item/")
    page.fill("#vs_vector", "[3, 1, 2]")
    page.fill("#vs_k", "4")
    page.click("text=Find nearest")
    expect(page).to_have_url(re.compile(r"/admin/catalog/item/search/\?vector="))
    rows = page.locator("#neighbours tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("seed 3-1-2")
    expect(rows.nth(1)).to_contain_text("0.0180195")
    expect(rows.nth(3)).to_contain_text("0.0200421")
    expect(page.locator(".index-verdict")).to_contain_text("item_embedding_hnsw_idx")


def test_a_bad_vector_shows_the_reason_on_the_page(page: Page, logged_in: str) -> None:
    page.goto(f"{logged_in}/admin/catalog/item/search/")
    page.fill("#id_vector", "1, 2, 3, 4")
    page.click("input[type=submit][value='Find nearest']")
    expect(page.locator(".errorlist")).to_contain_text("expected 3 dimensions, not 4")
    expect(page.locator("#neighbours")).to_have_count(0)


def test_select_a_row_run_find_similar_and_see_its_neighbours(page: Page, logged_in: str) -> None:
    target = Item.objects.get(label="seed 3-1-2")
    page.goto(f"{logged_in}/admin/catalog/item/")
    page.check(f"input[name=_selected_action][value='{target.pk}']")
    page.select_option("select[name=action]", "find_similar")
    page.click("button[name=index]")
    expect(page).to_have_url(re.compile(rf"/admin/catalog/item/{target.pk}/similar/"))
    expect(page.locator("h1")).to_contain_text("Items similar to seed 3-1-2")
    rows = page.locator("#neighbours tbody tr")
    expect(rows).to_have_count(10)
    expect(rows.nth(0)).to_contain_text("seed 2-1-1")
    expect(rows.nth(0)).to_contain_text("0.0180195")
    expect(page.locator("#neighbours")).not_to_contain_text("seed 3-1-2")


def test_find_similar_with_two_rows_selected_asks_for_one(page: Page, logged_in: str) -> None:
    page.goto(f"{logged_in}/admin/catalog/item/")
    boxes = page.locator("input[name=_selected_action]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.select_option("select[name=action]", "find_similar")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("Select exactly one item")
