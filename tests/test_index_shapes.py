"""Indexes on expressions of a vector column (a cast to halfvec, a binary quantization)
and partial indexes: which search each serves, in what query shape, what the page
says of it; exact mode stays numpy's answer."""

from __future__ import annotations

import re

import numpy as np
import pytest
from django.test import Client

from pgvector_admin.indexes.shapes import IndexShape, shape_of
from pgvector_admin.search.catalogue import column_indexes
from pgvector_admin.search.index_choice import index_for
from pgvector_admin.search.searches import nearest
from pgvector_admin.vectors.fields import VectorColumn
from tests.vector_data import assert_same_answer, exact_answer, results_csv, url
from tests.vector_models.models import Document, Passage

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("key", "shape"),
    [
        ("embedding", IndexShape("embedding")),
        ('"Embedding"', IndexShape("Embedding")),
        ("(embedding::halfvec(768))", IndexShape("embedding", "halfvec", 768)),
        ("((embedding)::halfvec(768))", IndexShape("embedding", "halfvec", 768)),
        (
            "(binary_quantize(embedding)::bit(768))",
            IndexShape("embedding", "bit", 768, quantized=True),
        ),
        ("lower(title)", None),
        ("(embedding::bit(768))", None),
        ("(binary_quantize(embedding)::halfvec(768))", None),
    ],
)
def test_index_keys_are_read_as_postgresql_writes_them(key: str, shape: IndexShape | None) -> None:
    assert shape_of(key) == shape


def passage_column() -> VectorColumn:
    return VectorColumn.of(Passage, "embedding")


def test_every_index_on_the_column_or_an_expression_of_it_is_found() -> None:
    indexes = {index.name: index for index in column_indexes(passage_column())}
    assert set(indexes) == {"passage_half_cosine", "passage_bits_hamming", "passage_abstract_l2"}
    assert indexes["passage_abstract_l2"].predicate == "((kind)::text = 'abstract'::text)"
    assert indexes["passage_half_cosine"].predicate is None
    assert indexes["passage_half_cosine"].shape == IndexShape("embedding", "halfvec", 768)


def test_each_metric_gets_the_index_that_can_serve_it() -> None:
    column = passage_column()
    chosen = {metric.name: index_for(column, metric) for metric in column.metrics}
    # Cosine: the halfvec cast with halfvec_cosine_ops. The others: the bits, re-ranked;
    # never the partial L2 index, which holds abstracts only.
    assert chosen["cosine"].name == "passage_half_cosine"
    assert {chosen[name].name for name in ("l2", "ip", "l1")} == {"passage_bits_hamming"}
    # A column's own index comes first.
    document = VectorColumn.of(Document, "embedding")
    assert index_for(document, document.metric("cosine")).name == "document_embedding_hnsw"


@pytest.mark.usefixtures("index_scans_only")
def test_a_halfvec_cast_index_serves_cosine_in_its_own_query_shape(passages) -> None:
    column = passage_column()
    query = np.asarray(passages[7].embedding, dtype=np.float64) + 0.01
    outcome = nearest(
        column=column, vector=query.tolist(), k=10, metric=column.metric("cosine"), with_recall=True
    )
    assert outcome.scan_index == "passage_half_cosine"
    # Ordered by the indexed expression, to the query cast the same way.
    key = r'\("vector_models_passage"\."embedding"\)::halfvec\(768\)'
    assert re.search(key + r" <=> \('\[[^']*\]'\)::halfvec\(768\)", outcome.sql)
    assert len(outcome.neighbours) == 10
    distances = [n.distance(outcome.metric) for n in outcome.neighbours]
    assert distances == sorted(distances)  # sorted again by the exact distance
    assert outcome.recall is not None
    assert outcome.recall >= 0.9
    assert any("holds embedding::halfvec(768)" in note for note in outcome.notes)


@pytest.mark.usefixtures("index_scans_only")
def test_a_binary_quantized_index_gives_candidates_re_ranked_exactly(passages) -> None:
    column = passage_column()
    query = np.asarray(passages[3].embedding, dtype=np.float64) + 0.01
    outcome = nearest(
        column=column, vector=query.tolist(), k=10, metric=column.metric("l2"), with_recall=True
    )
    assert outcome.scan_index == "passage_bits_hamming"
    assert "binary_quantize" in outcome.sql
    assert "<~>" in outcome.sql
    assert len(outcome.neighbours) == 10
    distances = [n.distance(outcome.metric) for n in outcome.neighbours]
    assert distances == sorted(distances)
    assert outcome.recall is not None
    assert any("re-ranked by the exact L2 distance" in note for note in outcome.notes)
    # The partial L2 index is named, and why it could not serve.
    assert any(
        "passage_abstract_l2 covers only the rows where" in note
        and "a search over every row cannot use it" in note
        for note in outcome.notes
    )


@pytest.mark.parametrize("metric", ["cosine", "l2", "ip", "l1"])
def test_exact_mode_is_numpys_answer_whatever_the_indexes(
    admin_client: Client, passages, metric: str
) -> None:
    query = np.random.default_rng(3).normal(size=768)
    rows = results_csv(
        admin_client.get(
            url(Passage, "search"),
            {
                "vector": ",".join(f"{v:.6f}" for v in query),
                "metric": metric,
                "k": 10,
                "exact": 1,
                "format": "csv",
            },
        )
    )
    expected = exact_answer(Passage, "embedding", np.round(query, 6), metric, 10)
    assert_same_answer(rows, expected, metric)


@pytest.mark.usefixtures("index_scans_only")
@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_the_similar_page_through_an_expression_index_returns_k_rows_and_says_how(
    admin_client: Client, passages, metric: str
) -> None:
    target = passages[11]
    response = admin_client.get(
        url(Passage, "similar", target.pk), {"metric": metric, "k": 25, "recall": 1}
    )
    assert response.status_code == 200
    outcome = response.context["outcome"]
    assert len(outcome.neighbours) == 25
    assert target.pk not in [n.id for n in outcome.neighbours]
    page = response.content.decode()
    assert f"Served by the index <code>{outcome.scan_index}</code>" in page
    assert 'class="index-note"' in page
    assert "recall@25" in page


@pytest.mark.usefixtures("index_scans_only")
def test_a_partial_index_serves_a_condition_that_implies_its_predicate(
    admin_client: Client, passages
) -> None:
    target = passages[1]  # an abstract
    response = admin_client.get(
        url(Passage, "similar", target.pk), {"metric": "l2", "k": 10, "kind__exact": "abstract"}
    )
    outcome = response.context["outcome"]
    assert outcome.scan_index == "passage_abstract_l2"
    assert len(outcome.neighbours) == 10
    kinds = dict(Passage.objects.values_list("pk", "kind"))
    assert {kinds[n.id] for n in outcome.neighbours} == {"abstract"}
    assert not any("passage_abstract_l2 covers only" in note for note in outcome.notes)
    # Bodies: the condition does not imply the predicate, and the page says so.
    response = admin_client.get(
        url(Passage, "similar", target.pk), {"metric": "l2", "k": 10, "kind__exact": "body"}
    )
    outcome = response.context["outcome"]
    assert outcome.scan_index != "passage_abstract_l2"
    assert {kinds[n.id] for n in outcome.neighbours} == {"body"}
    assert any("the search's condition does not imply it" in note for note in outcome.notes)
