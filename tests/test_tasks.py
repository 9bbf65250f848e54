"""The task queue: an import queued, then run by the worker (``db_worker``), writing
its progress as it goes and its report at the end."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from catalog.models import Item, TaskProgress
from catalog.tasks import start_import
from catalog.uploads import save_upload, upload_dir

pytestmark = pytest.mark.django_db(transaction=True)


def run_worker() -> None:
    """The queue's worker, in this process, until the queue is empty."""
    call_command(
        "db_worker", "--batch", "--interval", "0", "--no-startup-delay", stdout=io.StringIO()
    )


def queued(content: bytes, **kwargs) -> TaskProgress:
    token = save_upload([content])
    return start_import(token=token, model=Item, file_name="vectors.csv", **kwargs)


def test_a_queued_import_runs_in_the_worker_and_reports(admin_user) -> None:
    lines = b"".join(f'row {i},"[{i},1,2]"\n'.encode() for i in range(1, 2001))
    progress = queued(b"label,embedding\n" + lines, user=admin_user)
    assert progress.phase == "waiting"
    assert progress.started_by == admin_user
    assert DBTaskResult.objects.get(id=progress.task_id).status == "READY"
    assert Item.objects.count() == 0  # nothing happens until a worker runs it
    run_worker()
    progress.refresh_from_db()
    assert DBTaskResult.objects.get(id=progress.task_id).status == "SUCCESSFUL"
    assert progress.phase == "done"
    assert progress.report["rows"] == 2000
    assert progress.report["new"] == 2000
    assert progress.report["written"] is True
    assert Item.objects.count() == 2000
    assert progress.title == "Import of vectors.csv into items"


def test_a_bad_file_is_refused_in_the_worker_with_every_bad_line(admin_user) -> None:
    progress = queued(b'label,embedding\na,"[1,2,3]"\nb,"[1,2]"\nc,"[x,1,1]"\n')
    run_worker()
    progress.refresh_from_db()
    assert progress.phase == "refused"
    assert progress.report["written"] is False
    errors = [(bad["line"], bad["reason"]) for bad in progress.report["errors"]]
    assert [line for line, _ in errors] == [3, 4]
    assert errors[0][1].startswith("embedding: expected 3 dimensions, not 2")
    assert errors[1][1] == "embedding: Value 1 ('x') is not a number."
    assert Item.objects.count() == 0


def test_the_upload_is_removed_after_the_task(admin_user) -> None:
    before = set(upload_dir().iterdir())
    progress = queued(b'label,embedding\na,"[1,2,3]"\n')
    assert len(set(upload_dir().iterdir()) - before) == 1
    run_worker()
    progress.refresh_from_db()
    assert progress.phase == "done"
    assert set(upload_dir().iterdir()) - before == set()


def test_two_imports_queued_together_run_one_after_the_other() -> None:
    first = queued(b'label,embedding\nfirst,"[1,2,3]"\n')
    second = queued(b'label,embedding\nsecond,"[3,2,1]"\n')
    run_worker()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.phase, second.phase) == ("done", "done")
    assert sorted(Item.objects.values_list("label", flat=True)) == ["first", "second"]
    runs = DBTaskResult.objects.filter(id__in=[first.task_id, second.task_id])
    started = sorted(runs, key=lambda run: run.started_at)
    assert started[0].finished_at <= started[1].started_at
