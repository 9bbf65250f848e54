"""The vector admin on models of the tests' own app and on the digits, as a person
uses it in Chromium: a 768-d query typed in, a field chosen, pictures of neighbours."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from catalog.models import Digit
from catalog.samples import load_digits
from tests.e2e.conftest import admin_login
from tests.vector_data import clustered
from tests.vector_models.models import Document, Product

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def logged_in(page: Page, live_server) -> str:
    User.objects.create_superuser("admin", "", "password")
    admin_login(page, live_server.url, username="admin", password="password")
    return live_server.url


def test_a_768_d_query_typed_into_the_document_changelist(page: Page, logged_in: str) -> None:
    vectors = clustered(120, 768, seed=1)
    Document.objects.bulk_create(
        [Document(title=f"doc {i}", embedding=list(v)) for i, v in enumerate(vectors)]
    )
    page.goto(f"{logged_in}/admin/vector_models/document/")
    expect(page.locator("#result_list")).to_contain_text("(768 dims), norm")
    page.fill("#vs_vector", ", ".join(f"{value:.4f}" for value in vectors[7]))
    page.fill("#vs_k", "3")
    page.click("text=Find nearest")
    # Posted, then answered at an address that refers to the kept vector: short enough
    # for any server, and it reloads.
    expect(page).to_have_url(re.compile(r"/admin/vector_models/document/search/\?.*vector_ref="))
    assert len(page.url) < 300
    rows = page.locator("#neighbours tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("doc 7")
    page.reload()
    expect(rows.nth(0)).to_contain_text("doc 7")


def test_choosing_the_field_of_a_model_with_two(page: Page, logged_in: str) -> None:
    text, image = clustered(40, 16, seed=3), clustered(40, 8, seed=4)
    Product.objects.bulk_create(
        [
            Product(name=f"product {i}", text_embedding=list(t), image_embedding=list(m))
            for i, (t, m) in enumerate(zip(text, image, strict=True))
        ]
    )
    page.goto(f"{logged_in}/admin/vector_models/product/")
    page.fill("#vs_vector", ",".join(f"{value:.4f}" for value in image[5]))
    page.select_option("#vs_field", "image_embedding")
    page.select_option("#vs_metric", "l2")
    page.click("text=Find nearest")
    expect(page.locator("#neighbours thead")).to_contain_text("image embedding")
    expect(page.locator("#neighbours tbody tr").nth(0)).to_contain_text("product 5")
    # The same 8 numbers are the wrong length for the text embedding: said on the page.
    page.select_option("#id_field", "text_embedding")
    page.click("text=Find nearest")
    expect(page.locator(".errorlist")).to_contain_text("expected 16 dimensions, not 8")


def test_similar_digits_come_with_their_pictures(page: Page, logged_in: str) -> None:
    load_digits()
    page.goto(f"{logged_in}/admin/catalog/digit/?digit__exact=0")
    expect(page.locator("#result_list svg.digit")).to_have_count(50)
    page.locator("#result_list a.similar-link").first.click()
    expect(page.locator(".target-picture svg.digit")).to_have_count(1)
    rows = page.locator("#neighbours tbody tr")
    expect(rows).to_have_count(10)
    expect(rows.locator("svg.digit")).to_have_count(10)
    zeros = rows.filter(has_text=re.compile(r"digit 0 \(#"))
    assert zeros.count() >= 9  # a 0's nearest neighbours are 0s
    assert Digit.objects.count() == 1797


def test_filter_the_changelist_then_search_among_the_rows_shown(page: Page, logged_in: str) -> None:
    load_digits()
    eight = Digit.objects.filter(digit=8).order_by("pk").first()
    page.goto(f"{logged_in}/admin/catalog/digit/")
    # The sidebar's filter: only the threes.
    page.locator("#changelist-filter").get_by_role("link", name="3", exact=True).click()
    expect(page).to_have_url(re.compile(r"digit__exact=3"))
    expect(page.locator(".vector-search .vector-conditions")).to_contain_text("among the 183")
    # An eight's pixels as the query: unfiltered, its neighbours would be eights.
    page.fill("#vs_vector", ",".join(f"{value:g}" for value in eight.image))
    page.fill("#vs_k", "8")
    page.click("text=Find nearest")
    expect(page).to_have_url(re.compile(r"/search/\?.*digit__exact=3"))
    expect(page.locator(".vector-conditions-block")).to_contain_text("digit = 3")
    rows = page.locator("#neighbours tbody tr")
    expect(rows).to_have_count(8)
    expect(rows.filter(has_text=re.compile(r"digit 3 \(#"))).to_have_count(8)
    page.click("a.filtered-changelist")
    expect(page).to_have_url(re.compile(r"/admin/catalog/digit/\?digit__exact=3$"))
