"""Registering a model is all it takes."""

from django.contrib import admin

from catalog.vector_admin import VectorModelAdmin
from tests.vector_models.models import (
    BitDocument,
    Document,
    HalfDocument,
    Product,
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
