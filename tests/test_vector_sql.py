from pgvector_admin.search.statements import (
    abbreviate_vectors,
    distance_operators,
    inspect,
    settings_before,
)
from pgvector_admin.vectors.metrics import operator_for_opclass

DJANGO_SEARCH = (
    'SELECT "catalog_item"."id", ("catalog_item"."embedding" <=> \'[3.0,1.0,2.0]\') AS "c", '
    '("catalog_item"."embedding" <-> \'[3.0,1.0,2.0]\') AS "l2" FROM "catalog_item" '
    "ORDER BY 3 ASC LIMIT 4"
)


def test_distance_operators_finds_all_six() -> None:
    sql = "SELECT a <-> b, a <#> b, a <=> b, a <+> b, c <~> d, c <%> d, c <%%> d"
    assert distance_operators(sql) == ["<->", "<#>", "<=>", "<+>", "<~>", "<%>", "<%>"]


def test_inspect_reads_djangos_order_by_position() -> None:
    statement = inspect(DJANGO_SEARCH.replace("ORDER BY 3", "ORDER BY 2"))
    assert statement.operator == "<=>"
    assert statement.limit == 4
    assert not statement.descending
    assert statement.table == "catalog_item"
    assert statement.is_select
    assert inspect(DJANGO_SEARCH).operator == "<->"


def test_inspect_sees_desc_order_missing_limit_and_filters() -> None:
    desc = inspect("SELECT id FROM item ORDER BY embedding <=> '[1,2,3]' DESC LIMIT 5")
    assert desc.descending
    assert desc.order_operator == "<=>"
    no_limit = inspect("SELECT id FROM item ORDER BY embedding <=> '[1,2,3]'")
    assert no_limit.limit is None
    filtered = inspect(
        "SELECT id FROM item WHERE label = 'x' ORDER BY embedding <-> '[1,2,3]' LIMIT 3"
    )
    assert filtered.has_filter
    assert filtered.operator == "<->"


def test_inspect_ignores_statements_without_operators_and_explains() -> None:
    assert inspect("SELECT 1") is None
    assert inspect("EXPLAIN SELECT id FROM item ORDER BY embedding <=> '[1,2,3]' LIMIT 3") is None


def test_writes_are_not_selects() -> None:
    insert = inspect("INSERT INTO item SELECT * FROM item ORDER BY embedding <=> '[1,2,3]' LIMIT 1")
    assert not insert.is_select
    assert not inspect(
        "WITH x AS (DELETE FROM item RETURNING 1) SELECT embedding <=> '[1,1,1]' FROM item"
    ).is_select


def test_settings_before_keeps_local_settings_within_their_transaction() -> None:
    statements = [
        ("SET hnsw.max_scan_tuples = 5000", None),
        ("SELECT set_config('hnsw.ef_search', '100', true), current_setting('x')", "t1"),
        ("SELECT embedding <=> '[1,2,3]' FROM item ORDER BY 1 LIMIT 3", "t1"),
        ("SELECT embedding <=> '[1,2,3]' FROM item ORDER BY 1 LIMIT 3", "t2"),
        ("SET LOCAL ivfflat.probes TO 10", "t3"),
        ("SELECT embedding <=> '[1,2,3]' FROM item ORDER BY 1 LIMIT 3", "t3"),
    ]
    assert settings_before(statements, 2) == {
        "hnsw.max_scan_tuples": "5000",
        "hnsw.ef_search": "100",
    }
    assert settings_before(statements, 3) == {"hnsw.max_scan_tuples": "5000"}
    assert settings_before(statements, 5) == {
        "hnsw.max_scan_tuples": "5000",
        "ivfflat.probes": "10",
    }


def test_settings_before_forgets_local_settings_after_commit() -> None:
    statements = [
        ("SELECT set_config('hnsw.ef_search', '100', true)", "t1"),
        ("COMMIT", "t1"),
        ("SELECT embedding <=> '[1,2,3]' FROM item ORDER BY 1 LIMIT 3", "t1"),
    ]
    assert settings_before(statements, 2) == {}


def test_abbreviate_vectors_shortens_only_long_literals() -> None:
    long_vector = "[" + ",".join(str(i) for i in range(768)) + "]"
    sql = f"SELECT embedding <=> '{long_vector}', embedding <-> '[1,2,3]'"
    assert abbreviate_vectors(sql) == (
        "SELECT embedding <=> '[0,1,2,3,4,5,…,767]' /* 768 dims */, embedding <-> '[1,2,3]'"
    )


def test_operator_for_opclass_covers_vector_halfvec_and_bit() -> None:
    assert operator_for_opclass("vector_cosine_ops") == "<=>"
    assert operator_for_opclass("halfvec_l2_ops") == "<->"
    assert operator_for_opclass("vector_ip_ops") == "<#>"
    assert operator_for_opclass("bit_hamming_ops") == "<~>"
    assert operator_for_opclass("text_ops") is None
