"""The vector admin's index page (``admin:<app>_<model>_indexes``): the vector indexes
the model declares, whether each is built, and buttons that build or rebuild them as a
background task (``catalog.tasks.start_index_build``), with a progress page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from catalog.index_builds import index_validity
from catalog.services import model_vector_indexes
from catalog.tasks import start_index_build


class VectorIndexAdminMixin:
    """Part of ``VectorAdminMixin``: the index page. Building an index is a superuser's
    work: it takes the machine's memory and time."""

    index_template = "admin/vector_catalog/indexes.html"

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta  # type: ignore[attr-defined]
        view = self.admin_site.admin_view(self.indexes_view)  # type: ignore[attr-defined]
        return [
            path("indexes/", view, name=f"{opts.app_label}_{opts.model_name}_indexes"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def may_build_indexes(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def declared_indexes(self) -> list[dict[str, Any]]:
        """Each vector index of the model's Meta.indexes, and its state in the database."""
        found = []
        for index in model_vector_indexes(self.model):  # type: ignore[attr-defined]
            validity = index_validity(index.name)
            state = {None: "missing", True: "built", False: "invalid"}[validity]
            found.append({"name": index.name, "index": index, "state": state})
        return found

    def indexes_view(self, request: HttpRequest) -> HttpResponse:
        if not self.may_build_indexes(request):
            raise PermissionDenied
        indexes = self.declared_indexes()
        if request.method == "POST":
            rebuild = request.POST.get("rebuild") == "1"
            names = [i["name"] for i in indexes if rebuild or i["state"] != "built"]
            if not names:
                messages.info(request, "Every vector index the model declares is built.")
                return HttpResponseRedirect(request.path)
            progress = start_index_build(
                model=self.model,  # type: ignore[attr-defined]
                names=names,
                rebuild=rebuild,
                user=request.user,
            )
            return HttpResponseRedirect(
                reverse("admin:catalog_taskprogress_change", args=[progress.pk])
            )
        opts = self.model._meta  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": f"Vector indexes of {opts.verbose_name_plural}",
            "opts": opts,
            "indexes": indexes,
            "missing": [i for i in indexes if i["state"] != "built"],
        }
        return TemplateResponse(request, self.index_template, context)
