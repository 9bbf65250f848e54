"""A waiting task's page says when no task worker is running; a worker is told by
the name its database connections carry."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from pgvector_admin.admin.tasks import task_state
from pgvector_admin.models import TaskProgress
from pgvector_admin.tasks.workers import WORKER_APPLICATION_NAME, mark_worker_connections
from tests.factories import task_url

pytestmark = pytest.mark.django_db


def waiting_task(seconds: float) -> TaskProgress:
    progress = TaskProgress.objects.create(title="waiting", kind="export")
    TaskProgress.objects.filter(pk=progress.pk).update(
        created=timezone.now() - timedelta(seconds=seconds)
    )
    progress.refresh_from_db()
    return progress


def test_a_task_waiting_a_while_with_no_worker_says_so(admin_client) -> None:
    progress = waiting_task(30)
    assert task_state(progress)["no_worker"] is True
    page = admin_client.get(task_url(progress.pk)).content.decode()
    assert 'id="task-no-worker" class="errornote">No task worker is running' in page


def test_a_task_just_queued_is_not_said_to_lack_a_worker() -> None:
    assert task_state(waiting_task(2))["no_worker"] is False


def test_a_connected_worker_is_seen() -> None:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(
        **{**params, "dbname": connection.settings_dict["NAME"]},
        application_name=WORKER_APPLICATION_NAME,
    ):
        assert task_state(waiting_task(30))["no_worker"] is False


def test_only_a_db_worker_process_names_its_connections(settings) -> None:
    databases = settings.DATABASES
    mark_worker_connections(["manage.py", "runserver"])
    assert "application_name" not in databases["default"].get("OPTIONS", {})
