"""Embedding rows (pgvector_admin.embedders.backfill, the embed task, the embeddings
page, save-time embedding, ``embed_rows``): on tests/vector_models' Article, whose
body is embedded by WordLlama 64-d (slowed down in the worker, to catch it mid-way)."""

from __future__ import annotations

import os
import signal
from io import StringIO
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command
from django.test import Client

from pgvector_admin.embedders import EmbedderError, WordLlamaEmbedder
from pgvector_admin.embedders.backfill import embed_rows
from pgvector_admin.embedders.fields import text_embedding
from pgvector_admin.models import TaskProgress
from pgvector_admin.tasks.jobs import start_embedding
from pgvector_admin.tasks.runs import LOST_REASON
from tests.factories import task_url
from tests.test_task_faults import phase, wait_for, worker
from tests.vector_data import url
from tests.vector_models.embedders import PACE_VARIABLE, PacedEmbedder
from tests.vector_models.models import Article, Document

MARK = [1.0] + [0.0] * 63  # a vector no text embeds to


def embedded(text: str) -> np.ndarray:
    return np.asarray(WordLlamaEmbedder(64).embed([text])[0])


def add_articles(count: int, *, vector: list[float] | None = None) -> list[Article]:
    return Article.objects.bulk_create(
        Article(title=f"a{i}", body=f"article number {i} about files and seconds", embedding=vector)
        for i in range(count)
    )


def with_vector() -> int:
    return Article.objects.filter(embedding__isnull=False).count()


def marked() -> int:
    return Article.objects.filter(embedding=MARK).count()


# Saved in the admin -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_row_added_in_the_admin_is_embedded_from_its_text(admin_client: Client) -> None:
    response = admin_client.post(
        url(Article, "add"), {"title": "sleep", "body": "Delay execution for seconds."}
    )
    assert response.status_code == 302
    article = Article.objects.get()
    assert np.allclose(article.embedding, embedded("Delay execution for seconds."), atol=1e-6)


@pytest.mark.django_db
def test_a_changed_text_is_embedded_again_and_an_unchanged_one_is_not(
    admin_client: Client,
) -> None:
    article = Article.objects.create(title="t", body="old text", embedding=MARK)
    change = url(Article, "change", article.pk)
    admin_client.post(change, {"title": "new title", "body": "old text"})
    article.refresh_from_db()
    assert list(article.embedding) == MARK  # only the title changed
    admin_client.post(change, {"title": "new title", "body": "a JSON decoder"})
    article.refresh_from_db()
    assert np.allclose(article.embedding, embedded("a JSON decoder"), atol=1e-6)
    admin_client.post(change, {"title": "new title", "body": ""})
    article.refresh_from_db()
    assert article.embedding is None


@pytest.mark.django_db
def test_an_embedder_that_fails_on_save_leaves_the_vector_and_says_so(
    admin_client: Client,
) -> None:
    article = Article.objects.create(title="t", body="old", embedding=MARK)
    with mock.patch.object(PacedEmbedder, "embed", side_effect=EmbedderError("service down")):
        response = admin_client.post(
            url(Article, "change", article.pk), {"title": "t", "body": "new"}
        )
    listed = admin_client.get(response["Location"])
    said = [str(message) for message in listed.context["messages"]]
    assert "embedding was not embedded again: service down" in said
    article.refresh_from_db()
    assert (article.body, list(article.embedding)) == ("new", MARK)


# The backfill -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_backfill_embeds_only_the_rows_without_a_vector() -> None:
    done = add_articles(3, vector=MARK)
    waiting = add_articles(5)
    Article.objects.filter(pk=waiting[0].pk).update(body="")
    report = embed_rows(
        model=Article,
        field="embedding",
        embedding=text_embedding(Article, "embedding"),
        batch=2,
    )
    assert (report.embedded, report.empty) == (4, 1)
    assert marked() == 3
    assert with_vector() == 7
    row = Article.objects.get(pk=waiting[1].pk)
    assert np.allclose(row.embedding, embedded(row.body), atol=1e-6)
    assert report.last_pk == waiting[-1].pk
    assert {a.pk for a in done} <= set(
        Article.objects.filter(embedding=MARK).values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_every_row_again_after_a_checkpoint() -> None:
    rows = add_articles(6, vector=MARK)
    report = embed_rows(
        model=Article,
        field="embedding",
        embedding=text_embedding(Article, "embedding"),
        every=True,
        after=rows[2].pk,
    )
    assert report.embedded == 3
    assert set(Article.objects.filter(embedding=MARK).values_list("pk", flat=True)) == {
        row.pk for row in rows[:3]
    }


# The page and the task ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_embeddings_page_counts_and_starts_the_task(admin_client: Client) -> None:
    add_articles(4, vector=MARK)
    add_articles(3)
    page = admin_client.get(url(Article, "embeddings"))
    text = page.content.decode()
    assert page.status_code == 200
    assert '<span class="with-vector">4</span> of 7' in text
    assert "WordLlama l2_supercat 64-d" in text
    assert (
        url(Article, "embeddings") in admin_client.get(url(Article, "changelist")).content.decode()
    )
    started = admin_client.post(url(Article, "embeddings"), {"field": "embedding", "every": "0"})
    progress = TaskProgress.objects.get()
    assert started["Location"] == task_url(progress.pk)
    assert progress.phase == "done"
    assert progress.report["embedded"] == 3
    assert marked() == 4
    assert with_vector() == 7
    task_page = admin_client.get(task_url(progress.pk)).content.decode()
    assert "Embedded 3 articles" in task_page
    admin_client.post(url(Article, "embeddings"), {"field": "embedding", "every": "1"})
    assert marked() == 0


@pytest.mark.django_db
def test_only_those_who_may_change_rows_embed_them(client: Client) -> None:
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_article"))
    client.force_login(user)
    page = client.get(url(Article, "embeddings")).content.decode()
    assert "Re-embed every row" not in page
    refused = client.post(url(Article, "embeddings"), {"field": "embedding", "every": "1"})
    assert refused.status_code == 403
    assert TaskProgress.objects.count() == 0
    # The worker asks again: a task started by someone who may no longer change rows.
    progress = start_embedding(model=Article, field="embedding", user=user)
    progress.refresh_from_db()
    assert progress.report["reason"].startswith("Not run: viewer may no longer change articles")


@pytest.mark.django_db
def test_a_model_without_embedders_has_no_embeddings_page(admin_client: Client) -> None:
    page = admin_client.get("/admin/vector_models/document/embeddings/")
    assert page.status_code in {302, 404}
    assert "Embeddings" not in admin_client.get(url(Document, "changelist")).content.decode()


# The command --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_embeds_and_reports() -> None:
    add_articles(5)
    out = StringIO()
    call_command(
        "embed_rows", "--model", "vector_models.Article", "--field", "embedding", stdout=out
    )
    assert "Embedded 5 rows of vector_models.Article.embedding with WordLlama" in out.getvalue()
    assert with_vector() == 5
    add_articles(3)
    bar = StringIO()
    call_command(
        "embed_rows",
        "--model=vector_models.Article",
        "--field=embedding",
        "--all",
        "--batch=2",
        verbosity=2,
        stdout=StringIO(),
        stderr=bar,
    )
    assert "] 8 / 8 rows, " in bar.getvalue()
    assert "rows/s, 0 s left" in bar.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--model", "nope.Nothing", "--field", "x"], "No model 'nope.Nothing'"),
        (["--model", "vector_models.Document", "--field", "embedding"], "has no embedder"),
        (
            ["--model", "vector_models.Article", "--field", "embedding", "--batch", "0"],
            "at least 1",
        ),
    ],
)
def test_the_command_refuses_what_it_cannot_do(arguments: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("embed_rows", *arguments)


# Against a real worker ----------------------------------------------------------------

ROWS = 2_000  # four batches of 512, a second each in the worker


@pytest.fixture
def paced_worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv(PACE_VARIABLE, "1.0")
    return lambda: worker(tmp_path / "worker.log")


@pytest.mark.django_db(transaction=True)
def test_cancel_keeps_the_batches_done_and_starting_again_goes_on(
    admin_user, admin_client: Client, paced_worker
) -> None:
    add_articles(ROWS)
    progress = start_embedding(model=Article, field="embedding", user=admin_user, backend="queue")
    with paced_worker():
        wait_for(lambda: phase(progress) == "embedding" and progress.done >= 512, what="a batch")
        # The page's live figures: rows done of all, rows a second, time left.
        state = admin_client.get(task_url(progress.pk, "state")).json()
        assert state["total"] == ROWS
        assert state["done"] >= 512
        assert state["rate"] > 0
        assert state["seconds_left"] > 0
        assert admin_client.post(task_url(progress.pk, "cancel")).status_code == 302
        wait_for(lambda: phase(progress) == "cancelled", what="the cancel")
        kept = with_vector()
        assert 512 <= kept < ROWS
        assert kept % 512 == 0
        page = admin_client.get(task_url(progress.pk)).content.decode()
        assert "keep their new vectors" in page
        again = admin_client.post(task_url(progress.pk, "again"))
        restarted = TaskProgress.objects.exclude(pk=progress.pk).get()
        assert again["Location"] == task_url(restarted.pk)
        wait_for(lambda: phase(restarted) == "done", what="the task started again")
    assert restarted.report["embedded"] == ROWS - kept
    assert with_vector() == ROWS


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_is_noticed_and_the_task_goes_on_from_its_checkpoint(
    admin_user, admin_client: Client, paced_worker
) -> None:
    add_articles(ROWS, vector=MARK)
    progress = start_embedding(
        model=Article, field="embedding", every=True, user=admin_user, backend="queue"
    )
    with paced_worker() as process:
        wait_for(lambda: phase(progress) == "embedding" and progress.done >= 512, what="a batch")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    state_url = task_url(progress.pk, "state")
    wait_for(lambda: admin_client.get(state_url).json()["phase"] == "failed", what="failed")
    assert admin_client.get(state_url).json()["reason"] == LOST_REASON
    progress.refresh_from_db()
    checkpoint = progress.arguments["after"]
    redone = ROWS - marked()  # rows embedded before the kill
    assert redone >= 512
    assert Article.objects.filter(pk__lte=checkpoint).exclude(embedding=MARK).count() == redone
    again = admin_client.post(task_url(progress.pk, "again"))
    assert again.status_code == 302
    restarted = TaskProgress.objects.exclude(pk=progress.pk).get()
    assert restarted.arguments["after"] == checkpoint
    with paced_worker():
        wait_for(lambda: phase(restarted) == "done", what="the task started again")
    restarted.refresh_from_db()
    # Only the rows after the checkpoint were embedded the second time.
    assert restarted.report["embedded"] == ROWS - redone
    assert restarted.report["resumed_after"] == checkpoint
    assert marked() == 0
