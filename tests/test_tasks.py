"""The task queue: an import queued, then run by the worker (``db_worker``), writing
its progress as it goes and its report at the end."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django_tasks_db.models import DBTaskResult

from catalog.models import Item
from pgvector_admin.indexes.builds import index_validity, rebuild_name
from pgvector_admin.models import TaskProgress
from pgvector_admin.tasks.jobs import start_import
from pgvector_admin.transfer.services import export_vectors
from pgvector_admin.transfer.uploads import save_upload, upload_dir
from tests.factories import task_url
from tests.vector_data import admin_url
from tests.vector_models.models import Document

pytestmark = pytest.mark.django_db(transaction=True)


def run_worker(backend: str = "queue") -> None:
    """The queue's worker, in this process, until the queue is empty."""
    call_command(
        "db_worker",
        "--batch",
        "--interval",
        "0",
        "--no-startup-delay",
        "--backend",
        backend,
        stdout=io.StringIO(),
    )


def queued(content: bytes, **kwargs) -> TaskProgress:
    token = save_upload([content])
    return start_import(token=token, model=Item, file_name="vectors.csv", backend="queue", **kwargs)


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


THE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def test_the_admins_confirm_queues_the_import_and_its_page_follows_it(
    admin_client: Client,
) -> None:
    content = b'label,embedding\nfirst,"[1,2,3]"\nsecond,"4,5,6"\nthird,7 8 9\n'
    with override_settings(TASKS=THE_QUEUE):
        preview = admin_client.post(
            "/admin/catalog/item/import/",
            {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("v.csv", content)},
        )
        form = preview.context["confirm_form"]
        confirmed = admin_client.post(
            "/admin/catalog/item/process_import/",
            {name: form.initial.get(name, "") for name in form.fields},
        )
        assert confirmed.status_code == 302
        page_url = confirmed["Location"]
        progress = TaskProgress.objects.get()
        assert page_url == task_url(progress.pk)
        # Queued, not run: the request only put it on the queue.
        waiting = admin_client.get(page_url).content.decode()
        assert "This page updates by itself" in waiting
        assert 'data-finished="false"' in waiting
        state_url = task_url(progress.pk, "state")
        state = admin_client.get(state_url).json()
        assert (state["phase"], state["finished"], state["status"]) == ("waiting", False, "READY")
        assert Item.objects.count() == 0
        run_worker("default")
        state = admin_client.get(state_url).json()
        assert (state["phase"], state["finished"], state["status"]) == ("done", True, "SUCCESSFUL")
        done = admin_client.get(page_url).content.decode()
        assert "Import finished: 3 new, 0 updated items from v.csv" in done
        assert Item.objects.count() == 3
        listing = admin_client.get("/admin/pgvector_admin/taskprogress/").content.decode()
        assert "Import of v.csv into items" in listing
        assert "admin" in listing  # who started it


def test_a_failed_task_shows_as_failed_with_its_reason(admin_client: Client) -> None:
    progress = queued(b'label,embedding\na,"[1,2,3]"\n')
    # The upload vanished before the worker ran: the task fails, and says why.
    for path in upload_dir().iterdir():
        path.unlink()
    run_worker()
    state = admin_client.get(task_url(progress.pk, "state")).json()
    assert (state["phase"], state["finished"], state["status"]) == ("failed", True, "FAILED")
    assert "uploaded file is gone" in state["reason"]
    page = admin_client.get(task_url(progress.pk)).content.decode()
    assert "The task failed." in page


def test_someone_elses_task_is_not_shown(admin_user, django_user_model) -> None:
    progress = queued(b'label,embedding\na,"[1,2,3]"\n', user=admin_user)
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client = Client()
    client.force_login(staff)
    response = client.get(task_url(progress.pk, "state"))
    assert response.status_code == 404
    assert "Import of" not in client.get("/admin/pgvector_admin/taskprogress/").content.decode()


def test_the_index_page_builds_a_missing_index_then_rebuilds_it_in_the_worker(
    admin_client: Client,
) -> None:
    Document.objects.bulk_create(
        Document(title=f"d{i}", embedding=[float(i % 7 + 1)] * 768) for i in range(50)
    )
    name = "document_embedding_hnsw"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {name}")
    page_url = admin_url(Document, "indexes")
    assert (
        "vector_models/document/indexes/"
        in admin_client.get(admin_url(Document, "")).content.decode()
    )  # the changelist links to it
    page = admin_client.get(page_url).content.decode()
    assert name in page
    assert "missing" in page
    assert "Build the missing declared indexes (1)" in page
    with override_settings(TASKS=THE_QUEUE):
        queued = admin_client.post(page_url, {"action": "build"})
        build = TaskProgress.objects.get()
        assert queued["Location"] == task_url(build.pk)
        assert build.title == f"Build of {name} on documents"
        assert index_validity(name) is None  # queued, not run
        run_worker("default")
        build.refresh_from_db()
        assert (build.phase, build.report["indexes"]) == ("done", {name: "built"})
        assert index_validity(name) is True
        assert "valid" in admin_client.get(page_url).content.decode()
        admin_client.post(page_url, {"action": "rebuild", "name": name})
        run_worker("default")
    rebuild = TaskProgress.objects.exclude(pk=build.pk).get()
    assert (rebuild.phase, rebuild.report["indexes"]) == ("done", {name: "rebuilt"})
    assert index_validity(name) is True
    assert index_validity(rebuild_name(name)) is None
    done = admin_client.get(task_url(rebuild.pk)).content.decode()
    assert f"<code>{name}</code> rebuilt" in done


def test_an_export_of_more_than_a_page_is_written_by_the_worker_then_downloaded(
    admin_client: Client,
) -> None:
    Item.objects.bulk_create(Item(label=f"row {i}", embedding=[i, 1, 2]) for i in range(1, 151))
    fields = {f"itemresource_{name}": "on" for name in ("id", "label", "embedding")}
    with override_settings(TASKS=THE_QUEUE):
        queued = admin_client.post(
            "/admin/catalog/item/export/", {"format": "0", "resource": "0", **fields}
        )
        export = TaskProgress.objects.get()
        assert queued["Location"] == task_url(export.pk)
        run_worker("default")
    export.refresh_from_db()
    assert (export.phase, export.report["rows"]) == ("done", 150)
    page = admin_client.get(queued["Location"]).content.decode()
    assert "Export ready: 150 rows" in page
    download = admin_client.get(task_url(export.pk, "download"))
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    expected = io.BytesIO()
    export_vectors(expected, model=Item)
    assert b"".join(download.streaming_content) == expected.getvalue()


def test_an_export_of_a_page_or_less_still_streams_at_once(admin_client: Client) -> None:
    Item.objects.bulk_create(Item(label=f"row {i}", embedding=[i, 1, 2]) for i in range(1, 11))
    fields = {f"itemresource_{name}": "on" for name in ("id", "label", "embedding")}
    response = admin_client.post(
        "/admin/catalog/item/export/", {"format": "0", "resource": "0", **fields}
    )
    assert response.status_code == 200
    assert response.streaming
    assert not TaskProgress.objects.exists()


def test_a_replace_import_through_the_admin_runs_in_the_worker(admin_client: Client) -> None:
    Item.objects.create(label="old", embedding=[1, 1, 1])
    content = b'label,embedding\nnew one,"[1,2,3]"\nnew two,"[3,2,1]"\n'
    with override_settings(TASKS=THE_QUEUE):
        preview = admin_client.post(
            "/admin/catalog/item/import/",
            {
                "format": "0",
                "resource": "0",
                "replace": "on",
                "import_file": SimpleUploadedFile("v.csv", content),
            },
        )
        form = preview.context["confirm_form"]
        assert form.initial["replace"] is True
        confirmed = admin_client.post(
            "/admin/catalog/item/process_import/",
            {name: form.initial.get(name, "") for name in form.fields},
        )
        progress = TaskProgress.objects.get()
        assert progress.arguments["replace"] is True
        assert progress.title == "Import of v.csv into items, replacing its rows"
        assert Item.objects.filter(label="old").exists()
        run_worker("default")
    progress.refresh_from_db()
    assert progress.phase == "done"
    assert sorted(Item.objects.values_list("label", flat=True)) == ["new one", "new two"]
    assert confirmed.status_code == 302


def test_a_big_upload_is_checked_by_the_worker_then_imported_from_its_page(
    admin_client: Client,
) -> None:
    content = b"label,embedding\n" + b"".join(
        f'row {i},"[{i},1,2]"\n'.encode() for i in range(1, 501)
    )
    with override_settings(TASKS=THE_QUEUE, PGVECTOR_ADMIN={"IMPORT_PREVIEW_MAX_BYTES": 1000}):
        uploaded = admin_client.post(
            "/admin/catalog/item/import/",
            {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("big.csv", content)},
        )
        check = TaskProgress.objects.get()
        assert uploaded["Location"] == task_url(check.pk)
        assert (check.kind, check.title) == ("check", "Check of big.csv for items")
        run_worker("default")
        page = admin_client.get(uploaded["Location"]).content.decode()
        assert "500 rows of big.csv checked" in page
        assert "500 new" in page
        assert "Confirm import" in page
        assert Item.objects.count() == 0  # checked, not written
        confirmed = admin_client.post(task_url(check.pk, "import"))
        imported = TaskProgress.objects.get(kind="import")
        assert confirmed["Location"] == task_url(imported.pk)
        # Confirming twice queues one import.
        admin_client.post(task_url(check.pk, "import"))
        assert TaskProgress.objects.filter(kind="import").count() == 1
        run_worker("default")
    imported.refresh_from_db()
    assert (imported.phase, imported.report["new"]) == ("done", 500)
    assert Item.objects.count() == 500


def test_a_big_bad_upload_is_refused_by_the_worker_with_every_bad_line(
    admin_client: Client,
) -> None:
    before = set(upload_dir().iterdir())
    content = b'label,embedding\na,"[1,2,3]"\nb,"[1,2]"\n' + b'c,"[1,1,1]"\n' * 100
    with override_settings(TASKS=THE_QUEUE, PGVECTOR_ADMIN={"IMPORT_PREVIEW_MAX_BYTES": 100}):
        admin_client.post(
            "/admin/catalog/item/import/",
            {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("bad.csv", content)},
        )
        run_worker("default")
    check = TaskProgress.objects.get()
    assert check.phase == "refused"
    assert [bad["line"] for bad in check.report["errors"]] == [3]
    page = admin_client.get(task_url(check.pk)).content.decode()
    assert "1 bad line" in page
    assert "Confirm import" not in page
    assert set(upload_dir().iterdir()) - before == set()
