"""Part of ``VectorAdminMixin``: the embeddings page of a model whose vector admin sets
``vector_embedders``. It says how many rows have a vector in each embedded field, and
starts the background task that embeds the rows without one, or every row again
(``pgvector_admin.tasks.jobs.start_embedding``). Without background tasks installed,
the rows are embedded in the request."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pgvector_admin.admin.base import VectorAdminBase, task_page_url
from pgvector_admin.embedders.backfill import embed_rows
from pgvector_admin.embedders.base import EmbedderError
from pgvector_admin.features import background_tasks_available
from pgvector_admin.numbers import grouped


class VectorEmbeddingAdminMixin(VectorAdminBase):
    """The embeddings page (``<app>_<model>_embeddings``)."""

    embeddings_template = "pgvector_admin/embeddings.html"

    def get_urls(self) -> list[URLPattern]:
        urls = super().get_urls()
        if not getattr(self, "vector_embedders", None):
            return urls
        view = self.admin_site.admin_view(self.embeddings_view)
        return [path("embeddings/", view, name=self.url_name("embeddings")), *urls]

    def embeddings_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        embedders = getattr(self, "vector_embedders", {})
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            field = request.POST.get("field", "")
            embedding = embedders.get(field)
            if embedding is None or embedding.source is None:
                messages.error(request, _("Nothing done: choose a field that is embedded here."))
                return HttpResponseRedirect(request.path)
            every = request.POST.get("every") == "1"
            return self._start(request, field, every=every)
        model = self.model
        manager = model._default_manager
        total = manager.count()
        fields = [
            {
                "name": name,
                "embedder": embedding.embedder.name,
                "source": embedding.describe_source(),
                "may_embed": embedding.source is not None,
                "with_vector": manager.filter(**{f"{name}__isnull": False}).count(),
            }
            for name, embedding in embedders.items()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Embeddings of %(things)s") % {"things": model._meta.verbose_name_plural},
            "opts": model._meta,
            "total": total,
            "fields": fields,
            "may_change": self.has_change_permission(request),
            "in_background": background_tasks_available(),
            "changelist_url": reverse(f"admin:{self.url_name('changelist')}"),
        }
        return TemplateResponse(request, self.embeddings_template, context)

    def _start(self, request: HttpRequest, field: str, *, every: bool) -> HttpResponse:
        if background_tasks_available():
            from pgvector_admin.tasks.jobs import start_embedding

            progress = start_embedding(
                model=self.model, field=field, every=every, user=request.user
            )
            return HttpResponseRedirect(task_page_url(progress))
        embedding = self.vector_embedders[field]  # type: ignore[attr-defined]
        try:
            report = embed_rows(model=self.model, field=field, embedding=embedding, every=every)
        except EmbedderError as error:
            messages.error(
                request,
                _("Stopped: %(error)s The rows embedded before it keep theirs.") % {"error": error},
            )
        else:
            messages.success(
                request,
                ngettext(
                    "Embedded %(rows)s row in %(seconds)s s (%(rate)s rows/s).",
                    "Embedded %(rows)s rows in %(seconds)s s (%(rate)s rows/s).",
                    report.embedded,
                )
                % {
                    "rows": grouped(report.embedded),
                    "seconds": grouped(report.seconds, 1),
                    "rate": grouped(report.rate),
                },
            )
        return HttpResponseRedirect(request.path)
