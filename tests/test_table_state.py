"""What the pages keep per process (pgvector_admin.search.table_state): a table's vector
indexes, the search settings saved for them and the changelist's index warnings, each
made again as soon as the table's stamp says the database changed, whoever changed it."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pgvector_admin.models import SearchDefault
from pgvector_admin.search.scan_settings import search_facts
from pgvector_admin.search.searches import nearest
from pgvector_admin.search.table_state import table_cache, table_stamp
from pgvector_admin.vectors.fields import vector_columns
from pgvector_admin.vectors.metrics import L2
from tests.vector_data import admin_url
from tests.vector_models.models import Document

TABLE = Document._meta.db_table


def column():
    return vector_columns(Document)[0]


def stamp():
    return table_stamp(TABLE)


@pytest.mark.django_db
def test_the_stamp_changes_with_each_index_and_saved_setting_and_only_then(documents) -> None:
    first = stamp()
    assert stamp() == first
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX extra_l2 ON {TABLE} USING hnsw (embedding vector_l2_ops)")
        created = stamp()
        assert created.catalogue != first.catalogue
        cursor.execute("ALTER INDEX extra_l2 RENAME TO extra_l2_renamed")
        renamed = stamp()
        assert renamed.catalogue != created.catalogue
        SearchDefault.objects.create(
            index_name="extra_l2_renamed",
            table=TABLE,
            setting_name="hnsw.ef_search",
            value=64,
            recall=0.99,
            k=10,
            target=0.95,
            queries=20,
        )
        saved = stamp()
        assert saved.catalogue != renamed.catalogue
        SearchDefault.objects.filter(index_name="extra_l2_renamed").update(value=80)
        assert stamp().catalogue != saved.catalogue
        cursor.execute("DROP INDEX extra_l2_renamed")
        assert stamp().catalogue != saved.catalogue


@pytest.mark.django_db
def test_the_statistics_part_changes_with_rows_and_analyze(documents) -> None:
    first = stamp()
    Document.objects.bulk_create(
        Document(title=f"more {i}", embedding=documents[0].embedding) for i in range(200)
    )
    grown = stamp()
    assert grown.catalogue == first.catalogue
    assert grown.statistics != first.statistics  # the table's size
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
    assert stamp().statistics != grown.statistics


@pytest.mark.django_db
def test_a_search_reads_its_kept_facts_stamp_in_the_statement_that_sets_its_settings(
    documents,
) -> None:
    vector = list(documents[0].embedding)
    nearest(column=column(), vector=vector, k=5, metric=column().metrics[0])
    with CaptureQueriesContext(connection) as seen:
        outcome = nearest(column=column(), vector=vector, k=5, metric=column().metrics[0])
    sql = [query["sql"] for query in seen.captured_queries]
    assert not any("pg_get_indexdef" in statement for statement in sql)
    # No statement of its own: the stamp is read where the settings are set.
    stamped = [statement for statement in sql if "pg_index" in statement]
    assert len(stamped) == 1
    assert "set_config('hnsw.ef_search'" in stamped[0]
    assert [s for s in sql if "pgvector_admin_searchdefault" in s] == stamped
    assert outcome.index is not None
    assert outcome.index.name == "document_embedding_hnsw"


@pytest.mark.django_db
def test_a_search_built_from_stale_facts_is_built_again_before_its_query_runs(
    documents,
) -> None:
    vector = list(documents[0].embedding)
    assert nearest(column=column(), vector=vector, k=5, metric=L2).index is None
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX late_l2 ON {TABLE} USING hnsw (embedding vector_l2_ops)")
    with CaptureQueriesContext(connection) as seen:
        outcome = nearest(column=column(), vector=vector, k=5, metric=L2)
    assert outcome.index.name == "late_l2"
    searches = [
        q["sql"]
        for q in seen.captured_queries
        if q["sql"].startswith("SELECT") and "<->" in q["sql"]
    ]
    assert len(searches) == 1  # the stale build ran nothing but its settings statement


@pytest.mark.django_db(transaction=True)
def test_an_index_made_by_another_process_serves_the_next_search(documents) -> None:
    vector = list(documents[0].embedding)
    assert nearest(column=column(), vector=vector, k=5, metric=L2).index is None
    with psycopg.connect(
        **connection.get_connection_params(), autocommit=True
    ) as other:  # as the index page's worker, another process, would
        other.execute(f"CREATE INDEX other_l2 ON {TABLE} USING hnsw (embedding vector_l2_ops)")
        assert nearest(column=column(), vector=vector, k=5, metric=L2).index.name == "other_l2"
        other.execute(
            'INSERT INTO pgvector_admin_searchdefault (index_name, "table", setting_name, '
            "value, recall, k, target, queries, saved_at) VALUES "
            f"('other_l2', '{TABLE}', 'hnsw.ef_search', 77, 0.99, 10, 0.95, 20, now())"
        )
        outcome = nearest(column=column(), vector=vector, k=5, metric=L2)
        assert outcome.settings["hnsw.ef_search"] == "77"
        assert "hnsw.ef_search = 77 saved for other_l2" in outcome.setting_source
        other.execute("DROP INDEX other_l2")
        other.execute("DELETE FROM pgvector_admin_searchdefault")
    assert nearest(column=column(), vector=vector, k=5, metric=L2).index is None
    assert search_facts(column())[1] == {}


@pytest.mark.django_db
def test_the_changelist_warns_as_the_database_stands(admin_client: Client, documents) -> None:
    from tests.vector_models.admin import DocumentAdmin

    table_cache.clear()
    original = DocumentAdmin.vector_metric
    DocumentAdmin.vector_metric = "l2"
    try:
        warned = "No index serves the default search (embedding by L2 distance)"
        assert warned in admin_client.get(admin_url(Document, "")).content.decode()
        with CaptureQueriesContext(connection) as seen:
            assert warned in admin_client.get(admin_url(Document, "")).content.decode()
        # The second view: the stamp, no catalogue, statistics or plan.
        assert not any("pg_get_indexdef" in q["sql"] for q in seen.captured_queries)
        assert not any(q["sql"].startswith("EXPLAIN SELECT") for q in seen.captured_queries)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX now_l2 ON {TABLE} USING hnsw (embedding vector_l2_ops)")
        assert warned not in admin_client.get(admin_url(Document, "")).content.decode()
    finally:
        DocumentAdmin.vector_metric = original
