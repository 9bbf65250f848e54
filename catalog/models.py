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
