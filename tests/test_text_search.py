"""Search by text through the admin (tests/vector_models' Article: a 64-d WordLlama
embedding of its body, a full-text index on the body): the text's embedding searched
as a vector is, keyword ranking, and hybrid ranking compared with a reference computed
here (exact distances in numpy, every keyword rank from PostgreSQL, fused in Python)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import numpy as np
import pytest
from django.db import connection
from django.test import Client

from pgvector_admin.embedders import WordLlamaEmbedder
from pgvector_admin.embedders.backfill import embed_rows
from pgvector_admin.embedders.base import MAX_QUERY_CHARS
from pgvector_admin.embedders.fields import text_embedding
from pgvector_admin.search.keywords import keyword_indexes
from pgvector_admin.search.query_vectors import TEXT_REF_PARAM
from tests.vector_data import results_csv, url
from tests.vector_models.models import Article, Document, Snippet

pytestmark = pytest.mark.django_db

BODIES = [
    "Delay execution for a given number of seconds; the program sleeps.",
    "Pause the running thread for a while, then wake up again.",
    "Return the current time in seconds since the epoch.",
    "Open a file and return a stream; the file is closed at the end.",
    "Read the whole file and return its contents as a string.",
    "Write a string to the file and flush the stream to disk.",
    "Serialize an object to a JSON formatted string.",
    "Deserialize a JSON document to a Python object.",
    "Return the square root of x.",
    "Return e raised to the power x, the exponential function.",
    "Join one or more path components intelligently.",
    "Split the path into a pair, head and tail.",
    "Create a new socket using the address family and socket type.",
    "Connect the socket to a remote address on the network.",
    "Send data to the socket; the socket must be connected.",
    "A timer thread that calls a function after a number of seconds have passed.",
    "Schedule a callback to be called after a delay in seconds in the event loop.",
    "Compile a regular expression pattern into a pattern object.",
    "Search a string for the first match of a regular expression.",
    "Sort the list in place, stable, in ascending order.",
    "Return a new sorted list from the items in an iterable.",
    "Count the elements of an iterable, as a dictionary of counts.",
    "A double-ended queue with fast appends and pops at both ends.",
    "Copy the file and its permissions to a new file path.",
    "Remove a file; a directory cannot be removed this way.",
    "Make a directory and every missing parent directory.",
    "Run a command in a new process and wait for it to finish.",
    "Send a signal to a process, or ask it to terminate.",
    "The number of seconds a lock may wait before giving up.",
    "Parse command line arguments into a namespace of options.",
]
QUERY = "wait for a few seconds"


@pytest.fixture
def articles() -> list[Article]:
    rows = Article.objects.bulk_create(
        Article(title=f"article {i:02d}", body=body) for i, body in enumerate(BODIES, 1)
    )
    embed_rows(model=Article, field="embedding", embedding=text_embedding(Article, "embedding"))
    return rows


def search(client: Client, **params: Any) -> Any:
    return client.get(f"{url(Article, 'search')}?{urlencode(params)}")


def embedded(text: str) -> np.ndarray:
    return np.asarray(WordLlamaEmbedder(64).embed([text])[0])


def reference_vector_ranking(query: np.ndarray, ids: set[int] | None = None) -> list[int]:
    """Every row's id nearest first by exact cosine distance (ties by id)."""
    rows = [
        (pk, np.asarray(vector))
        for pk, vector in Article.objects.values_list("pk", "embedding")
        if vector is not None and (ids is None or pk in ids)
    ]
    distance = {
        pk: 1 - float(np.dot(v, query) / (np.linalg.norm(v) * np.linalg.norm(query)))
        for pk, v in rows
    }
    return sorted(distance, key=lambda pk: (distance[pk], pk))


def reference_keyword_ranking(text: str, ids: set[int] | None = None) -> list[int]:
    """Every matching row's id by ts_rank_cd (computed by PostgreSQL for every row, no
    index, no limit), ties by id."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, ts_rank_cd(to_tsvector('english', body), q) FROM "
            f"{Article._meta.db_table}, websearch_to_tsquery('english', %s) q "
            "WHERE to_tsvector('english', body) @@ q",
            [text],
        )
        scores = {pk: score for pk, score in cursor.fetchall() if ids is None or pk in ids}
    return sorted(scores, key=lambda pk: (-scores[pk], pk))


def reference_fusion(
    keyword: list[int], vector: list[int], *, k: int, depth: int, rrf_k: int, wk: float, wv: float
) -> list[tuple[int, int | None, int | None, float]]:
    keyword, vector = keyword[:depth], vector[:depth]
    rows = []
    for pk in set(keyword) | set(vector):
        kr = keyword.index(pk) + 1 if pk in keyword else None
        vr = vector.index(pk) + 1 if pk in vector else None
        score = (wk / (rrf_k + kr) if kr else 0.0) + (wv / (rrf_k + vr) if vr else 0.0)
        rows.append((pk, kr, vr, score))
    return sorted(rows, key=lambda row: (-row[3], row[0]))[:k]


def test_the_full_text_index_is_found_on_an_expression_and_on_columns() -> None:
    (on_body,) = keyword_indexes(Article)
    assert on_body.name == "article_body_fts"
    assert on_body.config == "english"
    assert "to_tsvector('english'::regconfig" in on_body.expression
    generated, on_column = keyword_indexes(Snippet)
    assert (generated.name, generated.expression, generated.config) == (
        "snippet_lexemes_gin",
        "lexemes",
        "simple",
    )
    assert (on_column.name, on_column.expression, on_column.config) == (
        "snippet_search_gin",
        "search",
        None,
    )
    assert keyword_indexes(Document) == []


@pytest.mark.parametrize("metric", ["cosine", "l2", "ip", "l1"])
def test_a_text_is_searched_as_its_embedding_by_every_metric(
    admin_client: Client, articles: list[Article], metric: str
) -> None:
    vector = "[" + ",".join(repr(float(v)) for v in embedded(QUERY)) + "]"
    by_text = results_csv(search(admin_client, text=QUERY, metric=metric, k=7, format="csv"))
    by_vector = results_csv(search(admin_client, vector=vector, metric=metric, k=7, format="csv"))
    assert [row["id"] for row in by_text] == [row["id"] for row in by_vector]
    assert len(by_text) == 7


def test_the_verdict_names_the_model_and_its_time(admin_client: Client, articles: list) -> None:
    page = search(admin_client, text=QUERY, k=3, recall=1)
    text = page.content.decode()
    assert page.status_code == 200
    assert "The text was embedded by <strong>WordLlama l2_supercat 64-d</strong>" in text
    assert " ms; that vector is the query." in text
    assert "recall@3 = 1.000" in text
    assert "Search by text or vector" in text


def test_text_search_keeps_to_the_changelists_rows_and_the_distance_bound(
    admin_client: Client, articles: list[Article]
) -> None:
    # The changelist's search box: titles with "article" and "1" in them.
    rows = results_csv(search(admin_client, text=QUERY, q="article 1", k=50, format="csv"))
    wanted = {a.pk for a in articles if "1" in a.title}
    assert {int(row["id"]) for row in rows} == wanted
    assert [int(row["id"]) for row in rows] == reference_vector_ranking(embedded(QUERY), wanted)
    near = results_csv(
        search(admin_client, text=QUERY, k=50, max_distance=0.5, exact=1, format="csv")
    )
    assert near
    assert all(float(row["cosine_distance"]) <= 0.5 for row in near)
    assert len(near) < len(BODIES)


def test_keyword_ranking_is_ts_rank_cd_then_id_with_exactly_k_rows(
    admin_client: Client, articles: list[Article]
) -> None:
    rows = results_csv(search(admin_client, text="file", mode="keyword", k=3, format="csv"))
    reference = reference_keyword_ranking("file")
    assert len(reference) > 3
    assert [int(row["id"]) for row in rows] == reference[:3]
    assert [row["keyword_rank"] for row in rows] == ["1", "2", "3"]
    assert all(row["vector_rank"] == "" for row in rows)
    every = results_csv(search(admin_client, text="file", mode="keyword", k=50, format="csv"))
    assert [int(row["id"]) for row in every] == reference
    nothing = results_csv(search(admin_client, text="zebra", mode="keyword", format="csv"))
    assert nothing == []


@pytest.mark.parametrize(
    ("text", "weights"),
    [
        ("seconds", {}),
        ("file stream", {}),
        ("socket", {"keyword_weight": 2, "vector_weight": 0.5, "rrf_k": 10}),
        ("zebra crossing", {}),  # no keyword match: the vector ranking alone
    ],
)
def test_hybrid_ranks_are_the_references_reciprocal_rank_fusion(
    admin_client: Client, articles: list[Article], text: str, weights: dict[str, Any]
) -> None:
    k = 8
    rows = results_csv(
        search(admin_client, text=text, mode="hybrid", k=k, exact=1, format="csv", **weights)
    )
    expected = reference_fusion(
        reference_keyword_ranking(text),
        reference_vector_ranking(embedded(text)),
        k=k,
        depth=100,
        rrf_k=weights.get("rrf_k", 60),
        wk=weights.get("keyword_weight", 1.0),
        wv=weights.get("vector_weight", 1.0),
    )
    assert len(rows) == k
    got = [
        (
            int(row["id"]),
            int(row["keyword_rank"]) if row["keyword_rank"] else None,
            int(row["vector_rank"]) if row["vector_rank"] else None,
            float(row["score"]),
        )
        for row in rows
    ]
    assert got == expected


def test_hybrid_keeps_both_rankings_to_the_changelists_rows(
    admin_client: Client, articles: list[Article]
) -> None:
    wanted = {a.pk for a in articles if "1" in a.title}
    rows = results_csv(
        search(admin_client, text="file", mode="hybrid", q="article 1", exact=1, format="csv")
    )
    expected = reference_fusion(
        reference_keyword_ranking("file", wanted),
        reference_vector_ranking(embedded("file"), wanted),
        k=10,
        depth=100,
        rrf_k=60,
        wk=1.0,
        wv=1.0,
    )
    assert [int(row["id"]) for row in rows] == [pk for pk, *_ in expected]
    assert {int(row["id"]) for row in rows} <= wanted


def test_the_hybrid_page_shows_both_rankings_and_their_sql(
    admin_client: Client, articles: list[Article]
) -> None:
    page = search(admin_client, text="seconds", mode="hybrid", match="any")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Keyword ranking:" in text
    assert "article_body_fts" in text
    assert "reciprocal rank fusion" in text
    assert "fused score" in text
    assert "keyword rank" in text
    assert 'class="keyword-sql"' in text
    assert "ts_rank_cd" in text


def test_any_word_matches_rows_that_lack_some_of_the_words(
    admin_client: Client, articles: list[Article]
) -> None:
    text = "pause the program for a few seconds"
    every = results_csv(search(admin_client, text=text, mode="keyword", format="csv"))
    anyword = results_csv(
        search(admin_client, text=text, mode="keyword", match="any", k=50, format="csv")
    )
    assert every == []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {Article._meta.db_table} WHERE to_tsvector('english', body) "
            "@@ to_tsquery('english', 'pause | program | seconds')"
        )
        (matching,) = cursor.fetchone()
    assert len(anyword) == matching > 3


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"text": ""}, "text", "Type some text to search for (or paste a query vector)."),
        ({"text": "   "}, "text", "Type some text to search for"),
        ({"text": "x" * 102_400}, "text", f"at most {MAX_QUERY_CHARS:,}"),
        ({"text": "a", "vector": "[1]"}, None, "with a query vector or with text, not both"),
        ({"mode": "keyword", "vector": "[1]"}, "text", "Searching by keyword needs text."),
        (
            {"mode": "hybrid", "text": "file", "max_distance": 0.3},
            "max_distance",
            "vector search only",
        ),
        ({"mode": "hybrid", "text": "file", "rrf_k": 0}, "rrf_k", "greater than or equal to 1"),
        ({"mode": "sideways", "text": "file"}, "mode", "Select a valid choice"),
    ],
)
def test_bad_text_queries_get_a_clear_message(
    admin_client: Client, articles: list, params: dict[str, Any], field: str | None, message: str
) -> None:
    page = search(admin_client, **params)
    assert page.status_code == 400
    text = page.content.decode()
    assert message in text.replace("&#x27;", "'").replace("&quot;", '"')


def test_text_on_a_field_without_an_embedder_says_so(admin_client: Client) -> None:
    Snippet.objects.create(text="hello", embedding=[0.1] * 64, sketch=[1, 2, 3])
    page = admin_client.get(f"{url(Snippet, 'search')}?text=hello&field=sketch")
    assert page.status_code == 400
    assert "sketch has no embedder to turn text into a vector" in page.content.decode()
    # A model with no embedder at all has no text field on its form.
    page = admin_client.get(f"{url(Document, 'search')}?text=hello")
    assert page.status_code == 400
    assert "This field is required." in page.content.decode()


def test_a_long_text_is_posted_and_kept_by_reference(
    admin_client: Client, articles: list[Article]
) -> None:
    text = "세 번째 질문: 몇 초 동안 프로그램을 멈추려면? " * 40  # 9 bytes a character, encoded
    posted = admin_client.post(url(Article, "search"), {"text": text, "k": 4})
    assert posted.status_code == 303
    assert TEXT_REF_PARAM in posted["Location"]
    assert "text=" not in posted["Location"]
    page = admin_client.get(posted["Location"])
    assert page.status_code == 200
    assert "The text was embedded by" in page.content.decode()
    short = admin_client.post(url(Article, "search"), {"text": QUERY})
    assert "text=wait+for+a+few+seconds" in short["Location"]


def test_the_pictures_of_a_hybrid_search_answer(admin_client: Client, articles: list) -> None:
    page = admin_client.get(
        f"{url(Article, 'search_points')}?{urlencode({'text': 'file', 'mode': 'hybrid'})}"
    )
    assert page.status_code == 200
    data = page.json()
    assert len(data["neighbours"]["ids"]) == 10


def test_rows_not_embedded_yet_are_found_by_keyword_and_shown_without_distances(
    admin_client: Client, articles: list[Article]
) -> None:
    Article.objects.filter(body__contains="JSON").update(embedding=None)
    rows = results_csv(search(admin_client, text="JSON", mode="hybrid", format="csv"))
    json_rows = [row for row in rows if "JSON" in Article.objects.get(pk=row["id"]).body]
    assert len(json_rows) == 2
    assert all(row["cosine_distance"] == "" and row["vector_rank"] == "" for row in json_rows)
    page = search(admin_client, text="JSON", mode="hybrid")
    assert page.status_code == 200
    assert "not embedded yet" in page.content.decode()
    # A vector search leaves them out.
    by_vector = results_csv(search(admin_client, text="JSON", k=50, format="csv"))
    assert len(by_vector) == len(BODIES) - 2
