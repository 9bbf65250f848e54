"""The security review's smaller findings, each shown fixed: "start again" asks the
permission the task needs now, index names are quoted whatever they hold, unreadable
parameters are a 400, the panel survives a statement without SQL, a task's state is
looked at only by who may see it, and pasted curve vectors are capped."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client, override_settings

from catalog.models import Item
from pgvector_admin.admin import tasks as task_admin
from pgvector_admin.db.identifiers import identifier
from pgvector_admin.indexes.builds import drop_index, index_validity
from pgvector_admin.models import TaskProgress
from pgvector_admin.tasks.jobs import cancel, start_index_change
from pgvector_admin.toolbar.panel import VectorSearchPanel
from tests.factories import task_url
from tests.test_index_page import THE_QUEUE, run_worker
from tests.vector_data import admin_url
from tests.vector_models.models import Document


def index_manager() -> tuple[User, Client]:
    user = User.objects.create_user("indexer", password="pw", is_staff=True)
    for codename in ("view_document", "manage_vector_indexes"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def extra_index():
    """Makes an index on the documents' table by hand; every one is gone after the test
    (a transactional test keeps what it made)."""
    made: list[str] = []

    def make(name: str) -> None:
        made.append(name)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE INDEX {identifier(name)} "
                "ON vector_models_document USING hnsw (embedding vector_l2_ops)"
            )

    yield make
    with connection.cursor() as cursor:
        for name in made:
            cursor.execute(f"DROP INDEX IF EXISTS {identifier(name)}")


@pytest.mark.django_db(transaction=True)
def test_start_again_refuses_a_user_who_lost_the_permission(extra_index) -> None:
    extra_index("doomed_idx")
    user, client = index_manager()
    with override_settings(TASKS=THE_QUEUE):
        progress = start_index_change(
            model=Document, action="drop", names=["doomed_idx"], user=user
        )
        cancel(progress)
        user.user_permissions.remove(Permission.objects.get(codename="manage_vector_indexes"))
        page = client.get(task_url(progress.pk)).content.decode()
        assert "Start it again" not in page
        response = client.post(task_url(progress.pk, "again"), follow=True)
        assert "cannot be started again" in response.content.decode()
        assert "pgvector_admin.manage_vector_indexes" in response.content.decode()
        run_worker()
    assert index_validity("doomed_idx") is True
    assert TaskProgress.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_refuses_a_queued_task_whose_starter_lost_the_permission(
    extra_index,
) -> None:
    extra_index("doomed_idx")
    user, _ = index_manager()
    with override_settings(TASKS=THE_QUEUE):
        progress = start_index_change(
            model=Document, action="drop", names=["doomed_idx"], user=user
        )
        user.user_permissions.remove(Permission.objects.get(codename="manage_vector_indexes"))
        run_worker()
    progress.refresh_from_db()
    assert progress.phase == "failed"
    assert "Not run: indexer may no longer manage vector indexes" in progress.report["reason"]
    assert index_validity("doomed_idx") is True


@pytest.mark.django_db(transaction=True)
def test_an_index_name_with_quotes_drops_exactly_that_index(extra_index) -> None:
    odd = 'public"."x_idx'
    extra_index("x_idx")
    extra_index(odd)
    _, client = index_manager()
    with override_settings(TASKS=THE_QUEUE):
        client.post(admin_url(Document, "indexes"), {"action": "drop", "name": odd})
        run_worker()
    assert index_validity(odd) is None
    assert index_validity("x_idx") is True
    assert drop_index("x_idx") == "dropped"
    assert index_validity("x_idx") is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalog/item/?label=%00",
        "/admin/catalog/item/?q=%00",
        "/admin/catalog/item/search/?vector=1,2,3&k=%00",
        "/admin/catalog/item/search/?vector=1,2,3%00",
        "/admin/catalog/item/search/?vector=1,2,3&q%00=x",
        "/admin/catalog/item/search/points/?vector=1,2,3&label=%00",
        "/admin/catalog/item/map/?colour=%00",
        "/admin/catalog/item/map/points/?q=%FF%FE",
        "/admin/catalog/item/indexes/?format=%00",
        "/admin/catalog/item/1%00/similar/",
        "/admin/catalog/item/export/?q=%C3%28",
    ],
)
def test_nul_or_undecodable_parameters_are_a_400_that_names_them(admin_client, url) -> None:
    Item.objects.create(id=1, label="x", embedding=[1, 2, 3])
    response = admin_client.get(url)
    assert response.status_code == 400
    text = response.content.decode()
    assert "NUL character" in text or "not UTF-8 text" in text


@pytest.mark.django_db
def test_a_nul_in_a_posted_form_is_a_400_and_writes_nothing(admin_client) -> None:
    Item.objects.create(id=1, label="x", embedding=[1, 2, 3])
    response = admin_client.post(
        "/admin/catalog/item/", {"action": "delete_selected", "_selected_action": ["1\x00"]}
    )
    assert response.status_code == 400
    assert Item.objects.count() == 1


def test_the_panel_skips_a_statement_without_sql() -> None:
    class Toolbar:
        stats = {"SQLPanel": {"queries": [{"sql": None, "duration": 1.0, "alias": "default"}]}}

    panel = VectorSearchPanel.__new__(VectorSearchPanel)
    panel.toolbar = Toolbar()
    recorded = {}
    panel.record_stats = recorded.update
    panel.generate_stats(None, None)
    assert recorded == {"queries": [], "time": 0, "embeddings": []}


@pytest.mark.django_db
def test_a_tasks_state_is_not_worked_on_for_who_may_not_see_it(admin_user, monkeypatch) -> None:
    progress = TaskProgress.objects.create(title="t", kind="export", started_by=admin_user)
    reaped = []
    monkeypatch.setattr(task_admin, "reap_lost_tasks", lambda: reaped.append(1))
    stranger = User.objects.create_user("stranger", password="pw", is_staff=True)
    client = Client()
    client.force_login(stranger)
    assert client.get(task_url(progress.pk, "state")).status_code == 404
    assert reaped == []


@pytest.mark.django_db
def test_pasted_curve_vectors_are_capped_with_the_number_said(admin_client, documents) -> None:
    lines = "\n".join(["0," * 767 + "1"] * 1001)
    response = admin_client.post(
        admin_url(Document, "indexes"),
        {
            "action": "measure",
            "name": "document_embedding_hnsw",
            "queries": "100",
            "k": "10",
            "target": "0.99",
            "vectors": lines,
        },
        follow=True,
    )
    text = response.content.decode()
    assert "At most 1,000 query vectors can be measured at once; 1,001 were pasted" in text
    assert TaskProgress.objects.count() == 0
