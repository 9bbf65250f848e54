"""The second sample: 1,797 handwritten digits (64-d). Find similar is right on real
data: leave-one-out 1-nearest-neighbour agreement of the digit through similar_to(),
against numpy's exact answer."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse

from catalog.models import DIGIT_INDEX_NAME, Digit
from catalog.samples import load_digits, read_digits
from pgvector_admin.search.searches import similar_to
from pgvector_admin.vectors.fields import VectorColumn
from pgvector_admin.vectors.metrics import L2

pytestmark = pytest.mark.django_db

IMAGE = VectorColumn.of(Digit, "image")


@pytest.fixture
def digits() -> list[Digit]:
    assert load_digits() == 1797
    assert load_digits() == 0  # once only
    return list(Digit.objects.order_by("pk"))


def numpy_1nn(digits: list[Digit]) -> tuple[np.ndarray, np.ndarray]:
    """For each digit, the smallest L2 distance to another one and the digits found at
    that distance (ties included)."""
    images = np.asarray([digit.image for digit in digits], dtype=np.float64)
    squared = (images**2).sum(axis=1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * images @ images.T, 0))
    np.fill_diagonal(distances, np.inf)
    nearest = distances.min(axis=1)
    return distances, nearest


def test_the_file_holds_1797_images_of_64_pixels_with_their_digit() -> None:
    rows = read_digits()
    assert len(rows) == 1797
    assert {len(image) for image, _ in rows} == {64}
    assert sorted({digit for _, digit in rows}) == list(range(10))
    assert min(min(image) for image, _ in rows) == 0
    assert max(max(image) for image, _ in rows) == 16


def test_leave_one_out_1nn_agrees_with_numpy(digits: list[Digit]) -> None:
    distances, nearest = numpy_1nn(digits)
    label = np.asarray([digit.digit for digit in digits])
    position = {digit.pk: i for i, digit in enumerate(digits)}
    # numpy: right when a digit of the same class is among the nearest (ties count).
    numpy_right = np.asarray(
        [
            label[i] in label[np.isclose(distances[i], nearest[i], atol=1e-6)]
            for i in range(len(digits))
        ]
    )
    exact_right, index_right = [], []
    for i, digit in enumerate(digits):
        for exact, found in ((True, exact_right), (False, index_right)):
            [neighbour] = similar_to(
                obj=digit, column=IMAGE, k=1, metric=L2, exact=exact
            ).neighbours
            j = position[neighbour.id]
            if exact:
                assert neighbour.distance(L2) == pytest.approx(nearest[i], abs=1e-4)
            found.append(label[j] == label[i])
    exact_agreement = float(np.mean(exact_right))
    assert exact_agreement == pytest.approx(float(np.mean(numpy_right)), abs=1 / 1797)
    assert exact_agreement > 0.98
    # Through the HNSW index (ef_search 100, iterative scan): as good, within a few rows.
    assert float(np.mean(index_right)) >= exact_agreement - 5 / 1797


def test_the_changelist_shows_a_picture_and_filters_by_digit(admin_client, digits) -> None:
    url = reverse("admin:catalog_digit_changelist")
    page = admin_client.get(url, {"digit__exact": 7})
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('<svg class="digit"') == 50  # one page of 7s
    assert 'aria-label="handwritten 7"' in text
    assert "handwritten 3" not in text
    assert page.context["cl"].result_count == sum(1 for d in digits if d.digit == 7)


def test_similar_digits_page_uses_the_l2_index(admin_client, digits) -> None:
    target = next(d for d in digits if d.digit == 4)
    page = admin_client.get(reverse("admin:catalog_digit_similar", args=[target.pk]), {"k": 5})
    assert page.status_code == 200
    outcome = page.context["outcome"]
    assert outcome.metric.name == "l2"
    assert outcome.scan_index == DIGIT_INDEX_NAME
    assert len(outcome.neighbours) == 5
    # A picture of the digit asked about and of each neighbour: drawn from each row's
    # vector, so the vectors are read whole (not only their cells).
    assert page.content.decode().count('<svg class="digit"') == 6
    assert all(n.embedding is not None and n.cell is None for n in outcome.neighbours)
