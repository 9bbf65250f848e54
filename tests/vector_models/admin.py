"""Registering a model is all it takes."""

from django.contrib import admin

from pgvector_admin.admin.vector_admin import VectorModelAdmin
from pgvector_admin.embedders import TextEmbedding, WordLlamaEmbedder
from tests.vector_models.embedders import PacedEmbedder
from tests.vector_models.models import (
    Article,
    BitDocument,
    Collection,
    Document,
    HalfDocument,
    Listing,
    Note,
    Passage,
    Product,
    Snippet,
    SparseDocument,
    Untyped,
)


@admin.register(Document)
class DocumentAdmin(VectorModelAdmin):
    pass


@admin.register(HalfDocument)
class HalfDocumentAdmin(VectorModelAdmin):
    vector_metric = "l2"


@admin.register(Product)
class ProductAdmin(VectorModelAdmin):
    list_display = ["name"]


@admin.register(Untyped)
class UntypedAdmin(VectorModelAdmin):
    pass


@admin.register(SparseDocument)
class SparseDocumentAdmin(VectorModelAdmin):
    pass


@admin.register(BitDocument)
class BitDocumentAdmin(VectorModelAdmin):
    pass


@admin.register(Passage)
class PassageAdmin(VectorModelAdmin):
    list_display = ["id", "collection", "kind", "position"]
    list_filter = ["kind", "collection"]


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Listing)
class ListingAdmin(VectorModelAdmin):
    list_display = ["title", "shard", "added"]
    list_filter = ["shard"]
    search_fields = ["title"]
    date_hierarchy = "added"


@admin.register(Note)
class NoteAdmin(VectorModelAdmin):
    """Each user sees only their own notes, as in a multi-tenant project."""

    list_display = ["title", "owner"]
    search_fields = ["title"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(owner=request.user)


@admin.register(Article)
class ArticleAdmin(VectorModelAdmin):
    list_display = ["title"]
    search_fields = ["title"]
    fields = ["title", "body"]
    vector_embedders = {"embedding": TextEmbedding(PacedEmbedder(), source="body")}


@admin.register(Snippet)
class SnippetAdmin(VectorModelAdmin):
    vector_embedders = {
        "embedding": TextEmbedding(WordLlamaEmbedder(dimensions=64), source=lambda s: s.text)
    }
