"""A search statement run as the pages show it (pgvector_admin.search.recorded): its
rows, its SQL, its plan and its settings, the plan sent with the query in one round
trip, and the transaction around them rolled back whatever happens."""

from __future__ import annotations

import pytest
from django.db import DataError, connection
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext

from pgvector_admin.search.recorded import StaleCatalogue, run_recorded
from pgvector_admin.search.table_state import table_stamp
from tests.vector_models.models import Document


@pytest.mark.django_db(transaction=True)
def test_rows_sql_plan_and_settings_come_back_and_nothing_stays_set(documents) -> None:
    rows, sql, plan, in_force = run_recorded(
        Document.objects.order_by("id")[:3], {"hnsw.ef_search": "77"}, ["hnsw.ef_search"]
    )
    assert [row.pk for row in rows] == [document.pk for document in documents[:3]]
    assert sql.startswith('SELECT "vector_models_document"."id"')
    assert "LIMIT 3" in sql
    assert plan.startswith("Limit")
    assert in_force == {"hnsw.ef_search": "77"}
    with connection.cursor() as cursor:
        cursor.execute("SHOW hnsw.ef_search")
        assert cursor.fetchone()[0] == "40"
    assert not connection.in_atomic_block


@pytest.mark.django_db(transaction=True)
def test_the_plan_is_recorded_as_a_statement_of_its_own(documents) -> None:
    with CaptureQueriesContext(connection) as seen:
        run_recorded(Document.objects.all()[:2], {})
    statements = [query["sql"] for query in seen.captured_queries]
    assert any(s.startswith("EXPLAIN SELECT") for s in statements)
    assert sum(s.startswith('SELECT "vector_models_document"') for s in statements) == 1


@pytest.mark.django_db(transaction=True)
def test_an_error_in_the_query_is_djangos_and_leaves_the_connection_usable(documents) -> None:
    failing = Document.objects.annotate(broken=RawSQL("1 / (id - id)", []))[:2]
    with pytest.raises(DataError):
        run_recorded(failing, {"hnsw.ef_search": "50"}, ["hnsw.ef_search"])
    assert not connection.in_atomic_block
    assert Document.objects.count() == len(documents)


@pytest.mark.django_db(transaction=True)
def test_a_stamp_other_than_the_expected_one_runs_nothing(documents) -> None:
    table = Document._meta.db_table
    stale = (("1 an_index_since_dropped t t",), ())
    with CaptureQueriesContext(connection) as seen, pytest.raises(StaleCatalogue):
        run_recorded(Document.objects.all()[:2], {}, expect=(table, stale))
    assert not any('FROM "vector_models_document"' in q["sql"] for q in seen.captured_queries)
    fresh = table_stamp(table, statistics=False).catalogue
    rows = run_recorded(Document.objects.all()[:2], {}, expect=(table, fresh))[0]
    assert len(rows) == 2


@pytest.mark.django_db(transaction=True)
def test_without_pipeline_mode_each_statement_goes_on_its_own(documents, settings) -> None:
    settings.PGVECTOR_ADMIN = {"PIPELINE_MODE": False}
    pipelines = []
    original = type(connection.connection).pipeline
    connection.ensure_connection()

    def counted(self):  # type: ignore[no-untyped-def]
        pipelines.append(self)
        return original(self)

    type(connection.connection).pipeline = counted
    try:
        rows, _, plan, in_force = run_recorded(
            Document.objects.all()[:2], {"hnsw.ef_search": "60"}, ["hnsw.ef_search"]
        )
        assert pipelines == []
        settings.PGVECTOR_ADMIN = {}
        run_recorded(Document.objects.all()[:2], {"hnsw.ef_search": "60"}, ["hnsw.ef_search"])
        assert len(pipelines) == 2  # BEGIN with the settings, the plan with the query
    finally:
        type(connection.connection).pipeline = original
    assert len(rows) == 2
    assert plan.startswith("Limit")
    assert in_force == {"hnsw.ef_search": "60"}
