"""The seed's ``Item``: a 3-d embedding with an HNSW cosine index, plus a label."""

from django.db import models
from pgvector.django import HnswIndex, VectorField

INDEX_NAME = "item_embedding_hnsw_idx"
DIMENSIONS = 3


class Item(models.Model):
    # Embeddings are computed by code, never typed into a model form.
    embedding = VectorField(dimensions=DIMENSIONS, editable=False)
    label = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            HnswIndex(
                name=INDEX_NAME,
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.label or f"Item {self.pk}"


DIGIT_INDEX_NAME = "digit_image_hnsw_idx"


class Digit(models.Model):
    """A handwritten digit: an 8x8 image of pixel counts 0..16, kept as a 64-d vector.

    The second sample of the catalog: real data at a higher dimension, 1,797 rows of the
    UCI "Optical Recognition of Handwritten Digits" test set as scikit-learn ships it
    (catalog/data/README.md). Its nearest neighbour by L2 distance is nearly always the
    same digit.
    """

    digit = models.PositiveSmallIntegerField(choices=[(d, str(d)) for d in range(10)])
    image = VectorField(dimensions=64, editable=False)

    class Meta:
        indexes = [
            HnswIndex(
                name=DIGIT_INDEX_NAME,
                fields=["image"],
                m=16,
                ef_construction=64,
                opclasses=["vector_l2_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"digit {self.digit} (#{self.pk})"


class TaskProgress(models.Model):
    """What a background task (an import, an index build, an export) has done so far,
    written by the task as it goes and read by its progress page. The queue's own row
    (django-tasks-db's ``DBTaskResult``, the same id) says whether it is waiting,
    running, done or failed."""

    # The queue's id of the task (set once it is queued).
    task_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    title = models.CharField(max_length=300)
    started_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
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
    # What the task does (a name in catalog.tasks.KINDS) and with what, to start it again.
    kind = models.CharField(max_length=20, default="import")
    arguments = models.JSONField(default=dict, blank=True)
    # Set by the cancel button; the worker stops the task at its next safe point.
    cancel_requested = models.BooleanField(default=False)
    # An export's file, ready to download (a name in catalog.uploads' folder).
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
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
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
