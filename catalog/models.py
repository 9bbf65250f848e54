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
