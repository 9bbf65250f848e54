"""The pictures in Chromium: the 3-d view is drawn (its pixels counted), the neighbours
stand out by colour, hover names a point with its distances and a click opens its row;
the changelist's Map draws the digits, one colour a digit."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from django.contrib.auth.models import User
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from catalog.models import Digit, Item
from catalog.samples import load_digits, load_seed_items
from tests.e2e.conftest import admin_login

pytestmark = pytest.mark.django_db(transaction=True)

QUERY = (0x7B, 0x2C, 0xBF)  # the query's diamond (point_cloud.js)
RANK_1 = (0xB2, 0x18, 0x2B)  # the nearest neighbour's red
SAMPLE = (205, 217, 234)  # the other rows' grey-blue #9bb3d6, half transparent on white
DIGIT_COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442"]


@pytest.fixture
def logged_in(page: Page, live_server) -> str:
    User.objects.create_superuser("admin", "", "password")
    admin_login(page, live_server.url, username="admin", password="password")
    return live_server.url


def drawn_plot(page: Page) -> np.ndarray:
    """Wait for the picture, then its pixels (height x width x RGB), the legend blanked
    out: its markers have the points' colours."""
    expect(page.locator(".point-cloud")).to_have_attribute("data-drawn", "yes", timeout=30_000)
    page.wait_for_timeout(500)  # WebGL draws on the next frames
    plot = page.locator(".point-cloud-plot")
    plot.scroll_into_view_if_needed()
    image = np.asarray(Image.open(io.BytesIO(plot.screenshot())).convert("RGB")).astype(int)
    box, legend = plot.bounding_box(), plot.locator(".legend").bounding_box()
    assert box is not None
    if legend is not None:
        left, top = int(legend["x"] - box["x"]), int(legend["y"] - box["y"])
        image = image.copy()
        image[
            max(top, 0) : top + int(legend["height"]) + 1,
            max(left, 0) : left + int(legend["width"]) + 1,
        ] = 255
    return image


def pixels_of(image: np.ndarray, colour: tuple[int, int, int], tolerance: int = 30) -> np.ndarray:
    """Where ``image`` has ``colour`` (give or take), as (x, y) pairs."""
    near = np.abs(image - np.asarray(colour)).sum(axis=2) <= tolerance
    ys, xs = np.nonzero(near)
    return np.column_stack([xs, ys])


def on_page(page: Page, image_xy: np.ndarray) -> tuple[float, float]:
    """The page position of the middle of the biggest blob of these pixels: the pixel
    with the most of them within 3 pixels."""
    box = page.locator(".point-cloud-plot").bounding_box()
    assert box is not None
    around = [int((np.abs(image_xy - xy).max(axis=1) <= 3).sum()) for xy in image_xy]
    best = image_xy[int(np.argmax(around))]
    return box["x"] + float(best[0]) + 0.5, box["y"] + float(best[1]) + 0.5


def hover(page: Page, x: float, y: float) -> str:
    """The label plotly shows with the mouse at (x, y): drawn a few frames later."""
    page.mouse.move(x - 40, y - 40)
    page.mouse.move(x, y, steps=8)
    # The 3-d scene draws its label in an SVG of its own, not in the figure's hoverlayer.
    label = page.locator(".point-cloud-plot .hovertext").first
    expect(label).to_be_visible()
    return label.text_content() or ""


def click(page: Page, x: float, y: float) -> None:
    """A click as a hand makes it: plotly's 3-d view reads the button while it is down."""
    page.mouse.move(x, y)
    page.mouse.down()
    page.wait_for_timeout(250)
    page.mouse.up()


def test_the_search_page_draws_the_neighbours_by_rank_and_opens_one_on_a_click(
    page: Page, logged_in: str
) -> None:
    load_seed_items()
    page.goto(f"{logged_in}/admin/catalog/item/search/?vector=3,1.3,2.6&k=5")
    image = drawn_plot(page)
    background = np.abs(image - 255).sum(axis=2) > 30
    assert background.sum() > 5_000, "the picture is blank"
    assert len(pixels_of(image, SAMPLE)) > 50  # the other rows
    query = pixels_of(image, QUERY)
    nearest = pixels_of(image, RANK_1)
    assert len(query) > 20
    assert len(nearest) > 10
    status = page.locator(".point-cloud-status")
    expect(status).to_contain_text("The vectors themselves (3 dimensions).")
    expect(status).to_contain_text("All 22 other rows.")

    text = hover(page, *on_page(page, query))
    assert "the query" in text
    first = page.locator("#neighbours tbody tr").first.locator("td").nth(2).inner_text()
    text = hover(page, *on_page(page, nearest))
    assert "rank 1" in text
    assert first in text
    assert "cosine distance: " in text
    assert "L2 distance: " in text

    click(page, *on_page(page, nearest))
    target = Item.objects.get(label=first)
    expect(page).to_have_url(re.compile(rf"/admin/catalog/item/{target.pk}/change/$"))


def test_the_map_from_the_changelist_colours_each_digit(page: Page, logged_in: str) -> None:
    load_digits()
    page.goto(f"{logged_in}/admin/catalog/digit/")
    page.click("text=Map")
    expect(page).to_have_url(re.compile(r"/admin/catalog/digit/map/$"))
    image = drawn_plot(page)
    coloured = {
        colour: len(pixels_of(image, tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))))
        for colour in DIGIT_COLOURS
    }
    assert all(count > 30 for count in coloured.values()), coloured
    expect(page.locator(".point-cloud-status")).to_contain_text("principal axes (PCA) of the 64")
    expect(page.locator(".point-cloud-plot .legend")).to_contain_text("digit 7 (179)")

    ones = pixels_of(image, (0xE6, 0x9F, 0x00))  # digit 1's orange
    text = hover(page, *on_page(page, ones))
    match = re.search(r"digit: (\d)", text)
    assert match, text
    click(page, *on_page(page, ones))
    expect(page).to_have_url(re.compile(r"/admin/catalog/digit/\d+/change/$"))
    shown = Digit.objects.get(pk=int(page.url.rstrip("/").split("/")[-2]))
    assert str(shown.digit) == match.group(1)


def test_a_filtered_map_draws_only_the_filtered_rows(page: Page, logged_in: str) -> None:
    load_digits()
    page.goto(f"{logged_in}/admin/catalog/digit/?digit__exact=3")
    page.click("text=Map")
    expect(page).to_have_url(re.compile(r"/admin/catalog/digit/map/\?digit__exact=3$"))
    expect(page.locator(".vector-conditions-block")).to_contain_text("digit")
    image = drawn_plot(page)
    threes = Digit.objects.filter(digit=3).count()
    expect(page.locator(".point-cloud-status")).to_contain_text(f"All {threes} rows.")
    expect(page.locator(".point-cloud-plot .legend")).to_contain_text(f"digit 3 ({threes})")
    # digit 3 is the fourth colour; no other digit's colour is drawn.
    assert len(pixels_of(image, (0xCC, 0x79, 0xA7))) > 30
    assert len(pixels_of(image, (0xE6, 0x9F, 0x00), tolerance=10)) == 0


def test_without_javascript_the_search_page_keeps_its_table_and_says_why_no_picture(
    browser: Browser, live_server
) -> None:
    User.objects.create_superuser("admin", "", "password")
    load_seed_items()
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        admin_login(page, live_server.url, username="admin", password="password")
        page.goto(f"{live_server.url}/admin/catalog/item/search/?vector=3,1,2&k=5")
        expect(page.locator("#neighbours tbody tr")).to_have_count(5)
        expect(page.locator(".point-cloud-status")).to_have_text(
            "The 3-d picture needs JavaScript; the table above has every neighbour and its "
            "distances."
        )
        expect(page.locator(".point-cloud")).not_to_have_attribute("data-drawn", re.compile("."))
        # The histogram is asked for by a script: without one, it is a link away.
        expect(page.locator("svg.distance-histogram")).to_have_count(0)
        page.locator(".distance-box-status a").click()
        expect(page.locator("svg.distance-histogram")).to_be_visible()
        expect(page.locator("#content-main")).to_contain_text("as near as the 5th neighbour")
        page.get_by_role("link", name="Back to the results").click()
        expect(page.locator("#neighbours tbody tr")).to_have_count(5)
    finally:
        context.close()


MARKUP = '<b>x</b><a href="https://example.org">y</a>'


def test_hover_text_shows_a_labels_markup_as_text(page: Page, logged_in: str) -> None:
    load_seed_items()
    Item.objects.create(label=MARKUP, embedding=[9, 0.5, 0.1])
    # The same direction, twice as long: the nearest by cosine, drawn apart from the query.
    page.goto(f"{logged_in}/admin/catalog/item/search/?vector=18,1,0.2&k=3")
    image = drawn_plot(page)
    text = hover(page, *on_page(page, pixels_of(image, RANK_1)))
    assert "rank 1" in text
    assert MARKUP in text  # shown as it is written, not as bold text and a link
    assert (
        page.locator(".point-cloud-plot .hovertext a, .point-cloud-plot .hovertext b").count() == 0
    )
