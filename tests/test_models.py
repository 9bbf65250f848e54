import pytest
from django.db import DataError, connection, transaction
from pgvector.django import CosineDistance

from catalog.models import INDEX_NAME, Item

pytestmark = pytest.mark.django_db

# The seed tutorial's worked example: the 4 nearest of its 27 vectors to [3, 1, 2].
SEED_QUERY = [3, 1, 2]
SEED_TOP4_DISTANCES = [0.0, 0.0180194939380343, 0.0189770568240547, 0.0200421129877772]


def test_vector_extension_is_installed() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    assert row is not None
    major, minor = (int(part) for part in row[0].split(".")[:2])
    assert (major, minor) >= (0, 8)


def test_hnsw_index_has_the_seed_parameters() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT am.amname, opc.opcname, idx.reloptions, tbl.relname, att.attname
            FROM pg_class idx
            JOIN pg_index i ON i.indexrelid = idx.oid
            JOIN pg_class tbl ON tbl.oid = i.indrelid
            JOIN pg_am am ON am.oid = idx.relam
            JOIN pg_opclass opc ON opc.oid = i.indclass[0]
            JOIN pg_attribute att ON att.attrelid = tbl.oid AND att.attnum = i.indkey[0]
            WHERE idx.relname = %s
            """,
            [INDEX_NAME],
        )
        row = cursor.fetchone()
    assert row == (
        "hnsw",
        "vector_cosine_ops",
        ["m=16", "ef_construction=64"],
        "catalog_item",
        "embedding",
    )


def test_embedding_column_is_a_3_dimensional_vector() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'catalog_item'::regclass AND attname = 'embedding'"
        )
        assert cursor.fetchone() == ("vector(3)",)


def test_saving_a_4_dimensional_embedding_fails_with_pgvectors_message() -> None:
    with pytest.raises(DataError, match="expected 3 dimensions, not 4"), transaction.atomic():
        Item.objects.create(embedding=[1, 2, 3, 4])
    assert Item.objects.count() == 0


def test_embedding_reads_back_as_a_list_of_floats() -> None:
    item = Item.objects.create(embedding=[1, 2, 3], label="a")
    item.refresh_from_db()
    assert item.embedding == [1.0, 2.0, 3.0]
    assert all(isinstance(value, float) for value in item.embedding)


def test_item_str_is_its_label_or_its_id() -> None:
    assert str(Item(pk=7, embedding=[1, 1, 1], label="cat")) == "cat"
    assert str(Item(pk=7, embedding=[1, 1, 1])) == "Item 7"


def seed_query():
    return Item.objects.annotate(distance=CosineDistance("embedding", SEED_QUERY)).order_by(
        "distance"
    )[:4]


def test_seed_example_gives_the_tutorials_top4_cosine_distances(seed_items: list[Item]) -> None:
    rows = list(seed_query())
    assert [row.distance for row in rows] == pytest.approx(SEED_TOP4_DISTANCES, abs=1e-6)
    assert rows[0].embedding == [3.0, 1.0, 2.0]


def test_seed_example_query_is_served_by_the_hnsw_index(seed_items: list[Item]) -> None:
    query = seed_query()
    assert "<=>" in str(query.query)
    plan = query.explain()
    assert f"Index Scan using {INDEX_NAME}" in plan
    assert "Order By: (embedding <=> '[3,1,2]'::vector)" in plan
