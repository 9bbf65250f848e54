"""The Import button when django-import-export is not installed: the vector admin keeps
its place in the changelist, and its page says what to install instead of failing."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from pgvector_admin.admin.base import VectorAdminBase
from pgvector_admin.features import IMPORTS_EXTRA


class ImportUnavailableMixin(VectorAdminBase):
    """Part of ``VectorAdminMixin`` when django-import-export is missing: an Import
    button whose page explains how to turn imports and exports on."""

    tools_change_list_template = "pgvector_admin/change_list_tools.html"
    import_unavailable_template = "pgvector_admin/import_unavailable.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # As django-import-export does: the admin's own changelist template becomes the
        # base of the one that adds the buttons.
        self.vector_base_change_list_template = (
            getattr(self, "change_list_template", None) or "admin/change_list.html"
        )
        self.change_list_template = self.tools_change_list_template

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_import"
        view = self.admin_site.admin_view(self.import_unavailable_view)
        return [path("import/", view, name=name), *super().get_urls()]

    def import_unavailable_view(self, request: HttpRequest) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import %(things)s") % {"things": self.opts.verbose_name_plural},
            "install": IMPORTS_EXTRA,
        }
        return TemplateResponse(request, self.import_unavailable_template, context)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_import")
        extra_context = {
            **(extra_context or {}),
            "vector_import_url": url,
            "vector_base_change_list_template": self.vector_base_change_list_template,
        }
        return super().changelist_view(request, extra_context)
