"""The recall/latency curve (pgvector_admin.indexes.tuning): its numbers against numpy's
exact answer, its CSV, its recommendation saved as an index's search setting and used
by searches."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from pgvector_admin.indexes.tuning import Curve, CurvePoint, ladder, measure_curve, sample_queries
from pgvector_admin.models import SearchDefault, TaskProgress
from pgvector_admin.search.catalogue import vector_indexes
from pgvector_admin.search.searches import nearest
from pgvector_admin.vectors.fields import vector_columns
from pgvector_admin.vectors.metrics import COSINE
from tests.factories import task_url
from tests.vector_data import admin_url, exact_answer
from tests.vector_models.models import Document

THE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def document_index():
    (index,) = vector_indexes(Document._meta.db_table)
    return index


@pytest.mark.django_db
def test_the_curves_recall_is_what_numpys_exact_answer_says(documents) -> None:
    column = vector_columns(Document)[0]
    queries = sample_queries(column, 20)
    assert queries == sample_queries(column, 20)  # the same rows each time
    curve = measure_curve(
        column=column, metric=COSINE, index=document_index(), k=10, queries=queries
    )
    assert [point.setting for point in curve.points] == [10, 20, 40, 80, 160, 320, 640, 1000]
    truth = [
        {pk for pk, _ in exact_answer(Document, "embedding", np.asarray(query), "cosine", 10)}
        for query in queries
    ]
    assert [set(ids) for ids in curve.exact_ids] == truth
    for point in curve.points:
        returned = curve.found[point.setting]
        recall = np.mean(
            [len(set(ids) & want) / 10 for ids, want in zip(returned, truth, strict=True)]
        )
        assert point.recall == round(float(recall), 4)
        assert 0 < point.p50_ms <= point.p95_ms
    # ef_search above the table's 300 rows visits them all: every answer is exact.
    assert curve.points[-1].recall == 1.0
    assert curve.recommended is not None
    assert curve.recommended.recall >= 0.99


def test_the_recommendation_is_the_smallest_setting_reaching_the_target() -> None:
    points = [
        CurvePoint(10, 0.90, 1.0, 2.0),
        CurvePoint(20, 0.985, 1.2, 2.2),
        CurvePoint(40, 0.992, 1.5, 2.5),
        CurvePoint(80, 0.999, 2.0, 3.0),
    ]
    curve = Curve("i", "hnsw", "hnsw.ef_search", "cosine", 10, 100, 0.99, points, 9.0, 9.5, 1.0)
    assert curve.recommended.setting == 40
    curve.target = 0.9999
    assert curve.recommended is None
    rows = list(csv.reader(io.StringIO(curve.csv())))
    assert rows[0] == ["ef_search", "recall", "p50_ms", "p95_ms"]
    assert rows[3] == ["40", "0.9920", "1.500", "2.500"]
    assert Curve.from_dict(curve.as_dict()) == curve


def test_an_ivfflat_ladder_doubles_probes_up_to_its_lists() -> None:
    from pgvector_admin.search.catalogue import VectorIndex

    index = VectorIndex("i", "ivfflat", "vector_l2_ops", "... WITH (lists='100')", "e")
    assert ladder(index, 10) == [1, 2, 4, 8, 16, 32, 64, 100]


@pytest.mark.django_db
def test_a_saved_setting_is_what_searches_run_with_and_they_say_so(documents) -> None:
    column = vector_columns(Document)[0]
    vector = column.type.query(documents[0].embedding)
    default = nearest(column=column, vector=vector, k=10, metric=COSINE)
    assert default.settings["hnsw.ef_search"] == "100"
    assert "the app's default, 100" in default.setting_source
    SearchDefault.objects.create(
        index_name="document_embedding_hnsw",
        table=Document._meta.db_table,
        setting_name="hnsw.ef_search",
        value=40,
        recall=0.995,
        k=10,
        target=0.99,
        queries=100,
    )
    tuned = nearest(column=column, vector=vector, k=10, metric=COSINE)
    assert tuned.settings["hnsw.ef_search"] == "40"
    assert "hnsw.ef_search = 40 saved for document_embedding_hnsw" in tuned.setting_source
    # A plain HNSW scan returns at most ef_search rows: more rows asked, more searched.
    wide = nearest(column=column, vector=vector, k=60, metric=COSINE)
    assert wide.settings["hnsw.ef_search"] == "60"
    assert exact_setting(column, vector) == "off"


def exact_setting(column, vector) -> str:
    return nearest(column=column, vector=vector, k=10, metric=COSINE, exact=True).settings[
        "enable_indexscan"
    ]


@pytest.mark.django_db(transaction=True)
def test_the_index_page_measures_the_curve_then_saves_its_recommendation(
    admin_client: Client, documents
) -> None:
    url = admin_url(Document, "indexes")
    page = admin_client.get(url).content.decode()
    assert "Measure the recall curve" in page
    with override_settings(TASKS=THE_QUEUE):
        queued = admin_client.post(
            url,
            {
                "action": "measure",
                "name": "document_embedding_hnsw",
                "queries": "20",
                "k": "10",
                "target": "0.99",
            },
        )
        task = TaskProgress.objects.get(kind="curve")
        assert queued["Location"] == task_url(task.pk)
        call_command(
            "db_worker", "--batch", "--interval", "0", "--no-startup-delay", stdout=io.StringIO()
        )
    task.refresh_from_db()
    assert task.phase == "done"
    recommended = task.report["recommended"]
    shown = admin_client.get(queued["Location"]).content.decode()
    assert '<svg class="recall-curve"' in shown
    assert f"Recommended: <strong><code>hnsw.ef_search = {recommended}</code>" in shown
    csv_text = admin_client.get(f"{url}?format=csv&curve={task.pk}").content.decode()
    assert csv_text.splitlines()[0] == "ef_search,recall,p50_ms,p95_ms"
    assert len(csv_text.splitlines()) == 1 + len(task.report["points"])
    saved = admin_client.post(url, {"action": "save_default", "curve": str(task.pk)})
    assert saved.status_code == 302
    default = SearchDefault.objects.get()
    assert (default.index_name, default.value) == ("document_embedding_hnsw", recommended)
    assert default.saved_by.username == "admin"
    page = admin_client.get(url).content.decode()
    assert f"hnsw.ef_search = {recommended} saved for document_embedding_hnsw by admin" in page


@pytest.mark.django_db
def test_a_curve_for_pasted_query_vectors(admin_client: Client, documents) -> None:
    url = admin_url(Document, "indexes")
    lines = [", ".join(f"{v:.5f}" for v in documents[i].embedding) for i in (3, 30, 300 - 1)]
    admin_client.post(
        url,
        {
            "action": "measure",
            "name": "document_embedding_hnsw",
            "queries": "100",
            "k": "5",
            "target": "0.99",
            "vectors": "\n".join(lines),
        },
    )
    task = TaskProgress.objects.get(kind="curve")  # run at once by the tests' backend
    assert (task.phase, task.report["queries"], task.report["k"]) == ("done", 3, 5)
    assert task.report["source"] == "your vectors"
    page = admin_client.get(task_url(task.pk)).content.decode()
    assert "3 queries (your vectors)" in page


@pytest.mark.django_db
def test_a_pasted_vector_of_the_wrong_length_measures_nothing(
    admin_client: Client, documents
) -> None:
    response = admin_client.post(
        admin_url(Document, "indexes"),
        {
            "action": "measure",
            "name": "document_embedding_hnsw",
            "queries": "100",
            "k": "10",
            "target": "0.99",
            "vectors": "1, 2, 3",
        },
        follow=True,
    )
    assert "Nothing measured: query 1: expected 768 dimensions, not 3" in (
        response.content.decode()
    )
    assert not TaskProgress.objects.exists()
