"""The vector admin's own records: background tasks' progress, the search settings
saved for an index, and query vectors too long for an address."""

from django.conf import settings
from django.db import models


class TaskProgress(models.Model):
    """What a background task (an import, an index build, an export) has done so far,
    written by the task as it goes and read by its progress page. The queue's own row
    (django-tasks-db's ``DBTaskResult``, the same id) says whether it is waiting,
    running, done or failed."""

    # The queue's id of the task (set once it is queued).
    task_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    title = models.CharField(max_length=300)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    phase = models.CharField(max_length=100, default="waiting")
    # When the phase began: its rate and time left are counted from there.
    phase_started = models.DateTimeField(null=True, blank=True)
    done = models.BigIntegerField(default=0)
    total = models.BigIntegerField(null=True, blank=True)
    # The result at the end: an import's report (rows, new, updated, bad lines...).
    report = models.JSONField(default=dict, blank=True)
    # What the task does (a name in pgvector_admin.tasks.jobs.KINDS) and with what, to
    # start it again.
    kind = models.CharField(max_length=20, default="import")
    arguments = models.JSONField(default=dict, blank=True)
    # Set by the cancel button; the worker stops the task at its next safe point.
    cancel_requested = models.BooleanField(default=False)
    # An export's file, ready to download (a name in pgvector_admin.transfer.uploads' folder).
    download = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "background task"
        verbose_name_plural = "background tasks"
        # Not about task records: the vector admin's index page checks it for any model.
        permissions = [
            ("manage_vector_indexes", "Can create, rebuild and drop vector indexes"),
        ]

    def __str__(self) -> str:
        return self.title


class SearchDefault(models.Model):
    """The search setting saved for one vector index (``hnsw.ef_search`` or
    ``ivfflat.probes``), chosen on the index page from its measured recall curve. The
    app's searches through that index run with it."""

    index_name = models.CharField(max_length=63, unique=True)
    table = models.CharField(max_length=200)
    setting_name = models.CharField(max_length=40)
    value = models.PositiveIntegerField()
    # What the curve measured at that setting, and for what.
    recall = models.FloatField()
    k = models.PositiveIntegerField()
    target = models.FloatField()
    queries = models.PositiveIntegerField()
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    saved_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.setting_name} = {self.value} for {self.index_name}"

    def describe(self) -> str:
        """Where a search's setting came from, in words."""
        by = f" by {self.saved_by}" if self.saved_by_id else ""
        return (
            f"{self.setting_name} = {self.value} saved for {self.index_name}{by} on "
            f"{self.saved_at:%Y-%m-%d}: recall@{self.k} {self.recall:.3f} over "
            f"{self.queries} sample queries (target {self.target:g})"
        )


class QueryVector(models.Model):
    """A query vector too long for an address (a 768-d or 1,536-d embedding as text is
    15 to 30 KB; servers refuse request lines over a few KB). The search form posts it;
    it is kept here under a digest of its text, and the results page's address carries
    the digest (``?vector_ref=…``), so it can be reloaded and shared."""

    digest = models.CharField(max_length=64, primary_key=True)
    text = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"query vector {self.digest[:12]}…"
