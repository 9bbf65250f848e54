"""The Item admin: the changelist, the vector search page and the "find similar" page.

The views only parse the request with the forms and hand the cleaned values to
``catalog.selectors``; they build no query themselves.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from catalog.admin_imports import VectorImportExportMixin
from catalog.forms import (
    ZERO_VECTOR_MESSAGE,
    NeighborsForm,
    VectorSearchForm,
    cosine_undefined,
)
from catalog.metrics import METRICS
from catalog.models import Item
from catalog.result_csv import neighbors_csv
from catalog.selectors import SearchOutcome, nearest, similar_to
from catalog.vectors import format_vector, format_vector_short, norm


@admin.register(Item)
class ItemAdmin(VectorImportExportMixin, admin.ModelAdmin):
    list_display = ["id", "label", "embedding_short", "norm_display", "similar_link"]
    list_display_links = ["id", "label"]
    search_fields = ["label"]
    readonly_fields = ["embedding_full", "norm_display", "similar_link"]
    fields = ["label", "embedding_full", "norm_display", "similar_link"]
    actions = ["find_similar"]
    list_per_page = 50
    # Named here so that django-import-export's changelist buttons build on them.
    change_list_template = "admin/catalog/item/change_list.html"
    change_form_template = "admin/catalog/item/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The embedding is not a form field (editable=False), so a blank add form could
        # only fail; rows arrive by import, the shell or the seed data.
        return False

    # Columns

    @admin.display(description="embedding")
    def embedding_short(self, item: Item) -> str:
        return format_vector_short(item.embedding)

    @admin.display(description="embedding")
    def embedding_full(self, item: Item) -> str:
        return format_vector(item.embedding)

    @admin.display(description="norm")
    def norm_display(self, item: Item) -> str:
        return f"{norm(item.embedding):.4g}"

    @admin.display(description="similar")
    def similar_link(self, item: Item) -> str:
        if item.pk is None:
            return "—"
        url = reverse("admin:catalog_item_similar", args=[item.pk])
        return format_html('<a href="{}" class="similar-link">similar items</a>', url)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "vector_form": VectorSearchForm(auto_id="vs_%s")}
        return super().changelist_view(request, extra_context)

    # Action

    @admin.action(description="Find items similar to the selected item", permissions=["view"])
    def find_similar(
        self, request: HttpRequest, queryset: QuerySet[Item]
    ) -> HttpResponseRedirect | None:
        count = queryset.count()
        if count != 1:
            self.message_user(
                request,
                f"Select exactly one item to find its similar items ({count} selected).",
                messages.WARNING,
            )
            return None
        return redirect("admin:catalog_item_similar", queryset.get().pk)

    # Pages

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("search/", wrap(self.search_view), name="catalog_item_search"),
            path("<path:object_id>/similar/", wrap(self.similar_view), name="catalog_item_similar"),
            *super().get_urls(),
        ]

    def search_view(self, request: HttpRequest) -> HttpResponse:
        """Nearest items to a query vector typed by the user."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = VectorSearchForm(request.GET or None)
        outcome = None
        if form.is_valid():
            data = form.cleaned_data
            outcome = nearest(
                vector=data["vector"],
                k=data["k"],
                metric=data["metric"],
                exact=data["exact"],
                with_recall=data["recall"],
            )
        return self._results_response(
            request, form=form, outcome=outcome, title="Search by vector", target=None
        )

    def similar_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Nearest items to an item's own embedding, the item itself left out."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        item = self.get_object(request, unquote(object_id))
        if item is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = NeighborsForm(request.GET)
        outcome = None
        if form.is_valid():
            data = form.cleaned_data
            if cosine_undefined(list(item.embedding), data["metric"]):
                form.add_error(None, ZERO_VECTOR_MESSAGE)
            else:
                outcome = similar_to(
                    item=item,
                    k=data["k"],
                    metric=data["metric"],
                    exact=data["exact"],
                    with_recall=data["recall"],
                )
        return self._results_response(
            request, form=form, outcome=outcome, title=f"Items similar to {item}", target=item
        )

    def _results_response(
        self,
        request: HttpRequest,
        *,
        form: NeighborsForm,
        outcome: SearchOutcome | None,
        title: str,
        target: Item | None,
    ) -> HttpResponse:
        if outcome is not None and request.GET.get("format") == "csv":
            response = HttpResponse(neighbors_csv(outcome.neighbors), content_type="text/csv")
            name = f"similar-to-{target.pk}" if target is not None else "vector-search"
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        csv_query = request.GET.copy()
        csv_query["format"] = "csv"
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "outcome": outcome,
            "target": target,
            "metrics": list(METRICS.values()),
            # The results pages need the width for their table.
            "is_nav_sidebar_enabled": False,
            "csv_url": f"{request.path}?{csv_query.urlencode()}",
            "target_embedding": format_vector(target.embedding) if target is not None else "",
        }
        status = 400 if form.is_bound and form.errors else 200
        return TemplateResponse(
            request, "admin/catalog/item/neighbors.html", context, status=status
        )
