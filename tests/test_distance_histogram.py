"""How near the neighbours are (pgvector_admin.search.histogram): the sampled distances
against numpy's, the sample read with TABLESAMPLE, and the picture on the pages."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pgvector_admin.search.histogram import distance_sample, histogram_svg, ordinal
from pgvector_admin.vectors.fields import vector_columns
from pgvector_admin.vectors.metrics import COSINE
from tests.vector_data import admin_url, as_array, distances_of
from tests.vector_models.models import Document

pytestmark = pytest.mark.django_db


def cosine_distances(query: np.ndarray) -> np.ndarray:
    matrix = np.asarray([as_array(v) for v in Document.objects.values_list("embedding", flat=True)])
    norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(query)
    return 1 - matrix @ query / norms


def test_a_small_table_gives_every_rows_distance_as_numpy_computes_it(documents) -> None:
    column = vector_columns(Document)[0]
    query = as_array(documents[5].embedding)
    truth = np.sort(cosine_distances(query))
    sample = distance_sample(column=column, vector=list(query), metric=COSINE, neighbours=[])
    assert not sample.sampled
    assert np.allclose(np.sort(sample.distances), truth, atol=1e-6)
    # The 10 nearest, as PostgreSQL computes them (as a search's neighbours are).
    sample.neighbours = list(np.sort(sample.distances)[:10])
    assert sample.as_near_share == pytest.approx(10 / len(truth))
    picture = histogram_svg(sample)
    assert picture.startswith('<svg class="distance-histogram"')
    assert picture.count('class="neighbour"') == 10
    assert 'class="kth"' in picture
    assert "10th neighbour" in picture


def test_a_big_table_is_sampled_by_pages_without_reading_it_all(documents) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE vector_models_document")  # the planner's row estimate
    column = vector_columns(Document)[0]
    query = as_array(documents[0].embedding)
    with CaptureQueriesContext(connection) as queries:
        sample = distance_sample(
            column=column, vector=list(query), metric=COSINE, neighbours=[0.1], rows=50
        )
    assert sample.sampled
    assert 0 < len(sample.distances) <= 50
    (sql,) = [q["sql"] for q in queries.captured_queries if "TABLESAMPLE" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Sample Scan on vector_models_document" in plan
    truth = cosine_distances(query)
    for distance in sample.distances:  # each a real row's distance
        assert np.min(np.abs(truth - distance)) < 1e-6


def test_the_search_and_similar_pages_show_how_near_the_neighbours_are(
    admin_client: Client, documents
) -> None:
    similar = admin_client.get(admin_url(Document, "similar", documents[3].pk), {"k": "5"})
    assert "How near are they?" in similar.content.decode()
    # The page carries no sample: its histogram is asked for after it, with its query.
    assert "distance-histogram" not in similar.content.decode()
    distances = distances_of(admin_client, similar)
    assert distances.status_code == 200
    html = distances.content.decode()
    assert html.count('<svg class="distance-histogram"') == 1
    assert "every one of the table's 299 rows" in html  # the row itself left out
    assert "as near as the 5th neighbour" in html
    assert "<html" not in html  # a part of the page, not a page
    # Followed as a link, without the page's script: a page of its own.
    page = admin_client.get(distances.request["PATH_INFO"] + "?k=5")
    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert '<svg class="distance-histogram"' in page.content.decode()
    assert f'href="{admin_url(Document, "similar", documents[3].pk)}?k=5"' in page.content.decode()

    vector = ",".join(str(value) for value in documents[0].embedding)
    search = admin_client.get(admin_url(Document, "search"), {"vector": vector, "k": "3"})
    html = distances_of(admin_client, search).content.decode()
    assert "every one of the table's 300 rows" in html
    assert "as near as the 3rd neighbour" in html


def test_the_histogram_says_why_it_cannot_be_drawn(admin_client: Client, documents) -> None:
    bad = admin_client.get(admin_url(Document, "search/distances"), {"vector": "1,2", "k": "3"})
    assert bad.status_code == 400
    assert bad["Content-Type"].startswith("text/plain")
    assert "dimensions" in bad.content.decode()
    missing = admin_client.get(admin_url(Document, "similar/distances", 10**9))
    assert missing.status_code == 404
    assert "No document with id" in missing.content.decode()


def test_the_pages_read_no_sample_of_the_table(admin_client: Client, documents) -> None:
    with CaptureQueriesContext(connection) as page:
        admin_client.get(admin_url(Document, "similar", documents[3].pk), {"k": "5"})
    assert not any("TABLESAMPLE" in q["sql"] or "sampled_distance" in q["sql"] for q in page)


@pytest.mark.parametrize(
    ("number", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (22, "22nd")]
)
def test_ordinals(number: int, text: str) -> None:
    assert ordinal(number) == text
