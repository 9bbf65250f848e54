"""Searching by text, by keyword and hybrid, and embedding rows, as a person does it in
Chromium (tests/vector_models' Article: WordLlama 64-d and a full-text index)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from pgvector_admin.embedders.backfill import embed_rows
from pgvector_admin.embedders.fields import text_embedding
from tests.e2e.conftest import admin_login
from tests.test_text_search import BODIES
from tests.vector_models.models import Article

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def logged_in(page: Page, live_server) -> str:
    Article.objects.bulk_create(
        Article(title=body.split()[0] + f" #{i}", body=body) for i, body in enumerate(BODIES, 1)
    )
    embed_rows(model=Article, field="embedding", embedding=text_embedding(Article, "embedding"))
    User.objects.create_superuser("admin", "", "password")
    admin_login(page, live_server.url, username="admin", password="password")
    return live_server.url


def test_type_a_question_and_see_the_rows_the_model_finds_nearest(
    page: Page, logged_in: str
) -> None:
    page.goto(f"{logged_in}/admin/vector_models/article/")
    page.fill("#vs_text", "wait for a few seconds")
    page.fill("#vs_k", "5")
    page.click("text=Find nearest")
    expect(page).to_have_url(re.compile(r"/article/search/\?.*text=wait\+for\+a\+few\+seconds"))
    expect(page.locator("#neighbours tbody tr")).to_have_count(5)
    expect(page.locator(".query-embedding")).to_contain_text("WordLlama l2_supercat 64-d")
    expect(page.locator(".index-verdict")).to_contain_text("article_embedding_hnsw")


def test_switch_to_hybrid_and_see_each_rows_keyword_and_vector_rank(
    page: Page, logged_in: str
) -> None:
    page.goto(f"{logged_in}/admin/vector_models/article/search/")
    page.fill("#id_text", "file")
    page.select_option("#id_mode", "hybrid")
    page.click("input[type=submit][value='Find nearest']")
    expect(page.locator(".fusion")).to_contain_text("reciprocal rank fusion")
    first = page.locator("#neighbours tbody tr").first
    # The best fused row is in both rankings.
    expect(first.locator(".keyword-rank")).not_to_have_text("—")
    expect(first.locator(".vector-rank")).not_to_have_text("—")
    expect(page.locator("#neighbours thead")).to_contain_text("fused score")
    page.select_option("#id_mode", "keyword")
    page.click("input[type=submit][value='Find nearest']")
    rows = page.locator("#neighbours tbody tr")
    expect(rows).to_have_count(5)  # the five bodies with "file" in them
    expect(page.locator(".keyword-ranking")).to_contain_text("article_body_fts")


def test_an_empty_text_says_what_to_type(page: Page, logged_in: str) -> None:
    page.goto(f"{logged_in}/admin/vector_models/article/search/")
    page.click("input[type=submit][value='Find nearest']")
    expect(page.locator(".errorlist")).to_contain_text("Type some text to search for")
    expect(page.locator("#neighbours")).to_have_count(0)


def test_embed_the_rows_without_a_vector_from_the_embeddings_page(
    page: Page, logged_in: str
) -> None:
    Article.objects.filter(pk__in=Article.objects.values("pk")[:7]).update(embedding=None)
    page.goto(f"{logged_in}/admin/vector_models/article/")
    page.click("text=Embeddings")
    expect(page.locator(".with-vector")).to_have_text(str(len(BODIES) - 7))
    page.click("text=Embed rows without a vector")
    expect(page.locator(".task-finished")).to_contain_text("Embedded 7 articles")
    assert Article.objects.filter(embedding__isnull=True).count() == 0
