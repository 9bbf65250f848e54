"""How near the neighbours are, fetched after the page: the search and similar pages
show their table of neighbours at once, and the browser asks for the distance
histogram (``…/distances/``, with the page's own query) while the reader looks at it.

The histogram reads a sample of up to 20,000 rows (``pgvector_admin.search.histogram``):
a third of a search page's time when it was drawn in the page itself. Its own request
runs the search again (the neighbours' distances are its marks) without recall. The
page's script asks for the histogram alone; followed as a link (without JavaScript),
the same address is a page of its own.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _

from pgvector_admin.admin.base import VectorAdminBase, form_errors_text
from pgvector_admin.replicas import reading_from_replica
from pgvector_admin.search.conditions import Conditions
from pgvector_admin.search.histogram import distance_sample, histogram_svg, ordinal
from pgvector_admin.search.outcome import SearchOutcome

# Sent by the page's script (distance_box.js): the histogram alone, to put in the page.
PART_HEADER = "X-Pgvector-Admin-Part"


class VectorDistanceAdminMixin(VectorAdminBase):
    """Adds the distance histogram's requests to a vector admin
    (``pgvector_admin.admin.vector_admin.VectorAdminMixin`` mixes it in)."""

    distances_template = "pgvector_admin/_distances.html"

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "search/distances/",
                wrap(self.search_distances_view),
                name=self.url_name("search_distances"),
            ),
            path(
                "<path:object_id>/similar/distances/",
                wrap(self.similar_distances_view),
                name=self.url_name("similar_distances"),
            ),
            *super().get_urls(),
        ]

    def search_distances_view(self, request: HttpRequest) -> HttpResponse:
        """The search page's histogram: the query's distance to a sample of the rows."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return reading_from_replica(
            request,
            lambda: self._distances(request, *self.search_outcome(request, with_recall=False)),
        )

    def similar_distances_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The similar page's histogram: the row's distance to a sample of the others."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return reading_from_replica(request, lambda: self._similar_distances(request, object_id))

    def _similar_distances(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return _plain(self.missing_row_text(object_id), status=404)
        return self._distances(request, *self.similar_outcome(request, obj, with_recall=False))

    def _distances(
        self,
        request: HttpRequest,
        form: Any,
        conditions: Conditions,
        outcome: SearchOutcome | None,
    ) -> HttpResponse:
        if outcome is None:
            return _plain(form_errors_text(form), status=400)
        # A keyword search's rows may have no vector yet: they have no distance.
        marks = [n.distance(outcome.metric) for n in outcome.neighbours if n.distances]
        if not marks:
            return _plain(_("No neighbour to compare with."), status=200)
        sample = distance_sample(
            column=outcome.column,
            vector=outcome.vector,
            metric=outcome.metric,
            neighbours=marks,
            exclude_id=outcome.exclude_id,
            within=conditions.queryset,
        )
        context = {
            "outcome": outcome,
            "distance_sample": sample,
            "distance_picture": histogram_svg(sample),
            "kth": ordinal(len(marks)),
        }
        if request.headers.get(PART_HEADER):
            return TemplateResponse(request, self.distances_template, context)
        # Followed as a link (no script on the page): a page of its own.
        results = request.path.removesuffix("distances/")
        context |= {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("How near are they?"),
            "distances_template": self.distances_template,
            "changelist_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
            ),
            "results_url": f"{results}?{request.GET.urlencode()}",
        }
        return TemplateResponse(request, "pgvector_admin/distances.html", context)


def _plain(text: str, *, status: int) -> HttpResponse:
    """A sentence the page shows where the histogram would be."""
    return HttpResponse(text, content_type="text/plain; charset=utf-8", status=status)
