import pytest
from django.db import connection

from catalog.models import INDEX_NAME, Item
from pgvector_admin.conf import app_settings
from pgvector_admin.search import searches
from pgvector_admin.search.catalogue import vector_indexes
from pgvector_admin.search.distance_query import distance_queryset
from pgvector_admin.search.index_choice import index_for
from pgvector_admin.search.searches import nearest, similar_to
from pgvector_admin.vectors.fields import VectorColumn
from pgvector_admin.vectors.metrics import COSINE, INNER_PRODUCT, L2, METRICS
from tests.factories import ITEM_EMBEDDING, create_items, exact_nearest, exact_value, random_vectors

pytestmark = pytest.mark.django_db


def assert_matches_exact(outcome, expected: list[tuple[int, float]]) -> None:
    """Same rows in the same order with the same values (±1e-6); rows whose values tie
    within that tolerance may come in either order."""
    got = [(n.id, n.distance(outcome.metric)) for n in outcome.neighbours]
    assert len(got) == len(expected)
    for (got_id, got_value), (want_id, want_value) in zip(got, expected, strict=True):
        assert got_value == pytest.approx(want_value, abs=1e-6)
        if got_id != want_id:
            assert got_value == pytest.approx(dict(expected).get(got_id, got_value), abs=1e-6)


def test_vector_indexes_reads_the_seed_index_from_the_catalog() -> None:
    [index] = vector_indexes(Item._meta.db_table)
    assert (index.name, index.method, index.opclass) == (INDEX_NAME, "hnsw", "vector_cosine_ops")
    assert "USING hnsw (embedding vector_cosine_ops)" in index.definition


def test_only_cosine_is_served_by_the_seed_index() -> None:
    assert index_for(ITEM_EMBEDDING, COSINE).name == INDEX_NAME
    assert [index_for(ITEM_EMBEDDING, m) for m in (L2, INNER_PRODUCT, METRICS["l1"])] == [
        None,
        None,
        None,
    ]


def test_seed_example_through_the_selector_uses_the_index(seed_items) -> None:
    outcome = nearest(column=ITEM_EMBEDDING, vector=[3, 1, 2], k=4, metric=COSINE)
    assert outcome.scan_index == INDEX_NAME
    assert [n.distance(COSINE) for n in outcome.neighbours] == pytest.approx(
        [0.0, 0.0180194939380343, 0.0189770568240547, 0.0200421129877772], abs=1e-6
    )
    assert [n.rank for n in outcome.neighbours] == [1, 2, 3, 4]
    assert "<=>" in outcome.sql
    assert "LIMIT 4" in outcome.sql


def test_every_row_carries_all_four_values(seed_items) -> None:
    [first] = nearest(column=ITEM_EMBEDDING, vector=[3, 1, 2], k=1, metric=COSINE).neighbours
    assert first.embedding == [3.0, 1.0, 2.0]
    assert first.distances == {"cosine": 0.0, "l2": 0.0, "ip": 14.0, "l1": 0.0}


@pytest.mark.parametrize("metric", list(METRICS.values()), ids=list(METRICS))
def test_exact_mode_equals_an_exact_computation(metric) -> None:
    create_items(random_vectors(600, seed=1))
    query = [0.3, -0.2, 0.9]
    outcome = nearest(column=ITEM_EMBEDDING, vector=query, k=25, metric=metric, exact=True)
    assert outcome.settings["enable_indexscan"] == "off"
    assert not outcome.used_index
    assert_matches_exact(outcome, exact_nearest(metric, query, 25))


def test_inner_product_lists_the_largest_first(seed_items) -> None:
    values = [
        n.distance(INNER_PRODUCT)
        for n in nearest(
            column=ITEM_EMBEDDING, vector=[1, 1, 1], k=5, metric=INNER_PRODUCT
        ).neighbours
    ]
    assert values[0] == 9.0
    assert values == sorted(values, reverse=True)


def test_index_recall_at_10_is_at_least_0_99_on_random_data(index_scans_only) -> None:
    create_items(random_vectors(5000, seed=2))
    queries = random_vectors(30, seed=3)
    found = 0
    for query in queries:
        outcome = nearest(column=ITEM_EMBEDDING, vector=query, k=10, metric=COSINE)
        assert outcome.used_index
        expected = {item_id for item_id, _ in exact_nearest(COSINE, query, 10)}
        found += len(expected & {n.id for n in outcome.neighbours})
    assert found / (10 * len(queries)) >= 0.99


def test_recall_is_measured_on_request(index_scans_only) -> None:
    create_items(random_vectors(1000, seed=4))
    outcome = nearest(
        column=ITEM_EMBEDDING, vector=[0.1, 0.2, 0.3], k=10, metric=COSINE, with_recall=True
    )
    assert outcome.recall is not None
    assert outcome.recall >= 0.9
    assert (
        nearest(column=ITEM_EMBEDDING, vector=[0.1, 0.2, 0.3], k=10, metric=COSINE).recall is None
    )


@pytest.mark.parametrize("k", [1, 39, 40, 41, 100, 500, 1000])
def test_exactly_k_rows_come_back_past_ef_search(k: int, index_scans_only) -> None:
    create_items(random_vectors(1200, seed=5))
    outcome = nearest(column=ITEM_EMBEDDING, vector=[0.5, 0.5, -0.1], k=k, metric=COSINE)
    assert len(outcome.neighbours) == k
    assert outcome.used_index
    assert not outcome.fell_back_to_exact
    assert outcome.settings["hnsw.ef_search"] == str(max(app_settings.DEFAULT_EF_SEARCH, k))
    assert outcome.settings["hnsw.iterative_scan"] == "strict_order"


def test_fewer_rows_than_k_returns_them_all(seed_items) -> None:
    assert (
        len(nearest(column=ITEM_EMBEDDING, vector=[1, 2, 3], k=1000, metric=COSINE).neighbours)
        == 27
    )
    assert len(nearest(column=ITEM_EMBEDDING, vector=[1, 2, 3], k=1000, metric=L2).neighbours) == 27


def test_results_are_complete_and_exact_after_mass_deletes_and_inserts(index_scans_only) -> None:
    old = create_items(random_vectors(3000, seed=6), prefix="old")
    Item.objects.filter(pk__in=[item.pk for item in old[:2900]]).delete()
    create_items(random_vectors(50, seed=7), prefix="new")
    query = [0.2, 0.7, -0.4]
    for k in (10, 100, 149, 150, 1000):
        outcome = nearest(column=ITEM_EMBEDDING, vector=query, k=k, metric=COSINE)
        assert len(outcome.neighbours) == min(k, 150), k
        assert outcome.used_index
        assert not outcome.fell_back_to_exact
        values = [n.distance(COSINE) for n in outcome.neighbours]
        assert values == sorted(values)  # strict order
    assert_matches_exact(
        nearest(column=ITEM_EMBEDDING, vector=query, k=150, metric=COSINE),
        exact_nearest(COSINE, query, 150),
    )


def test_a_short_index_scan_is_replaced_by_the_exact_answer(monkeypatch) -> None:
    create_items(random_vectors(200, seed=8))

    # Without the iterative scan an HNSW scan stops at ef_search (40) rows at most.
    def plain_index_scan(*, k: int, exact: bool, **_: object) -> dict[str, str]:
        if exact:
            return {"enable_indexscan": "off"}
        return {"hnsw.iterative_scan": "off", "enable_seqscan": "off"}

    monkeypatch.setattr(searches, "search_settings", plain_index_scan)
    outcome = nearest(column=ITEM_EMBEDDING, vector=[0.1, 0.1, 0.1], k=100, metric=COSINE)
    assert outcome.fell_back_to_exact
    assert not outcome.used_index
    assert outcome.settings["enable_indexscan"] == "off"
    assert "the exact scan's answer is shown" in outcome.notes[0]
    assert_matches_exact(outcome, exact_nearest(COSINE, [0.1, 0.1, 0.1], 100))


def test_recall_is_measured_against_a_fresh_exact_scan(monkeypatch) -> None:
    create_items(random_vectors(300, seed=11))
    # A deliberately poor index scan: ef_search 1, no iterative scan.
    monkeypatch.setattr(
        searches,
        "search_settings",
        lambda *, k, exact, **_: (
            {"enable_indexscan": "off"}
            if exact
            else {"hnsw.ef_search": "1", "enable_seqscan": "off"}
        ),
    )
    outcome = nearest(
        column=ITEM_EMBEDDING, vector=[0.3, 0.3, 0.3], k=10, metric=COSINE, with_recall=True
    )
    expected = {item_id for item_id, _ in exact_nearest(COSINE, [0.3, 0.3, 0.3], 10)}
    found = {n.id for n in outcome.neighbours} & expected
    assert outcome.recall == pytest.approx(len(found) / 10)


def test_search_settings_are_local_to_the_search() -> None:
    create_items(random_vectors(100, seed=9))
    nearest(column=ITEM_EMBEDDING, vector=[1, 0, 0], k=300, metric=COSINE)
    nearest(column=ITEM_EMBEDDING, vector=[1, 0, 0], k=10, metric=COSINE, exact=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('hnsw.ef_search'), "
            "current_setting('hnsw.iterative_scan'), current_setting('enable_indexscan')"
        )
        assert cursor.fetchone() == ("40", "off", "on")


def test_metrics_without_an_index_run_with_default_settings(seed_items) -> None:
    outcome = nearest(column=ITEM_EMBEDDING, vector=[1, 2, 3], k=5, metric=L2)
    assert outcome.index is None
    assert not outcome.used_index
    assert outcome.settings["hnsw.iterative_scan"] == "off"


def test_similar_to_leaves_out_the_item_itself(seed_items) -> None:
    item = Item.objects.get(label="seed 3-1-2")
    outcome = similar_to(column=ITEM_EMBEDDING, obj=item, k=26, metric=COSINE)
    ids = [n.id for n in outcome.neighbours]
    assert item.pk not in ids
    assert len(ids) == 26
    assert outcome.neighbours[0].distance(COSINE) == pytest.approx(0.0180194939380343, abs=1e-6)


def test_similar_to_matches_the_exact_answer() -> None:
    items = create_items(random_vectors(800, seed=10))
    target = items[123]
    outcome = similar_to(column=ITEM_EMBEDDING, obj=target, k=20, metric=COSINE, exact=True)
    assert_matches_exact(
        outcome, exact_nearest(COSINE, list(target.embedding), 20, exclude_id=target.pk)
    )


def test_the_cosine_query_plan_uses_the_index_and_l2_does_not(seed_items) -> None:
    cosine_plan = distance_queryset(column=ITEM_EMBEDDING, vector=[3, 1, 2], metric=COSINE)[
        :10
    ].explain()
    assert f"Index Scan using {INDEX_NAME}" in cosine_plan
    l2_plan = distance_queryset(column=ITEM_EMBEDDING, vector=[3, 1, 2], metric=L2)[:10].explain()
    assert INDEX_NAME not in l2_plan
    assert "Seq Scan" in l2_plan


def test_exact_value_helper_agrees_with_pgvector(seed_items) -> None:
    outcome = nearest(column=ITEM_EMBEDDING, vector=[3, 1, 2], k=27, metric=L2)
    for neighbour in outcome.neighbours:
        for metric in METRICS.values():
            assert neighbour.distance(metric) == pytest.approx(
                exact_value(metric, neighbour.embedding, [3, 1, 2]), abs=1e-6
            )


def test_k_outside_1_to_1000_is_refused() -> None:
    with pytest.raises(ValueError, match="k must be between 1 and 1000"):
        nearest(column=ITEM_EMBEDDING, vector=[1, 2, 3], k=0, metric=COSINE)
    with pytest.raises(ValueError, match="k must be between 1 and 1000"):
        nearest(column=ITEM_EMBEDDING, vector=[1, 2, 3], k=1001, metric=COSINE)


@pytest.mark.parametrize("fixture", ["documents", "half_documents"])
def test_cells_only_gives_each_rows_cell_as_its_whole_vector_does_without_reading_it(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    rows = request.getfixturevalue(fixture)
    model = type(rows[0])
    column = VectorColumn.of(model, "embedding")
    query = list(rows[3].embedding)
    whole = nearest(column=column, vector=query, k=10, metric=COSINE)
    cells = nearest(column=column, vector=query, k=10, metric=COSINE, cells_only=True)
    assert [n.id for n in cells.neighbours] == [n.id for n in whole.neighbours]
    assert [n.distances for n in cells.neighbours] == [n.distances for n in whole.neighbours]
    for by_cell, by_vector in zip(cells.neighbours, whole.neighbours, strict=True):
        assert by_cell.embedding is None
        assert by_cell.cell == column.short(by_vector.embedding)
        # The vector itself was not read: PostgreSQL gave its parts.
        assert by_cell.obj.get_deferred_fields() == {"embedding"}
    assert "subvector(" in cells.sql
    assert "subvector(" not in whole.sql


def test_cells_only_reads_a_short_vector_whole(seed_items) -> None:
    column = VectorColumn.of(Item, "embedding")
    outcome = nearest(column=column, vector=[3, 1, 2], k=3, metric=COSINE, cells_only=True)
    assert all(n.embedding is not None and n.cell is None for n in outcome.neighbours)


@pytest.mark.usefixtures("index_scans_only")
@pytest.mark.parametrize(
    ("fixture", "type_name", "metric"),
    [
        ("documents", "vector", COSINE),
        ("half_documents", "halfvec", L2),
        ("sparse_documents", "sparsevec", COSINE),
    ],
)
def test_the_query_vector_is_sent_once_for_all_its_distances_and_the_index_still_serves(
    fixture: str, type_name: str, metric, request: pytest.FixtureRequest
) -> None:
    rows = request.getfixturevalue(fixture)
    column = VectorColumn.of(type(rows[0]), "embedding")
    outcome = similar_to(obj=rows[4], column=column, k=5, metric=metric)
    assert len(outcome.neighbours) == 5
    # One literal, in the FROM, that each of the distances refers to...
    assert outcome.sql.count(f"::{type_name} AS v") == 1
    assert outcome.sql.count("'[") + outcome.sql.count("'{") == 1
    assert outcome.sql.count('"pgvector_admin_query".v') == len(column.metrics)
    # ...which PostgreSQL folds into the statement: the index scan orders by the literal.
    assert outcome.used_index, outcome.plan
    assert f"Order By: (embedding {metric.operator} '" in outcome.plan
