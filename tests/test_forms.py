import pytest
from django.http import QueryDict

from pgvector_admin.admin.forms import DEFAULT_K, NeighboursForm, VectorSearchForm
from pgvector_admin.vectors.metrics import COSINE, L2
from tests.factories import ITEM_EMBEDDING


def search_form(query: str) -> VectorSearchForm:
    return VectorSearchForm(QueryDict(query), columns=[ITEM_EMBEDDING])


def test_a_good_query_is_cleaned_into_values() -> None:
    form = search_form("vector=[3,1,2]&k=5&metric=l2&exact=1&recall=1")
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {
        "vector": [3.0, 1.0, 2.0],
        "field": "embedding",
        "column": ITEM_EMBEDDING,
        "k": 5,
        "metric": L2,
        "exact": True,
        "recall": True,
        "max_distance": None,
        # A model without an embedder is searched by vector only.
        "mode": "vector",
    }


@pytest.mark.parametrize(
    ("value", "cleaned"), [("0.25", 0.25), ("-3", -3.0), ("1e-3", 0.001), ("", None)]
)
def test_max_distance_is_any_finite_number(value: str, cleaned: float | None) -> None:
    form = search_form(f"vector=[3,1,2]&max_distance={value}")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["max_distance"] == cleaned


@pytest.mark.parametrize("value", ["inf", "nan", "abc", "1e999"])
def test_max_distance_refuses_what_is_not_a_finite_number(value: str) -> None:
    form = search_form(f"vector=[3,1,2]&max_distance={value}")
    assert not form.is_valid()
    assert "max_distance" in form.errors


def test_k_and_metric_default_to_10_and_cosine() -> None:
    form = search_form("vector=3 1 2")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["k"] == DEFAULT_K == 10
    assert form.cleaned_data["metric"] is COSINE
    assert form["k"].value() == 10


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("vector=[3,1,2,4]", "vector", "expected 3 dimensions, not 4"),
        ("vector=1,2", "vector", "expected 3 dimensions, not 2"),
        ("vector=abc", "vector", "is not a number"),
        ("vector=", "vector", "This field is required"),
        ("vector=NaN,1,2", "vector", "NaN"),
        ("vector=inf,1,2", "vector", "infinite"),
        ("vector=-inf,1,2", "vector", "infinite"),
        ("vector=1e39,1,2", "vector", "out of range"),
        ("vector=0,0,0", "vector", "cosine distance to a zero vector is undefined"),
        ("vector=1,2,3&k=0", "k", "greater than or equal to 1"),
        ("vector=1,2,3&k=1001", "k", "less than or equal to 1000"),
        ("vector=1,2,3&k=ten", "k", "Enter a whole number"),
        ("vector=1,2,3&metric=hamming", "metric", "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_form_error(query: str, field: str, message: str) -> None:
    form = search_form(query)
    assert not form.is_valid()
    assert any(message in error for error in form.errors[field]), form.errors


def test_a_zero_vector_is_fine_for_other_metrics() -> None:
    assert search_form("vector=0,0,0&metric=l2").is_valid()


def test_cosine_undefined_only_for_zero_vectors_with_cosine() -> None:
    assert ITEM_EMBEDDING.undefined_for([0.0, 0.0, 0.0], COSINE)
    assert not ITEM_EMBEDDING.undefined_for([0.0, 0.0, 0.0], L2)
    assert not ITEM_EMBEDDING.undefined_for([0.0, 1e-30, 0.0], COSINE)


def test_neighbours_form_needs_no_vector() -> None:
    form = NeighboursForm(QueryDict(""), columns=[ITEM_EMBEDDING])
    assert form.is_valid(), form.errors
    assert form.cleaned_data["k"] == 10
