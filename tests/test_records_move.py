"""A database made before the vector admin became the app ``pgvector_admin`` (its
records then in ``catalog``) migrates with its task history, saved search settings,
long query vectors, index permission grants and queued tasks kept."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from pgvector_admin.models import QueryVector, SearchDefault, TaskProgress
from pgvector_admin.tasks.jobs import import_file

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("catalog", "0007_query_vectors"), ("pgvector_admin", None)]


def migrate(targets: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def old_database() -> Iterator[None]:
    """The schema as today's ``main`` left it before the move; back to the newest after."""
    migrate(BEFORE)
    try:
        yield
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_an_old_database_keeps_its_records_grants_and_queued_tasks(old_database) -> None:
    user = User.objects.create_user("indexer", is_staff=True)
    group = Group.objects.create(name="index keepers")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_content_type (app_label, model) "
            "VALUES ('catalog', 'taskprogress') RETURNING id"
        )
        content_type = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO auth_permission (name, content_type_id, codename) "
            "VALUES ('Can create, rebuild and drop vector indexes', %s, 'manage_vector_indexes') "
            "RETURNING id",
            [content_type],
        )
        permission = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO auth_user_user_permissions (user_id, permission_id) VALUES (%s, %s)",
            [user.pk, permission],
        )
        cursor.execute(
            "INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (%s, %s)",
            [group.pk, permission],
        )
        cursor.execute(
            "INSERT INTO catalog_taskprogress (id, task_id, title, started_by_id, created, "
            "updated, phase, done, total, report, kind, arguments, cancel_requested, download) "
            "VALUES (41, 'queued-1', 'Import of rows.csv', %s, now(), now(), 'done', 27, 27, "
            "'{\"new\": 27}', 'import', '{\"token\": \"t\"}', false, '')",
            [user.pk],
        )
        cursor.execute(
            'INSERT INTO catalog_searchdefault (id, index_name, "table", setting_name, value, '
            "recall, k, target, queries, saved_by_id, saved_at) VALUES (7, 'item_idx', "
            "'catalog_item', 'hnsw.ef_search', 80, 0.97, 10, 0.95, 100, %s, now())",
            [user.pk],
        )
        cursor.execute(
            "INSERT INTO catalog_queryvector (digest, text, created) "
            "VALUES ('ab12', '[1,2,3]', now())"
        )
        queued = uuid.uuid4()
        cursor.execute(
            "INSERT INTO django_tasks_database_dbtaskresult (id, status, enqueued_at, "
            "args_kwargs, priority, task_path, worker_ids, queue_name, backend_name, "
            "run_after, exception_class_path, traceback) VALUES (%s, 'READY', now(), "
            "'{\"args\": [], \"kwargs\": {}}', 0, 'catalog.tasks.import_file', '[]', "
            "'default', 'default', %s, 'catalog.task_runs.WorkerLost', '')",
            [queued, timezone.now()],
        )

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    progress = TaskProgress.objects.get()
    assert (progress.pk, progress.title, progress.started_by, progress.report) == (
        41,
        "Import of rows.csv",
        user,
        {"new": 27},
    )
    # New rows' ids come after the copied ones.
    assert TaskProgress.objects.create(title="next").pk == 42
    saved = SearchDefault.objects.get()
    assert (saved.pk, saved.index_name, saved.value, saved.saved_by) == (7, "item_idx", 80, user)
    assert QueryVector.objects.get().text == "[1,2,3]"
    user = User.objects.get(pk=user.pk)  # a fresh permission cache
    assert user.has_perm("pgvector_admin.manage_vector_indexes")
    assert group.permissions.get().natural_key() == (
        "manage_vector_indexes",
        "pgvector_admin",
        "taskprogress",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT task_path, exception_class_path FROM django_tasks_database_dbtaskresult "
            "WHERE id = %s",
            [queued],
        )
        task_path, exception_path = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM django_content_type WHERE app_label = 'catalog' "
            "AND model IN ('taskprogress', 'searchdefault', 'queryvector')"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT to_regclass('catalog_taskprogress')")
        assert cursor.fetchone()[0] is None
    # The queued task still names a task the worker can import.
    assert task_path == import_file.module_path
    assert exception_path == "pgvector_admin.tasks.runs.WorkerLost"


def test_a_new_database_has_the_records_in_the_apps_own_tables() -> None:
    assert TaskProgress._meta.db_table == "pgvector_admin_taskprogress"
    assert SearchDefault._meta.db_table == "pgvector_admin_searchdefault"
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('catalog_taskprogress'), to_regclass('catalog_item')")
        assert cursor.fetchone() == (None, "catalog_item")
