import pytest

from catalog.models import Item
from catalog.samples import load_seed_items, seed_vectors

pytestmark = pytest.mark.django_db


def test_seed_vectors_are_the_27_points_of_1_to_3_cubed() -> None:
    vectors = seed_vectors()
    assert len(vectors) == 27
    assert len({tuple(v) for v in vectors}) == 27
    assert vectors[0] == [1.0, 1.0, 1.0]
    assert vectors[-1] == [3.0, 3.0, 3.0]


def test_load_seed_items_fills_an_empty_table_once() -> None:
    assert load_seed_items() == 27
    assert load_seed_items() == 0
    assert Item.objects.count() == 27
    assert Item.objects.filter(label="seed 3-1-2").get().embedding == [3.0, 1.0, 2.0]


def test_load_seed_items_leaves_a_table_with_rows_alone() -> None:
    Item.objects.create(embedding=[1, 0, 0], label="mine")
    assert load_seed_items() == 0
    assert list(Item.objects.values_list("label", flat=True)) == ["mine"]
