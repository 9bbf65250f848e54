"""Template tags for vectors and result tables."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import (
    pagination,
    result_headers,
    result_hidden_fields,
    result_list,
)
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from pgvector_admin.admin.estimated_count import estimated, exact_count_url
from pgvector_admin.admin.list_rows import vector_results
from pgvector_admin.numbers import grouped
from pgvector_admin.search.outcome import SearchOutcome

register = template.Library()


@register.simple_tag
def neighbour_rows(
    outcome: SearchOutcome, picture: Callable[[Any], str] | None = None
) -> SafeString:
    """The result table's rows: rank, id, label (with ``picture`` of the row, when the
    admin draws one), a keyword or hybrid search's ranks and score, the vector, one
    cell per metric (the chosen one marked) and a link to the row's own neighbours.

    Built in Python rather than with template loops: a page of 1,000 rows would
    otherwise spend most of its time in the template engine. Every value is escaped.
    """
    opts = outcome.column.model._meta
    items_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    similar_query = f"?field={outcome.column.name}&metric={outcome.metric.name}&k={outcome.k}"
    metrics = outcome.metrics
    similar = _("similar")
    not_embedded = _("not embedded yet")
    rows = []
    for neighbour in outcome.neighbours:
        cells = format_html_join(
            "",
            '<td class="num{}">{}</td>',
            (
                (
                    " chosen" if metric is outcome.metric else "",
                    _number(neighbour.shown_distance(metric)),
                )
                for metric in metrics
            ),
        )
        places = SafeString("")
        if outcome.ranked:
            places = format_html(
                '<td class="num keyword-rank">{}</td><td class="num vector-rank">{}</td>'
                '<td class="num score chosen">{}</td>',
                _number(neighbour.keyword_rank),
                _number(neighbour.vector_rank),
                _number(neighbour.score),
            )
        rows.append(
            format_html(
                '<tr class="similar-row"><td class="num">{rank}</td>'
                '<td class="num"><a href="{items}{id}/change/">{id}</a></td>'
                "<td>{picture}{label}</td>{places}"
                '<td class="vector"><code>{vector}</code></td>{cells}'
                '<td><a href="{items}{id}/similar/{query}">{similar}</a></td></tr>',
                similar=similar,
                rank=neighbour.rank,
                items=items_url,
                id=neighbour.id,
                label=neighbour.label,
                picture=picture(neighbour.obj) if picture and neighbour.obj is not None else "",
                vector=_vector_cell(neighbour, outcome.column, not_embedded),
                cells=cells,
                places=places,
                query=similar_query,
            )
        )
    return SafeString("\n".join(rows))


def _vector_cell(neighbour: Any, column: Any, not_embedded: str) -> str:
    """A result row's vector as its cell shows it: made from its parts when only those
    were read."""
    if neighbour.cell is not None:
        return neighbour.cell
    return not_embedded if neighbour.embedding is None else column.short(neighbour.embedding)


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"


def vector_result_list(cl: Any) -> dict[str, Any]:
    """Django's ``result_list`` context, its rows written by
    ``pgvector_admin.admin.list_rows`` where it knows every column."""
    rows = vector_results(cl)
    if rows is None:
        return result_list(cl)
    # As Django's result_list() (5.2 to 6.1), with the rows already made.
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": rows,
    }


@register.tag(name="vector_result_list")
def vector_result_list_tag(parser: Any, token: Any) -> InclusionAdminNode:
    """``{% vector_result_list cl %}``: Django's ``{% result_list cl %}`` (the same
    template, found the same way: per model, per app, then the admin's own)."""
    return InclusionAdminNode(
        **_NODE_NAME,
        parser=parser,
        token=token,
        func=vector_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )


# Django 6.1's InclusionAdminNode takes the tag's name first; 5.2 and 6.0's do not.
_NODE_NAME = (
    {"name": "vector_result_list"}
    if "name" in inspect.signature(InclusionAdminNode.__init__).parameters
    else {}
)


@register.inclusion_tag("pgvector_admin/pagination.html", takes_context=True)
def vector_pagination(context: dict[str, Any], cl: Any) -> dict[str, Any]:
    """Django's pagination of a changelist, saying "about" when its count is the
    planner's estimate (``pgvector_admin.admin.estimated_count``)."""
    shown = pagination(cl)
    request = context.get("request")
    shown["estimated"] = estimated(cl.paginator)
    shown["exact_count_url"] = exact_count_url(request) if request is not None else ""
    return shown


@register.filter
def thousands(value: Any) -> str:
    """``1234567`` as ``1,234,567``, grouped as the active language groups digits."""
    try:
        return grouped(int(value))
    except (TypeError, ValueError):
        return str(value)
