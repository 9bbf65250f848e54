"""Models as people keep them: realistic dimensions, each supported type, several
vector fields on one model, a field without a fixed dimension count."""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Cast
from pgvector.django import (
    BitField,
    HalfVectorField,
    HnswIndex,
    IvfflatIndex,
    SparseVectorField,
    VectorField,
)

from pgvector_admin.indexes.shapes import BinaryQuantize


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


class Collection(models.Model):
    """What passages belong to: the target of a foreign key in imports."""

    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class Passage(models.Model):
    """Fields of every kind beside a 768-d vector, and indexes on expressions of it:
    the vector cast to halfvec (an index half the size) for cosine, binary-quantized to
    bits for Hamming, and an L2 index over abstracts only (a partial index)."""

    KINDS = [("abstract", "Abstract"), ("body", "Body")]

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE)
    kind = models.CharField(max_length=20, choices=KINDS)
    position = models.PositiveIntegerField(default=0)
    published = models.BooleanField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    code = models.CharField(max_length=12, unique=True, null=True, blank=True)
    embedding = VectorField(dimensions=768)

    class Meta:
        indexes = [
            HnswIndex(
                OpClass(
                    Cast("embedding", output_field=HalfVectorField(dimensions=768)),
                    name="halfvec_cosine_ops",
                ),
                name="passage_half_cosine",
                m=16,
                ef_construction=64,
            ),
            HnswIndex(
                OpClass(
                    Cast(BinaryQuantize("embedding"), output_field=BitField(length=768)),
                    name="bit_hamming_ops",
                ),
                name="passage_bits_hamming",
            ),
            HnswIndex(
                fields=["embedding"],
                opclasses=["vector_l2_ops"],
                condition=models.Q(kind="abstract"),
                name="passage_abstract_l2",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.collection_id}/{self.position}"


class Listing(models.Model):
    """Many small rows to filter: a title for the changelist's search box, an indexed
    shard number (0 to 9,999) for list filters of any selectivity, a date for the date
    hierarchy, and an 8-d embedding with an HNSW cosine index."""

    title = models.CharField(max_length=100)
    shard = models.PositiveIntegerField(db_index=True)
    added = models.DateField()
    embedding = VectorField(dimensions=8)

    class Meta:
        indexes = [
            HnswIndex(
                name="listing_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            )
        ]

    def __str__(self) -> str:
        return self.title


class Note(models.Model):
    """A multi-tenant table: each row belongs to a user, and the admin shows each user
    only their own (``NoteAdmin.get_queryset``)."""

    owner = models.ForeignKey("auth.User", on_delete=models.CASCADE)
    title = models.CharField(max_length=100)
    embedding = VectorField(dimensions=3)

    class Meta:
        indexes = [
            HnswIndex(
                name="note_embedding_hnsw", fields=["embedding"], opclasses=["vector_cosine_ops"]
            )
        ]

    def __str__(self) -> str:
        return self.title


class Article(models.Model):
    """Text searched by text: a 64-d WordLlama embedding of its body (HNSW cosine) and a
    full-text index on an expression of the body (GIN)."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    embedding = VectorField(dimensions=64, null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            HnswIndex(
                name="article_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(SearchVector("body", config="english"), name="article_body_fts"),
        ]

    def __str__(self) -> str:
        return self.title


class Snippet(models.Model):
    """Full-text indexes on a tsvector column (``SearchVectorField``) kept by the app and
    on a column PostgreSQL generates, and two vector fields of which only one is
    embedded from text."""

    text = models.TextField()
    search = SearchVectorField(null=True)
    lexemes = models.GeneratedField(
        expression=SearchVector("text", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    embedding = VectorField(dimensions=64, null=True, blank=True)
    sketch = VectorField(dimensions=3, null=True, blank=True)

    class Meta:
        indexes = [
            GinIndex(fields=["search"], name="snippet_search_gin"),
            GinIndex(fields=["lexemes"], name="snippet_lexemes_gin"),
        ]

    def __str__(self) -> str:
        return self.text[:40]
