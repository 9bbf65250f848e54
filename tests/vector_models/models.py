"""Models as people keep them: realistic dimensions, each supported type, several
vector fields on one model, a field without a fixed dimension count."""

from django.db import models
from pgvector.django import (
    BitField,
    HalfVectorField,
    HnswIndex,
    IvfflatIndex,
    SparseVectorField,
    VectorField,
)


class Document(models.Model):
    """A 768-d text embedding (as from a sentence-transformers model), HNSW cosine."""

    title = models.CharField(max_length=200)
    embedding = VectorField(dimensions=768, editable=False)

    class Meta:
        indexes = [
            HnswIndex(
                name="document_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            )
        ]

    def __str__(self) -> str:
        return self.title


class HalfDocument(models.Model):
    """A 1,536-d embedding stored as halfvec (half the storage), HNSW L2."""

    title = models.CharField(max_length=200)
    embedding = HalfVectorField(dimensions=1536)

    class Meta:
        indexes = [
            HnswIndex(
                name="halfdocument_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["halfvec_l2_ops"],
            )
        ]

    def __str__(self) -> str:
        return self.title


class Product(models.Model):
    """Two vector fields: a text and an image embedding, each with its own index."""

    name = models.CharField(max_length=200)
    text_embedding = VectorField(dimensions=16)
    image_embedding = VectorField(dimensions=8)

    class Meta:
        indexes = [
            HnswIndex(
                name="product_text_hnsw", fields=["text_embedding"], opclasses=["vector_cosine_ops"]
            ),
            IvfflatIndex(
                name="product_image_ivfflat",
                fields=["image_embedding"],
                lists=4,
                opclasses=["vector_l2_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Untyped(models.Model):
    """A vector column declared without a dimension count (``vector``, not ``vector(n)``)."""

    name = models.CharField(max_length=200)
    embedding = VectorField()

    def __str__(self) -> str:
        return self.name


class SparseDocument(models.Model):
    """A 30,000-d sparse embedding (as from SPLADE), at most 100 non-zero values, HNSW
    cosine (sparsevec indexes are HNSW only)."""

    title = models.CharField(max_length=200)
    embedding = SparseVectorField(dimensions=30000)

    class Meta:
        indexes = [
            HnswIndex(
                name="sparsedocument_hnsw",
                fields=["embedding"],
                opclasses=["sparsevec_cosine_ops"],
            )
        ]

    def __str__(self) -> str:
        return self.title


class BitDocument(models.Model):
    """A 1,024-bit binary-quantized embedding, HNSW Hamming."""

    title = models.CharField(max_length=200)
    embedding = BitField(length=1024)

    class Meta:
        indexes = [
            HnswIndex(name="bitdocument_hnsw", fields=["embedding"], opclasses=["bit_hamming_ops"])
        ]

    def __str__(self) -> str:
        return self.title
