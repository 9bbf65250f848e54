"""A row's admin address reversed once for a whole list (pgvector_admin.admin.row_urls):
the same address reverse() gives, for any key, and the changelist's links unchanged."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.utils import quote
from django.test import Client, override_settings
from django.urls import reverse, set_script_prefix

from pgvector_admin.admin.row_urls import row_url

KEYS = [1, 42, "plain", "with/slash", "a b", "quote's", "under_score", "per%cent", "한국어", "?#&="]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("verb", ["change", "similar"])
def test_the_address_is_the_one_reverse_gives(key: object, verb: str) -> None:
    name = f"admin:vector_models_document_{verb}"
    assert row_url(name, key) == reverse(name, args=[quote(key)])


def test_a_script_prefix_is_kept() -> None:
    name = "admin:vector_models_document_change"
    try:
        set_script_prefix("/mounted/")
        assert row_url(name, 7) == "/mounted/admin/vector_models/document/7/change/"
    finally:
        set_script_prefix("/")
    assert row_url(name, 7) == "/admin/vector_models/document/7/change/"


def test_another_urlconf_gives_its_own_addresses(admin_client: Client) -> None:
    name = "admin:vector_models_document_change"
    assert row_url(name, 3) == "/admin/vector_models/document/3/change/"
    with override_settings(ROOT_URLCONF="tests.urls_under_prefix"):
        assert row_url(name, 3) == "/under/admin/vector_models/document/3/change/"
    assert row_url(name, 3) == "/admin/vector_models/document/3/change/"


def test_the_changelist_links_each_row_to_its_change_and_similar_pages(
    admin_client: Client, documents
) -> None:
    html = admin_client.get("/admin/vector_models/document/").content.decode()
    shown = [
        int(pk) for pk in re.findall(r'href="/admin/vector_models/document/(\d+)/change/', html)
    ]
    similar = [
        int(pk) for pk in re.findall(r'href="/admin/vector_models/document/(\d+)/similar/', html)
    ]
    assert shown
    assert sorted(set(shown)) == sorted(set(similar))
    assert set(shown) <= {document.pk for document in documents}
