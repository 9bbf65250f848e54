"""The vector pages in Korean, as Chromium shows them: the header's switch turns the
admin Korean, and what the pages' scripts write (the pictures' legends and sentences,
a task's progress) is Korean too. The English of the package's catalogue is looked
for in the text the browser renders (``innerText``: no hidden part, no script)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from catalog.models import Item
from pgvector_admin.models import TaskProgress
from tests.e2e.conftest import admin_login
from tests.korean import english_left

pytestmark = pytest.mark.django_db(transaction=True)

ITEMS = "/admin/catalog/item/"
NAMES = {"vector catalog", "Vector catalog", "Items", "items", "Label", "label", "Embedding",
         "embedding", "seed", "English"}  # fmt: skip


def rendered_text(page: Page) -> str:
    return page.evaluate("document.body.innerText")


@pytest.fixture
def korean(page: Page, live_server, seed_items) -> str:
    """Logged in, then switched to Korean with the header's button."""
    User.objects.create_superuser("admin", "", "password")
    admin_login(page, live_server.url, username="admin", password="password")
    page.goto(f"{live_server.url}{ITEMS}")
    expect(page.locator("#content h1")).to_contain_text("Select item to change")
    page.click(".language-switch button[value=ko]")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    return live_server.url


def test_search_in_korean_with_its_picture_and_histogram(page: Page, korean: str) -> None:
    page.fill("#vs_vector", "3,1,2")
    page.fill("#vs_k", "4")
    page.click("input[type=submit][value='가장 가까운 항목 찾기']")
    expect(page.locator("#neighbours tbody tr")).to_have_count(4)
    box = page.locator(".point-cloud")
    expect(box).to_have_attribute("data-drawn", "yes")
    expect(page.locator(".point-cloud-status")).to_contain_text("끌어서 돌리고")
    # plotly draws the legend from the points' words.
    expect(page.locator(".point-cloud .legend")).to_contain_text("가장 가까운 4개(순위별)")
    expect(page.locator(".distance-histogram")).to_contain_text("4번째 이웃")
    assert english_left(rendered_text(page), names=NAMES) == []


def test_similar_map_and_index_pages_in_korean(page: Page, korean: str) -> None:
    item = Item.objects.get(label="seed 3-1-2")
    page.goto(f"{korean}{ITEMS}{item.pk}/similar/")
    expect(page.locator(".point-cloud")).to_have_attribute("data-drawn", "yes")
    assert english_left(rendered_text(page), names=NAMES) == []
    page.goto(f"{korean}{ITEMS}map/")
    expect(page.locator(".point-cloud")).to_have_attribute("data-drawn", "yes")
    expect(page.locator(".point-cloud-status")).to_contain_text("행 27개 전부")
    assert english_left(rendered_text(page), names=NAMES) == []
    page.goto(f"{korean}{ITEMS}indexes/")
    expect(page.locator("#content h1")).to_contain_text("벡터 인덱스")
    assert english_left(rendered_text(page), names=NAMES) == []


def test_a_tasks_progress_is_written_in_korean_by_its_script(page: Page, korean: str) -> None:
    running = TaskProgress.objects.create(
        title="가져오기", kind="import", phase="load", done=1500, total=20000
    )
    page.goto(f"{korean}/admin/pgvector_admin/taskprogress/{running.pk}/change/")
    # The script rewrites the counts every second, from the page's Korean sentences.
    TaskProgress.objects.filter(pk=running.pk).update(done=2500)
    expect(page.locator("#task-done")).to_have_text("2,500")
    expect(page.locator("#task-total")).to_have_text("/ 20,000")
    expect(page.locator("#task-phase")).to_have_text("행을 불러오는 중")
    assert english_left(rendered_text(page), names=NAMES) == []


def test_switching_back_to_english(page: Page, korean: str) -> None:
    page.click(".language-switch button[value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("input[type=submit][value='Find nearest']")).to_be_visible()
