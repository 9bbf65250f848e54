"""The demo's tables: the seed's ``Item`` (a 3-d embedding with an HNSW cosine index, plus a
label), the handwritten digits, and the standard library's docstrings."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
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


DOC_INDEX_NAME = "docstring_embedding_hnsw_idx"
DOC_TEXT_INDEX_NAME = "docstring_text_fts_idx"
DOC_DIMENSIONS = 256


class Docstring(models.Model):
    """A public module, class, function or method of Python's standard library and its
    docstring: the text corpus (catalog/stdlib_docs.py), searched by text through its
    embedding (WordLlama, 256-d) and by keyword through its full-text index."""

    class Kind(models.TextChoices):
        MODULE = "module"
        CLASS = "class"
        FUNCTION = "function"
        METHOD = "method"

    qualname = models.CharField(max_length=200, unique=True, help_text="For example time.sleep.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    module = models.CharField(max_length=100, db_index=True)
    text = models.TextField(help_text="The docstring; its embedding is made from it.")
    # The text's lexemes, kept by PostgreSQL itself: the keyword search's full-text
    # index is on it, and ranking reads it instead of parsing every matching text again.
    search = models.GeneratedField(
        expression=SearchVector("text", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    # Made from the text by the admin on save, or in the background for many rows.
    embedding = VectorField(dimensions=DOC_DIMENSIONS, null=True, blank=True, editable=False)

    class Meta:
        ordering = ["qualname"]
        indexes = [
            HnswIndex(
                name=DOC_INDEX_NAME,
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(fields=["search"], name=DOC_TEXT_INDEX_NAME),
        ]

    def __str__(self) -> str:
        return self.qualname
