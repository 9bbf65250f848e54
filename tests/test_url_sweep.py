"""A hostile-input sweep (hypothesis): every URL the vector admin adds, for a model of
each vector type, with malformed, huge, NUL, mixed-script, undecodable and wrong-type
values in any of its parameters, answers without a server error and changes no row."""

from __future__ import annotations

from urllib.parse import quote, quote_from_bytes, urlencode

import pytest
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from catalog.models import Item
from pgvector_admin.admin.vector_admin import VECTOR_PARAMS
from pgvector_admin.models import TaskProgress
from pgvector_admin.search.query_vectors import REF_PARAM
from tests.vector_models.models import BitDocument, HalfDocument, SparseDocument

# No shrinking: a failure is reported as found (shrinking hundreds of requests can take
# minutes); the example names the page and every parameter.
SWEEP = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)

# A model of each type: vector (the seed's Item), halfvec, sparsevec and bit.
MODELS = {
    "vector": ("catalog", "item"),
    "halfvec": ("vector_models", "halfdocument"),
    "sparsevec": ("vector_models", "sparsedocument"),
    "bit": ("vector_models", "bitdocument"),
}
# What each page takes, and a few names it does not (a changelist filter of a field
# that does not exist, a lookup on one that does).
PARAMS = [
    *sorted(VECTOR_PARAMS),
    REF_PARAM,
    "q",
    "o",
    "p",
    "id__gt",
    "title__in",
    "nothing__here",
    "_popup",
    "_to_field",
    "e",
]
VALUES = st.one_of(
    st.text(max_size=40),  # any script, NUL and control characters included
    st.sampled_from(
        [
            "",
            "1",
            "-1",
            "0",
            "1e309",
            "nan",
            "-inf",
            "9" * 400,
            "[3,1,2]",
            "[1,2,3,4]",
            "{1:1}/3",
            "0101",
            "cosine",
            "hamming",
            "csv",
            "\x00",
            "١٢٣",
            "[1,२,3]",
            "\u2139\ufe0f",  # an emoji with its variation selector
            "true",
            "[[1]]",
            "' OR 1=1 --",
            '"; DROP TABLE catalog_item; --',
            "../../etc/passwd",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.lists(st.floats(width=16), max_size=8).map(lambda v: ",".join(map(repr, v))),
    st.just("1," * 3000 + "1"),  # huge
)
QUERY = st.dictionaries(st.sampled_from(PARAMS), VALUES, max_size=5)
# Bytes that are not UTF-8, sent as they are in the query string.
RAW = st.binary(min_size=1, max_size=12).map(quote_from_bytes)


def pages(app: str, model: str, pk: int) -> list[tuple[str, str]]:
    base = f"/admin/{app}/{model}/"
    return [
        ("get", base),
        ("get", f"{base}search/"),
        ("post", f"{base}search/"),
        ("get", f"{base}search/points/"),
        ("get", f"{base}{pk}/similar/"),
        ("get", f"{base}{pk}/similar/points/"),
        ("get", f"{base}map/"),
        ("get", f"{base}map/points/"),
        ("get", f"{base}indexes/"),
        ("get", f"{base}export/"),
        ("post", f"{base}process_import/"),
        ("get", f"{base}import/"),
    ]


def fingerprint() -> dict[str, str]:
    """The tables the sweep could write to, each as a digest of its rows."""
    tables = [
        Item._meta.db_table,
        HalfDocument._meta.db_table,
        SparseDocument._meta.db_table,
        BitDocument._meta.db_table,
        TaskProgress._meta.db_table,
    ]
    found = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0] is None:
                continue
            cursor.execute(
                f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{table}\" t"
            )
            found[table] = cursor.fetchone()[0] or ""
    return found


@pytest.fixture
def rows(db, seed_items, half_documents, sparse_documents, bit_documents) -> dict[str, int]:
    """A row of each model to ask for similar rows of."""
    return {
        "vector": seed_items[0].pk,
        "halfvec": half_documents[0].pk,
        "sparsevec": sparse_documents[0].pk,
        "bit": bit_documents[0].pk,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(MODELS))
@given(data=st.data())
@SWEEP
def test_every_vector_url_survives_hostile_parameters(admin_client, rows, kind, data) -> None:
    app, model = MODELS[kind]
    before = fingerprint()
    for method, path in pages(app, model, rows[kind]):
        query = data.draw(QUERY, label=path)
        raw = data.draw(st.lists(RAW, max_size=2), label="undecodable")
        address = path + "?" + urlencode(query, quote_via=quote)
        if raw:
            address += "&" + "&".join(
                f"{name}={value}" for name, value in zip(PARAMS, raw, strict=False)
            )
        if method == "post":
            response = admin_client.post(address, query)
        else:
            response = admin_client.get(address)
        assert response.status_code < 500, (method, address, response.status_code)
    # (A posted search may keep a long query vector for its address: not a row of these.)
    assert fingerprint() == before


def test_the_fingerprint_changes_with_a_row(db, seed_items) -> None:
    before = fingerprint()
    Item.objects.filter(pk=seed_items[0].pk).update(label="changed")
    assert fingerprint() != before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "page", ["search/?vector=1,2,3", "search/points/?vector=1,2,3", "map/", "map/points/"]
)
def test_a_condition_no_row_can_meet_finds_nothing_without_an_error(
    admin_client, seed_items, page
) -> None:
    # "label__in=" with no value: Django writes no SQL for it (EmptyResultSet).
    response = admin_client.get(f"/admin/catalog/item/{page}&label__in=".replace("/&", "/?"))
    assert response.status_code == 200
    if "points" in page:
        assert response.json()["sample"]["ids"] == []
