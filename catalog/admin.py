"""The catalog's own models in the admin, each one user of the reusable vector admin
(``pgvector_admin.admin.vector_admin``): the seed's Item, the handwritten digits and
the standard library's docstrings (searched by text)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from catalog.digit_pictures import digit_svg
from catalog.models import DOC_DIMENSIONS, Digit, Docstring, Item
from pgvector_admin.admin import VectorModelAdmin
from pgvector_admin.embedders import TextEmbedding, WordLlamaEmbedder


@admin.register(Item)
class ItemAdmin(VectorModelAdmin):
    list_display = ["id", "label"]
    list_display_links = ["id", "label"]
    search_fields = ["label"]
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The embedding is not a form field (editable=False), so a blank add form could
        # only fail; rows arrive by import, the shell or the seed data.
        return False


@admin.register(Digit)
class DigitAdmin(VectorModelAdmin):
    """The handwritten digits: a picture of each, filtered by digit; their nearest
    neighbours by L2 distance (the index's metric) are nearly always the same digit."""

    list_display = ["id", "picture", "digit"]
    list_display_links = ["id", "picture"]
    list_filter = ["digit"]
    list_per_page = 50
    vector_metric = "l2"
    # The map of the table shows each digit in its own colour.
    vector_map_colour = "digit"
    readonly_fields = ["picture", "digit"]

    @admin.display(description="picture")
    def picture(self, digit: Digit) -> str:
        return digit_svg(digit.image, label=f"handwritten {digit.digit}")

    def result_picture(self, digit: Digit) -> str:
        return digit_svg(digit.image, size=24, label=f"handwritten {digit.digit}")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Docstring)
class DocstringAdmin(VectorModelAdmin):
    """The standard library's documentation, searched by text: WordLlama (on this
    machine) embeds the query; the full-text index ranks by keyword; hybrid fuses both.
    A docstring edited here is embedded again when saved."""

    list_display = ["qualname", "kind", "module"]
    list_filter = ["kind"]
    search_fields = ["qualname", "module"]
    list_per_page = 50
    fields = ["qualname", "kind", "module", "text"]
    vector_embedders = {
        "embedding": TextEmbedding(WordLlamaEmbedder(dimensions=DOC_DIMENSIONS), source="text"),
    }
