"""The seed's Item in the admin: one user of the reusable vector admin
(``catalog.vector_admin``), plus CSV import and export through COPY."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from catalog.admin_imports import VectorImportExportMixin
from catalog.models import Item
from catalog.vector_admin import VectorModelAdmin


@admin.register(Item)
class ItemAdmin(VectorImportExportMixin, VectorModelAdmin):
    list_display = ["id", "label"]
    list_display_links = ["id", "label"]
    search_fields = ["label"]
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The embedding is not a form field (editable=False), so a blank add form could
        # only fail; rows arrive by import, the shell or the seed data.
        return False
