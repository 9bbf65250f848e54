"""The Item admin."""

from django.contrib import admin
from django.http import HttpRequest

from catalog.models import Item
from catalog.vectors import format_vector


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["id", "label", "embedding_text"]
    list_display_links = ["id", "label"]
    search_fields = ["label"]
    readonly_fields = ["embedding_text"]
    fields = ["label", "embedding_text"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The embedding is not a form field (editable=False), so a blank add form could
        # only fail; rows arrive by import, the shell or the seed data.
        return False

    @admin.display(description="embedding")
    def embedding_text(self, item: Item) -> str:
        return "" if item.embedding is None else format_vector(item.embedding)
