"""Every page the package adds, as a Korean user gets it: the browser asks for Korean
(Accept-Language, as the demo's LocaleMiddleware reads it) and no English of the
package's catalogue is left in what the page shows, but for names (SQL, HNSW, the
models', fields' and indexes' own)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from catalog.models import Item
from pgvector_admin.embedders.backfill import embed_rows
from pgvector_admin.embedders.fields import text_embedding
from pgvector_admin.models import TaskProgress
from tests.korean import english_left, visible_text
from tests.test_panels import TOOLBAR_SETTINGS, panel_text
from tests.test_text_search import BODIES
from tests.vector_data import url
from tests.vector_models.models import Article

pytestmark = pytest.mark.django_db(transaction=True)

ITEMS = "/admin/catalog/item/"
# Names that stay as they are on a Korean page: the demo's and the test models' own.
NAMES = {
    "vector catalog", "Vector catalog", "Vector_Models", "Items", "Item", "items", "item",
    "Articles", "articles", "article", "Article", "Label", "label", "Embedding", "embedding",
    "Title", "title", "Body", "body", "seed", "Seed",
    # The pgvector type a column of the import takes ("vector, 3 dimensions").
    "vector,",
}  # fmt: skip


def korean_client(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="ko")
    client.force_login(user)
    return client


def shown(response: Any) -> str:
    """The visible text of a page, or the words of a picture's points (JSON)."""
    if response["Content-Type"].startswith("application/json"):
        data = response.json()
        values = [data.get("summary"), data.get("projection"), data.get("error")]
        return " ".join(
            str(value) for value in values + list(data.get("words", {}).values()) if value
        )
    if response["Content-Type"].startswith("text/plain"):
        return response.content.decode()
    return visible_text(response.content.decode())


@pytest.fixture
def articles() -> None:
    Article.objects.bulk_create(
        Article(title=f"article {i:02d}", body=body) for i, body in enumerate(BODIES, 1)
    )
    embed_rows(model=Article, field="embedding", embedding=text_embedding(Article, "embedding"))


def every_page(client: Client, admin_user: Any) -> dict[str, Any]:
    """Each page the package adds, in the state that shows the most of its words."""
    item = Item.objects.get(label="seed 3-1-2")
    pages: dict[str, Any] = {
        "changelist": client.get(ITEMS),
        "search": client.get(f"{ITEMS}search/", {"vector": "3,1,2", "k": "4", "recall": "on"}),
        "search, exact": client.get(f"{ITEMS}search/", {"vector": "3,1,2", "exact": "on"}),
        "search, within a distance": client.get(
            f"{ITEMS}search/", {"vector": "3,1,2", "max_distance": "0.5", "k": "3"}
        ),
        "search, a bad vector": client.get(f"{ITEMS}search/", {"vector": "1,2"}),
        "search points": client.get(f"{ITEMS}search/points/", {"vector": "3,1,2", "k": "4"}),
        "similar": client.get(f"{ITEMS}{item.pk}/similar/", {"label__startswith": "seed"}),
        "similar points": client.get(f"{ITEMS}{item.pk}/similar/points/"),
        "search distances": client.get(f"{ITEMS}search/distances/", {"vector": "3,1,2", "k": "4"}),
        "similar distances, a bad k": client.get(
            f"{ITEMS}{item.pk}/similar/distances/", {"k": "0"}
        ),
        "similar distances": client.get(f"{ITEMS}{item.pk}/similar/distances/"),
        "map": client.get(f"{ITEMS}map/"),
        "map points": client.get(f"{ITEMS}map/points/"),
        "text search, hybrid": client.get(
            url(Article, "search"),
            {"text": "wait for a few seconds", "mode": "hybrid", "match": "any", "recall": "on"},
        ),
        "text search, keyword": client.get(
            url(Article, "search"), {"text": "seconds", "mode": "keyword"}
        ),
        "embeddings": client.get(url(Article, "embeddings")),
        "import preview with errors": client.post(
            f"{ITEMS}import/",
            {
                "format": "0",
                "resource": "0",
                "import_file": SimpleUploadedFile(
                    "bad.csv", b'label,embedding\nfirst,"[1,2]"\nsecond,"[1,nope,3]"\n'
                ),
            },
        ),
    }
    # The index page, with a recall curve measured (the tests' queue runs it at once).
    indexes = f"{ITEMS}indexes/"
    measured = client.post(
        indexes,
        {"action": "measure", "name": "item_embedding_hnsw_idx", "queries": "10", "k": "4",
         "target": "0.9"},
    )  # fmt: skip
    assert measured.status_code == 302, measured.content[:500]
    curve = TaskProgress.objects.get(kind="curve")
    assert curve.phase == "done", curve.report
    pages["index page"] = client.get(indexes)
    pages["index page, a refused new index"] = client.post(
        indexes,
        {"action": "create", "field": "embedding", "metric": "cosine", "method": "hnsw", "m": "16",
         "ef_construction": "8"},
    )  # fmt: skip
    pages["task list"] = client.get("/admin/pgvector_admin/taskprogress/")
    pages["a curve's task"] = client.get(f"/admin/pgvector_admin/taskprogress/{curve.pk}/change/")
    running = TaskProgress.objects.create(
        title="import", kind="import", phase="load", done=10, total=100, started_by=admin_user
    )
    pages["a running task"] = client.get(f"/admin/pgvector_admin/taskprogress/{running.pk}/change/")
    failed = TaskProgress.objects.create(
        title="import", kind="import", phase="refused", started_by=admin_user,
        report={"error_count": 1, "errors": [{"line": 2, "reason": "x", "text": ""}],
                "file_name": "a.csv", "model": "items"},
    )  # fmt: skip
    pages["a refused import's task"] = client.get(
        f"/admin/pgvector_admin/taskprogress/{failed.pk}/change/"
    )
    return pages


def test_every_page_the_package_adds_is_korean(admin_user, seed_items, articles) -> None:
    client = korean_client(admin_user)
    pages = every_page(client, admin_user)
    left = {}
    for name, response in pages.items():
        assert response.status_code in {200, 400}, (name, response.status_code)
        text = shown(response)
        assert re.search("[가-힣]", text), name  # Korean is there at all
        found = english_left(text, names=NAMES)
        if found:
            left[name] = found
    assert left == {}


def test_the_check_finds_the_english_of_an_english_page(admin_user, seed_items) -> None:
    # Not vacuous: the same check on the English page finds its sentences.
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    page = client.get(f"{ITEMS}search/", {"vector": "3,1,2", "k": "4", "recall": "on"})
    found = english_left(visible_text(page.content.decode()), names=NAMES)
    assert {"Served by the index", "Find nearest", "Download as CSV"} <= set(found)


def test_the_toolbar_panel_is_korean(admin_user, seed_items) -> None:
    with override_settings(**TOOLBAR_SETTINGS):
        client = korean_client(admin_user)
        response = client.get(f"{ITEMS}search/", {"vector": "3,1,2"})
        panel = panel_text(client, response)
        nav = re.search(r'id="djdt-VectorSearchPanel".*?</li>', response.content.decode(), re.S)
    assert "판정:" in panel
    assert english_left(visible_text(panel), names=NAMES) == []
    assert nav is not None
    assert "벡터 검색" in nav.group(0)
    assert "벡터 쿼리 1개" in nav.group(0)


def test_a_task_started_in_korean_reports_in_korean(admin_user, seed_items) -> None:
    client = korean_client(admin_user)
    client.post(
        f"{ITEMS}indexes/",
        {"action": "measure", "name": "item_embedding_hnsw_idx", "queries": "10", "k": "4",
         "target": "0.9"},
    )  # fmt: skip
    curve = TaskProgress.objects.get(kind="curve")
    assert curve.language == "ko"
    assert curve.title.startswith("items의 item_embedding_hnsw_idx 재현율 곡선")
    assert curve.report["source"] == "테이블의 표본 행"
    # Read in English later, the page's own words are English; the report keeps its words.
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(admin_user)
    page = english.get(f"/admin/pgvector_admin/taskprogress/{curve.pk}/change/").content.decode()
    assert "Recommended:" in page or "No setting measured" in page
    assert json.dumps(curve.report, ensure_ascii=False).count("테이블의 표본 행") == 1
