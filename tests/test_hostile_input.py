"""Hostile input, property-based (hypothesis): the vector parser and CSV imports never
fail with anything but a clear refusal, never write part of a file, and stay fast."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.models import Item
from pgvector_admin.transfer.services import import_vectors
from pgvector_admin.vectors.parsing import (
    FLOAT4_OVERFLOW,
    VectorError,
    parse_bits,
    parse_sparse_vector,
    parse_vector,
)

FIXTURES_OK = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def parses_or_refuses(text: str, dimensions: int | None = 3) -> list[float] | None:
    """The parsed values, or None when refused (with a message)."""
    message = ""
    try:
        values = parse_vector(text, dimensions=dimensions)
    except VectorError as error:
        values, message = None, str(error)
    if values is None:
        assert message
    else:
        assert all(math.isfinite(v) and abs(v) < FLOAT4_OVERFLOW for v in values)
        if dimensions is not None:
            assert len(values) == dimensions
    return values


@given(st.text(max_size=300))
@settings(max_examples=400, deadline=None)
def test_any_text_parses_or_is_refused_with_a_message(text: str) -> None:
    parses_or_refuses(text)


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=5))
@settings(max_examples=300, deadline=None)
def test_numbers_of_any_size_are_kept_only_when_float4_can_hold_them(values: list[float]) -> None:
    parsed = parses_or_refuses("[" + ",".join(repr(v) for v in values) + "]", dimensions=None)
    fits = all(math.isfinite(v) and abs(v) < FLOAT4_OVERFLOW for v in values)
    assert (parsed is not None) == fits
    if parsed is not None:
        assert parsed == values


@given(
    st.lists(
        st.characters(categories=["Nd"]).filter(lambda c: not c.isascii()), min_size=3, max_size=3
    )
)
@settings(max_examples=100, deadline=None)
def test_non_ascii_digits_are_refused(digits: list[str]) -> None:
    assert parses_or_refuses(",".join(digits)) is None


@given(st.integers(min_value=2, max_value=50))
def test_nested_brackets_are_refused(depth: int) -> None:
    assert parses_or_refuses("[" * depth + "1,2,3" + "]" * depth) is None


def test_a_10000_dimension_vector_is_refused_quickly_or_parsed_whole() -> None:
    text = "[" + ",".join(["0.5"] * 10_000) + "]"
    assert parses_or_refuses(text) is None  # 3 dimensions expected
    assert len(parses_or_refuses(text, dimensions=None)) == 10_000


@pytest.mark.django_db
@given(st.binary(max_size=2000))
@FIXTURES_OK
def test_random_bytes_never_write_part_of_a_file(data: bytes) -> None:
    before = Item.objects.count()
    report = import_vectors(io.BytesIO(data), model=Item, dry_run=False)
    after = Item.objects.count()
    if report.written:
        assert report.ok
        assert after == before + report.new
    else:
        assert after == before


CELL = st.one_of(
    st.text(max_size=20),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=5).map(
        lambda vs: "[" + ",".join(repr(v) for v in vs) + "]"
    ),
    st.integers().map(str),
)


@pytest.mark.django_db
@given(st.lists(st.lists(CELL, min_size=1, max_size=4), max_size=30))
@FIXTURES_OK
def test_random_csv_rows_are_all_in_or_all_out(rows: list[list[str]]) -> None:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "label", "embedding"])
    writer.writerows(rows)
    before = Item.objects.count()
    report = import_vectors(io.BytesIO(out.getvalue().encode()), model=Item, dry_run=False)
    if report.ok:
        assert Item.objects.count() == before + report.new
    else:
        assert Item.objects.count() == before
        assert report.file_error or report.errors


@pytest.mark.django_db
def test_a_very_long_line_is_refused_without_reading_on() -> None:
    data = b'label,embedding\nx,"' + b"1," * 1_000_000 + b'1"\n'
    report = import_vectors(io.BytesIO(data), model=Item, dry_run=False)
    assert not report.ok
    assert "not valid CSV" in report.file_error  # the field passed the 1 MB field limit
    assert Item.objects.count() == 0


@pytest.mark.django_db
@given(st.binary(max_size=3000))
@FIXTURES_OK
def test_random_uploads_never_give_a_500(admin_client, data: bytes) -> None:
    response = admin_client.post(
        "/admin/catalog/item/import/",
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("x.csv", data)},
    )
    assert response.status_code in {200, 400}


@pytest.mark.django_db
@given(st.text(max_size=200), st.text(max_size=10), st.text(max_size=10))
@FIXTURES_OK
def test_random_search_parameters_never_give_a_500(
    admin_client, vector: str, k: str, metric: str
) -> None:
    response = admin_client.get(
        "/admin/catalog/item/search/", {"vector": vector, "k": k, "metric": metric}
    )
    assert response.status_code in {200, 400}


def value_or_message(parse: Any, text: str, **limits: Any) -> Any:
    """What ``parse`` made of ``text``, or the message it refused it with (never empty)."""
    message = ""
    try:
        return parse(text, **limits)
    except VectorError as error:
        message = str(error)
    assert message
    return message


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_text_is_a_sparse_vector_or_refused_with_a_message(text: str) -> None:
    value = value_or_message(parse_sparse_vector, text, dimensions=30)
    if isinstance(value, str):
        return
    assert value.dimensions() == 30
    assert all(math.isfinite(v) and v != 0 for v in value.values())
    assert all(0 <= index < 30 for index in value.indices())


@given(st.from_regex(r"\{([0-9]{1,3}:-?[0-9.e]{1,6},?){0,6}\}/[0-9]{1,3}", fullmatch=True))
@settings(max_examples=300, deadline=None)
def test_sparse_text_of_the_right_shape_parses_or_is_refused_with_a_message(text: str) -> None:
    value_or_message(parse_sparse_vector, text)


@given(st.text(alphabet="01 x\t", max_size=80))
@settings(max_examples=300, deadline=None)
def test_any_text_is_bits_or_refused_with_a_message(text: str) -> None:
    result = value_or_message(parse_bits, text, length=16)
    if set(result) <= {"0", "1"}:  # parsed (a message is words)
        assert len(result) == 16
        assert result == "".join(text.split())


@pytest.mark.django_db
@given(
    st.sampled_from(["sparsedocument", "bitdocument", "product", "untyped", "halfdocument"]),
    st.text(max_size=200),
    st.text(max_size=12),
    st.text(max_size=12),
)
@FIXTURES_OK
def test_random_search_parameters_on_every_type_never_give_a_500(
    admin_client, model: str, vector: str, field: str, metric: str
) -> None:
    response = admin_client.get(
        f"/admin/vector_models/{model}/search/",
        {"vector": vector, "field": field, "metric": metric},
    )
    assert response.status_code in {200, 400}
