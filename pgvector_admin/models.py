"""The vector admin's own records: background tasks' progress, the search settings
saved for an index, and query vectors too long for an address."""

from django.conf import settings
from django.db import models
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class TaskProgress(models.Model):
    """What a background task (an import, an index build, an export) has done so far,
    written by the task as it goes and read by its progress page. The queue's own row
    (django-tasks-db's ``DBTaskResult``, the same id) says whether it is waiting,
    running, done or failed."""

    # The queue's id of the task (set once it is queued).
    task_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    title = models.CharField(_("title"), max_length=300)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("started by"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    phase = models.CharField(_("phase"), max_length=100, default="waiting")
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
    # The language of whoever started the task: the worker writes its report in it.
    language = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("background task")
        verbose_name_plural = _("background tasks")
        # Not about task records: the vector admin's index page checks it for any model.
        permissions = [
            ("manage_vector_indexes", _("Can create, rebuild and drop vector indexes")),
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
        values = {
            "setting": f"{self.setting_name} = {self.value}",
            "index": self.index_name,
            "user": self.saved_by,
            "date": date_format(self.saved_at, "SHORT_DATE_FORMAT"),
            "k": self.k,
            "recall": f"{self.recall:.3f}",
            "queries": self.queries,
            "target": f"{self.target:g}",
        }
        if self.saved_by_id:
            return (
                gettext(
                    "%(setting)s saved for %(index)s by %(user)s on %(date)s: recall@%(k)s "
                    "%(recall)s over %(queries)s sample queries (target %(target)s)"
                )
                % values
            )
        return (
            gettext(
                "%(setting)s saved for %(index)s on %(date)s: recall@%(k)s %(recall)s over "
                "%(queries)s sample queries (target %(target)s)"
            )
            % values
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
