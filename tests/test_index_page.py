"""The vector admin's index page (pgvector_admin.admin.indexes,
pgvector_admin.indexes.report): what it shows of every vector index and the table,
and the changes it queues."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

from pgvector_admin.indexes.builds import index_definition, index_validity
from pgvector_admin.indexes.report import (
    HNSW_CANDIDATE_BYTES,
    HNSW_ELEMENT_BYTES,
    index_report,
    value_bytes,
)
from pgvector_admin.models import TaskProgress
from pgvector_admin.vectors.fields import vector_columns
from tests.factories import task_url
from tests.vector_data import admin_url
from tests.vector_models.models import Document, Listing, Passage, SparseDocument

THE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def run_worker() -> None:
    call_command(
        "db_worker", "--batch", "--interval", "0", "--no-startup-delay", stdout=io.StringIO()
    )


def client_with(*permissions: str) -> Client:
    user = User.objects.create_user("indexer", password="pw", is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_page_shows_every_vector_index_with_its_facts(
    admin_client: Client, passages: list[Passage]
) -> None:
    page = admin_client.get(admin_url(Passage, "indexes"))
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("passage_half_cosine", "passage_bits_hamming", "passage_abstract_l2"):
        assert f"<code>{name}</code>" in html
    assert "<code>m=16</code>" in html
    assert "halfvec_cosine_ops" in html
    assert "bit_hamming_ops" in html
    assert "where <code>((kind)::text = &#x27;abstract&#x27;::text)</code>" in html
    assert f"{len(passages):,} rows" in html
    assert "maintenance_work_mem</code> is" in html
    report = index_report(Passage)
    assert {facts.name for facts in report.indexes} == {
        "passage_half_cosine",
        "passage_bits_hamming",
        "passage_abstract_l2",
    }
    assert all(facts.valid and facts.ready and facts.declared for facts in report.indexes)
    assert all(facts.size_bytes > 0 for facts in report.indexes)
    assert report.table.rows == len(passages)
    assert report.missing == report.undeclared == report.differing == []


@pytest.mark.django_db(transaction=True)
def test_past_the_count_threshold_the_rows_are_the_planners_estimate_and_not_counted(
    admin_client: Client, passages: list[Passage]
) -> None:
    from django.test.utils import CaptureQueriesContext

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE vector_models_passage")
    threshold = len(passages) - 1
    with (
        override_settings(PGVECTOR_ADMIN={"COUNT_ESTIMATE_ABOVE": threshold}),
        CaptureQueriesContext(connection) as queries,
    ):
        html = admin_client.get(admin_url(Passage, "indexes")).content.decode()
    assert f"about {len(passages):,} rows and" in html
    assert not [q for q in queries if "count(*)" in q["sql"].lower()]
    # At the threshold and below, counted: a bulk load outruns the statistics.
    with override_settings(PGVECTOR_ADMIN={"COUNT_ESTIMATE_ABOVE": len(passages)}):
        report = index_report(Passage)
    assert report.table.rows == len(passages)
    assert not report.table.rows_estimated


@pytest.mark.django_db
def test_the_metrics_no_index_serves_are_named(admin_client: Client, documents) -> None:
    report = index_report(Document)
    assert [metric.name for _, metric in report.unserved] == ["l2", "ip", "l1"]
    html = admin_client.get(admin_url(Document, "indexes")).content.decode()
    assert "No index serves <code>embedding</code> by L2 distance" in html


@pytest.mark.django_db
def test_the_memory_a_build_needs_is_rows_times_its_graph_element(documents) -> None:
    report = index_report(Document)
    (facts,) = report.indexes
    column = vector_columns(Document)[0]
    per_row = value_bytes(column) + HNSW_ELEMENT_BYTES + 2 * 16 * HNSW_CANDIDATE_BYTES
    assert report.build_memory(facts) == len(documents) * per_row
    # As measured (pgvector_admin/indexes/report.py): 3,789 bytes a 768-d row at m = 16.
    assert per_row == 3080 + 710
    # A 768-d vector takes 3,080 bytes: 8 of header and 4 a dimension.
    assert value_bytes(column) == 3080


@pytest.mark.django_db
def test_where_the_database_differs_from_meta_indexes_is_said(admin_client: Client) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX document_embedding_hnsw")
        cursor.execute(
            "CREATE INDEX document_by_hand ON vector_models_document "
            "USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)"
        )
    report = index_report(Document)
    assert report.missing == ["document_embedding_hnsw"]
    assert report.undeclared == ["document_by_hand"]
    html = admin_client.get(admin_url(Document, "indexes")).content.decode()
    assert "<code>document_embedding_hnsw</code> is declared in <code>Meta.indexes</code>" in html
    assert (
        'HnswIndex(name="document_by_hand", fields=["embedding"], m=8, ef_construction=32, '
        'opclasses=["vector_l2_ops"])'
    ) in html.replace("&quot;", '"')


@pytest.mark.django_db
def test_viewing_needs_the_models_view_permission_and_changing_its_own() -> None:
    viewer = client_with("view_document")
    page = viewer.get(admin_url(Document, "indexes"))
    assert page.status_code == 200
    assert "Create the index" not in page.content.decode()
    refused = viewer.post(admin_url(Document, "indexes"), {"action": "build"})
    assert refused.status_code == 403
    assert not TaskProgress.objects.exists()
    nobody = Client()
    nobody.force_login(User.objects.create_user("other", password="pw", is_staff=True))
    assert nobody.get(admin_url(Document, "indexes")).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"method": "ivfflat", "metric": "cosine"}, "IVFFlat cannot index sparsevec"),
        ({"m": "32", "ef_construction": "40"}, "ef_construction must be at least twice m."),
        ({"name": "sparsedocument_hnsw"}, "already exists"),
    ],
)
def test_a_new_index_pgvector_cannot_build_is_refused_with_why(posted, message) -> None:
    client = client_with("view_sparsedocument", "manage_vector_indexes")
    data = {
        "action": "create",
        "field": "embedding",
        "metric": "l2",
        "method": "hnsw",
        "m": "16",
        "ef_construction": "64",
        "lists": "100",
        "name": "",
    } | posted
    response = client.post(admin_url(SparseDocument, "indexes"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TaskProgress.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_create_rebuild_and_drop_run_concurrently_in_the_worker(documents) -> None:
    client = client_with("view_document", "manage_vector_indexes")
    url = admin_url(Document, "indexes")
    with override_settings(TASKS=THE_QUEUE):
        created = client.post(
            url,
            {
                "action": "create",
                "field": "embedding",
                "metric": "l2",
                "method": "ivfflat",
                "m": "16",
                "ef_construction": "64",
                "lists": "4",
                "name": "",
            },
        )
        name = "vector_models_document_embedding_ivfflat_l2"
        task = TaskProgress.objects.get()
        assert created["Location"] == task_url(task.pk)
        assert task.title == f"Creation of {name} on documents"
        run_worker()
        assert index_validity(name) is True
        definition = index_definition(name)
        # PostgreSQL leaves out an opclass that is the type's default (L2 for vector).
        assert "USING ivfflat (embedding) WITH (lists='4')" in definition
        (facts,) = [f for f in index_report(Document).indexes if f.name == name]
        assert (facts.index.opclass, facts.parameters) == ("vector_l2_ops", {"lists": "4"})
        assert [m.name for _, m in index_report(Document).unserved] == ["ip", "l1"]

        client.post(url, {"action": "rebuild", "name": name})
        run_worker()
        assert index_definition(name) == definition
        rebuilt = TaskProgress.objects.latest("created")
        assert rebuilt.report["indexes"] == {name: "rebuilt"}

        client.post(url, {"action": "drop", "name": name})
        run_worker()
        assert index_validity(name) is None
        # An index not on this table is not dropped from here.
        client.post(url, {"action": "drop", "name": "item_embedding_hnsw_idx"})
    assert index_validity("item_embedding_hnsw_idx") is True
    assert TaskProgress.objects.count() == 3


def warnings_of(model, metric_name: str, report=None) -> list:
    from pgvector_admin.indexes.health import health_warnings

    column = vector_columns(model)[0]
    metric = next(m for m in column.metrics if m.name == metric_name)
    return health_warnings(model, column=column, metric=metric, report=report)


@pytest.mark.django_db(transaction=True)
def test_no_warning_for_a_healthy_index(documents) -> None:
    with connection.cursor() as cursor:
        # Earlier tests' rolled-back rows are dead row versions until a vacuum.
        cursor.execute("VACUUM ANALYZE vector_models_document")
    assert warnings_of(Document, "cosine") == []


@pytest.mark.django_db
def test_dead_rows_and_a_build_over_maintenance_work_mem_are_warned_of(documents) -> None:
    import dataclasses

    report = index_report(Document)
    report.table = dataclasses.replace(report.table, rows=700, dead_rows=300)
    report.maintenance_work_mem = 1024 * 1024
    texts = [w.text.replace("\xa0", " ") for w in warnings_of(Document, "cosine", report)]
    assert any(text.startswith("30 % of the table's row versions are dead") for text in texts)
    assert any(
        "A build of document_embedding_hnsw needs about" in text and "1.0 MB" in text
        for text in texts
    )


@pytest.mark.django_db
def test_the_default_search_served_by_no_index_is_warned_of_on_the_changelist(
    admin_client: Client, documents
) -> None:
    texts = [warning.text for warning in warnings_of(Document, "l2")]
    assert any(
        text.startswith("No index serves the default search (embedding by L2 distance)")
        for text in texts
    )
    from tests.vector_models.admin import DocumentAdmin

    original = DocumentAdmin.vector_metric
    DocumentAdmin.vector_metric = "l2"
    try:
        html = admin_client.get(admin_url(Document, "")).content.decode()
    finally:
        DocumentAdmin.vector_metric = original
    assert "No index serves the default search (embedding by L2 distance)" in html
    assert "No index serves the default search" not in (
        admin_client.get(admin_url(Document, "")).content.decode()
    )


@pytest.mark.django_db
def test_an_index_the_planner_does_not_choose_is_warned_of_with_the_plan(
    admin_client: Client,
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO vector_models_listing (title, shard, added, embedding) "
            "SELECT 'l' || g, g % 10, '2026-01-01', "
            "('[' || g % 7 + 1 || ',1,2,3,4,5,6,7]')::vector FROM generate_series(1, 1500) g"
        )
        cursor.execute("ANALYZE vector_models_listing")
        assert [w for w in warnings_of(Listing, "cosine") if w.plan] == []
        cursor.execute("SET enable_indexscan = off")  # as a planner that prefers a scan
    (warning,) = [w for w in warnings_of(Listing, "cosine") if w.plan]
    assert warning.text.startswith("The planner does not choose listing_embedding_hnsw")
    assert "Seq Scan on vector_models_listing" in warning.plan
    html = admin_client.get(admin_url(Listing, "indexes")).content.decode()
    assert "The planner does not choose listing_embedding_hnsw" in html
    assert "Seq Scan on vector_models_listing" in html


@pytest.mark.django_db(transaction=True)
def test_a_failed_rebuild_leaves_no_invalid_index_and_says_why(admin_client: Client) -> None:
    import threading
    import time

    import psycopg

    from pgvector_admin.indexes.builds import rebuild_name
    from pgvector_admin.tasks.jobs import start_index_change
    from tests.test_task_faults import documents_with_their_index, invalid_indexes

    name = documents_with_their_index(8000)
    params = connection.get_connection_params()

    def cancel_the_build_from_outside() -> None:
        # As a DBA's pg_cancel_backend, or a statement timeout: not the task's cancel.
        with psycopg.connect(**params, autocommit=True) as other:
            for _ in range(600):
                row = other.execute(
                    "SELECT pid FROM pg_stat_progress_create_index "
                    "WHERE relid = 'vector_models_document'::regclass AND tuples_done > 0"
                ).fetchone()
                if row:
                    other.execute("SELECT pg_cancel_backend(%s)", [row[0]])
                    return
                time.sleep(0.05)

    outsider = threading.Thread(target=cancel_the_build_from_outside)
    with override_settings(TASKS=THE_QUEUE):
        progress = start_index_change(model=Document, action="rebuild", names=[name])
        outsider.start()
        run_worker()
        outsider.join(timeout=60)
    state = admin_client.get(task_url(progress.pk, "state")).json()
    assert (state["phase"], state["status"]) == ("failed", "FAILED")
    assert "canceling statement due to user request" in state["reason"]
    assert index_validity(name) is True  # the old index serves on
    assert index_validity(rebuild_name(name)) is None
    assert invalid_indexes() == 0
