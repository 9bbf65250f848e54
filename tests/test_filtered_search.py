"""Filtered vector search: the nearest rows among those the changelist shows (its
search box, list filters, date hierarchy), complete at any selectivity and after mass
deletes, and every row within a distance. Compared with numpy's exact answer over the
rows the condition keeps."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.db.models import Q
from django.test import Client

from tests.vector_data import assert_same_answer, clustered, exact_answer, results_csv, url
from tests.vector_models.models import Listing

pytestmark = pytest.mark.django_db

ROWS = 10_000
QUERY = ",".join(f"{v:.6f}" for v in np.random.default_rng(11).normal(size=8))
QUERY_VECTOR = np.array([float(v) for v in QUERY.split(",")])


@pytest.fixture(scope="module")
def listings(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """10,000 rows: shard 0..9,999 in random order (a filter on it keeps any share of
    the table), one title in a hundred says "red", dates over 2024 and 2025.

    Loaded and committed once for the module (each test's own changes, such as mass
    deletes, still roll back with its transaction), without the index, which is built
    after: much faster than inserting into it row by row."""
    rng = np.random.default_rng(12)
    shards = rng.permutation(ROWS)
    vectors = clustered(ROWS, 8, seed=13, clusters=20)
    start = datetime.date(2024, 1, 1)
    index = next(i for i in Listing._meta.indexes if i.name == "listing_embedding_hnsw")
    with django_db_blocker.unblock():
        with connection.schema_editor() as editor:
            editor.remove_index(Listing, index)
        Listing.objects.bulk_create(
            [
                Listing(
                    title=f"listing {i} {'red' if i % 100 == 0 else 'blue'}",
                    shard=int(shards[i]),
                    added=start + datetime.timedelta(days=i % 730),
                    embedding=list(vectors[i]),
                )
                for i in range(ROWS)
            ],
            batch_size=2000,
        )
        with connection.schema_editor() as editor:
            editor.add_index(Listing, index)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Listing._meta.db_table}")
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Listing._meta.db_table}")


def exact_among(condition: Q, metric: str, k: int) -> list[tuple[Any, float]]:
    """numpy's k nearest among the rows ``condition`` keeps."""
    ids = set(Listing.objects.filter(condition).values_list("pk", flat=True))
    everything = exact_answer(Listing, "embedding", QUERY_VECTOR, metric, ROWS)
    return [(pk, distance) for pk, distance in everything if pk in ids][:k]


def search(client: Client, **params: Any) -> Any:
    return client.get(url(Listing, "search"), {"vector": QUERY, **params})


SELECTIVITY = [
    pytest.param({"shard__lt": "5000"}, Q(shard__lt=5000), id="list filter, 50%"),
    pytest.param({"shard__lt": "100"}, Q(shard__lt=100), id="list filter, 1%"),
    pytest.param({"shard": "7"}, Q(shard=7), id="list filter, 0.01%"),
    pytest.param({"q": "red"}, Q(title__icontains="red"), id="search box, 1%"),
    pytest.param(
        {"added__year": "2025", "added__month": "3"},
        Q(added__year=2025, added__month=3),
        id="date hierarchy, 4%",
    ),
    pytest.param(
        {"q": "red", "shard__lt": "5000"},
        Q(title__icontains="red", shard__lt=5000),
        id="search box and filter, 0.5%",
    ),
]


@pytest.mark.usefixtures("listings")
@pytest.mark.parametrize(("params", "condition"), SELECTIVITY)
def test_exact_mode_is_the_exact_answer_among_the_rows_shown(
    admin_client: Client, params: dict[str, str], condition: Q
) -> None:
    k = 10
    rows = results_csv(search(admin_client, k=k, format="csv", exact="1", **params))
    assert len(rows) == min(k, Listing.objects.filter(condition).count())
    assert_same_answer(rows, exact_among(condition, "cosine", k), "cosine")


@pytest.mark.usefixtures("listings", "index_scans_only")
@pytest.mark.parametrize(("params", "condition"), SELECTIVITY)
def test_through_the_index_k_rows_come_back_and_the_page_says_how(
    admin_client: Client, params: dict[str, str], condition: Q
) -> None:
    response = search(admin_client, k=10, recall=1, **params)
    assert response.status_code == 200
    outcome = response.context["outcome"]
    matching = Listing.objects.filter(condition).count()
    assert len(outcome.neighbours) == min(10, matching)
    allowed = set(Listing.objects.filter(condition).values_list("pk", flat=True))
    assert {n.id for n in outcome.neighbours} <= allowed
    assert outcome.recall is not None
    assert outcome.recall >= 0.8
    assert outcome.filtered
    page = response.content.decode()
    assert "Among the listings where" in page
    assert 'class="filtered-changelist"' in page
    assert "WHERE" in page


@pytest.mark.usefixtures("listings", "index_scans_only")
@pytest.mark.parametrize(
    ("params", "condition"),
    [
        pytest.param({"shard__lt": "300"}, Q(shard__lt=300), id="list filter"),
        pytest.param({"q": "red"}, Q(title__icontains="red"), id="search box"),
        pytest.param({"max_distance": "0.2"}, Q(), id="distance threshold"),
    ],
)
def test_after_mass_deletes_the_answer_is_still_complete(
    admin_client: Client, params: dict[str, str], condition: Q
) -> None:
    # 90% of the table deleted and not vacuumed: the graph still holds the dead rows.
    Listing.objects.filter(shard__gte=1000).delete()
    k = 30
    response = search(admin_client, k=k, recall=1, **params)
    outcome = response.context["outcome"]
    exact = results_csv(search(admin_client, k=k, exact=1, format="csv", **params))
    expected = exact_among(condition, "cosine", k)
    if "max_distance" in params:
        expected = [(pk, d) for pk, d in expected if d <= float(params["max_distance"])]
    assert_same_answer(exact, expected, "cosine")
    if "max_distance" in params:
        # Within a distance, through the index: approximate, like any index answer.
        assert len(outcome.neighbours) >= 0.8 * len(expected)
        assert all(n.distance(outcome.metric) <= 0.2 for n in outcome.neighbours)
    else:
        assert len(outcome.neighbours) == len(expected)
    allowed = set(Listing.objects.filter(condition).values_list("pk", flat=True))
    assert {n.id for n in outcome.neighbours} <= allowed
    assert outcome.recall >= 0.8


@pytest.mark.usefixtures("listings")
def test_the_similar_page_and_the_action_take_the_same_conditions(admin_client: Client) -> None:
    target = Listing.objects.filter(shard__lt=100).order_by("pk").first()
    response = admin_client.get(
        url(Listing, "similar", target.pk), {"k": 5, "exact": 1, "shard__lt": "100"}
    )
    outcome = response.context["outcome"]
    assert len(outcome.neighbours) == 5
    shards = dict(Listing.objects.values_list("pk", "shard"))
    assert all(shards[n.id] < 100 for n in outcome.neighbours)
    assert target.pk not in {n.id for n in outcome.neighbours}
    action = admin_client.post(
        url(Listing, "changelist") + "?shard__lt=100",
        {"action": "find_similar", "_selected_action": [str(target.pk)]},
    )
    assert action.status_code == 302
    assert action["Location"] == url(Listing, "similar", target.pk) + "?shard__lt=100"


@pytest.mark.usefixtures("listings")
def test_the_changelist_form_carries_the_lists_conditions(admin_client: Client) -> None:
    page = admin_client.get(url(Listing, "changelist"), {"q": "red", "shard__lt": "5000", "o": "2"})
    text = page.content.decode()
    assert '<input type="hidden" name="q" value="red">' in text
    assert '<input type="hidden" name="shard__lt" value="5000">' in text
    assert 'name="o"' not in text.split('class="vector-search"')[1].split("</form>")[0]
    assert "among the" in text


@pytest.mark.usefixtures("listings")
@pytest.mark.parametrize("exact", [False, True], ids=["index", "exact"])
@pytest.mark.parametrize(("metric", "limit"), [("cosine", 0.05), ("l2", 1.0), ("ip", 2.0)])
def test_every_row_within_a_distance_nearest_first(
    admin_client: Client, metric: str, limit: float, exact: bool
) -> None:
    params = {"k": 200, "metric": metric, "max_distance": limit, "format": "csv"}
    rows = results_csv(search(admin_client, **params, **({"exact": "1"} if exact else {})))
    everything = exact_answer(Listing, "embedding", QUERY_VECTOR, metric, ROWS)
    # For inner product the page shows the product: at least the given one.
    within = [(pk, d) for pk, d in everything if (-d >= limit if metric == "ip" else d <= limit)]
    expected = within[:200]
    assert expected, "the threshold should keep some rows"
    if exact:
        assert_same_answer(rows, expected, metric)
    else:
        assert len(rows) >= 0.8 * len(expected)
        column = {"cosine": "cosine_distance", "l2": "l2_distance", "ip": "inner_product"}[metric]
        values = [float(row[column]) for row in rows]
        assert all((v >= limit if metric == "ip" else v <= limit) for v in values)


@pytest.mark.usefixtures("listings")
def test_a_bad_condition_is_a_message_not_an_error(admin_client: Client) -> None:
    response = search(admin_client, nosuchfield="1")
    assert response.status_code == 400
    assert "The list&#x27;s conditions (nosuchfield) are not valid" in response.content.decode()


@pytest.mark.usefixtures("listings", "index_scans_only")
def test_the_page_says_how_many_tuples_the_iterative_scan_visited(admin_client: Client) -> None:
    # No other index serves the month: the HNSW scan filters as it goes.
    response = search(admin_client, k=10, added__year="2025", added__month="3")
    outcome = response.context["outcome"]
    assert outcome.scan_index == "listing_embedding_hnsw"
    visited, returned = outcome.tuples_visited
    assert returned == 10
    # About one row in twenty-four meets the condition: the scan visits many more.
    assert visited > 50
    page = response.content.decode()
    assert f"The index scan visited {visited:,} tuples to return 10" in page
    assert "an iterative scan (strict_order)" in page
    assert "hnsw.max_scan_tuples = 20000" in page


@pytest.mark.usefixtures("listings")
def test_a_very_selective_condition_is_read_and_sorted_and_the_page_says_so(
    admin_client: Client,
) -> None:
    # One row in 10,000: the planner finds it by the shard's btree and sorts.
    response = search(admin_client, k=10, shard="7")
    outcome = response.context["outcome"]
    assert len(outcome.neighbours) == 1
    assert not outcome.used_index
    assert "the rows the condition keeps were read and sorted" in response.content.decode()


@pytest.mark.usefixtures("listings")
def test_the_page_states_the_distance_and_the_cap(admin_client: Client) -> None:
    response = search(admin_client, k=5, max_distance="0.5")
    text = response.content.decode()
    assert "with cosine distance at most <strong>0.5</strong>, nearest first, up to k = 5" in text
    assert "The cap was reached, so there may be more" in text
    response = search(admin_client, k=1000, max_distance="0.0001")
    outcome = response.context["outcome"]
    assert len(outcome.neighbours) < 1000
    assert "The cap was reached" not in response.content.decode()


@pytest.mark.usefixtures("listings", "index_scans_only")
def test_an_index_scan_cut_short_by_max_scan_tuples_gives_the_exact_answer_and_says_why(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pgvector_admin.search import searches

    patched = searches.search_settings

    def few_tuples(**kwargs: Any) -> dict[str, str]:
        chosen = patched(**kwargs)
        return chosen if kwargs.get("exact") else {**chosen, "hnsw.max_scan_tuples": "50"}

    monkeypatch.setattr(searches, "search_settings", few_tuples)
    # One row in a hundred: 50 tuples visited find about none of them.
    response = search(admin_client, k=10, added__year="2024", added__month="2", added__day="3")
    outcome = response.context["outcome"]
    matching = Listing.objects.filter(added=datetime.date(2024, 2, 3)).count()
    assert len(outcome.neighbours) == min(10, matching)
    assert outcome.fell_back_to_exact
    assert any(
        "it visits at most hnsw.max_scan_tuples = 50 tuples" in note for note in outcome.notes
    )
