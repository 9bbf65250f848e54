"""The changelist's conditions (its search box, list filters and date hierarchy) as a
filtered queryset for a vector search, read from the same query parameters the
changelist uses: a bookmarked changelist URL plus a vector is a filtered search.

The admin's own ``ChangeList`` reads them, so every filter a ``ModelAdmin`` declares
works, with the admin's own validation; only its counting and paging are skipped (a
vector search needs neither, and on a big table they cost the most).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR, IncorrectLookupParameters
from django.contrib.admin.views.main import ALL_VAR, ERROR_FLAG, ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The changelist parameters that choose how rows are shown, not which.
_NOT_CONDITIONS = {ORDER_VAR, PAGE_VAR, ERROR_FLAG, IS_POPUP_VAR, TO_FIELD_VAR, ALL_VAR, "_facets"}
_WHERE = re.compile(r"\bWHERE\b(?P<condition>.*?)(?:\bORDER BY\b|\bLIMIT\b|$)", re.S)


class ConditionsError(ValueError):
    """The changelist parameters name a filter or value the changelist refuses."""


@dataclass
class Conditions:
    """The rows a filtered changelist shows, for a vector search among them."""

    params: QueryDict
    queryset: QuerySet[Any] | None = None
    described: list[str] = field(default_factory=list)
    sql: str = ""

    def __bool__(self) -> bool:
        return bool(self.params)

    @property
    def query_string(self) -> str:
        return self.params.urlencode()


def condition_params(query: QueryDict, *, ignore: set[str]) -> QueryDict:
    """The changelist's conditions among ``query``'s parameters: every one but those in
    ``ignore`` (the vector search's own) and those that only page or order the list."""
    kept = QueryDict(mutable=True)
    for name in query:
        if name not in ignore and name not in _NOT_CONDITIONS:
            kept.setlist(name, query.getlist(name))
    return kept


def read_conditions(model_admin: Any, request: HttpRequest, *, ignore: set[str]) -> Conditions:
    """The conditions ``request`` carries for ``model_admin``'s changelist; raises
    ``ConditionsError`` when the changelist would refuse them."""
    params = condition_params(request.GET, ignore=ignore)
    if not params:
        # No filter asked for, but the admin may still show only some rows (a user's
        # own, in a multi-tenant site): a search never reaches past them.
        return Conditions(params, queryset=scoped_rows(model_admin, request))
    filtered = copy.copy(request)
    filtered.GET = params
    try:
        changelist = _changelist(model_admin, filtered)
    except IncorrectLookupParameters as error:
        names = ", ".join(sorted(params))
        why = str(error) or _("a filter this list does not have")
        raise ConditionsError(
            _("The list's conditions (%(names)s) are not valid: %(reason)s.")
            % {"names": names, "reason": why}
        ) from error
    queryset = changelist.queryset
    try:
        queryset.query.sql_with_params()
    except EmptyResultSet:
        # A condition no row can meet (``title__in=`` with no value): Django writes no
        # SQL for it. Said in SQL, so that every query built on it can be written.
        queryset = changelist.root_queryset.extra(where=["FALSE"])
    return Conditions(
        params,
        queryset=queryset,
        described=_describe(changelist, params),
        sql=_where(queryset),
    )


def scoped_rows(model_admin: Any, request: HttpRequest) -> QuerySet[Any] | None:
    """The rows ``model_admin.get_queryset(request)`` keeps, when it keeps fewer than
    the model's default manager (None: every row, as a search without conditions
    reads them)."""
    scoped = model_admin.get_queryset(request)
    everything = model_admin.model._default_manager.all()
    if scoped.query.where == everything.query.where and not scoped.query.distinct:
        return None
    return scoped.order_by()


def _changelist(model_admin: Any, request: HttpRequest) -> Any:
    """The admin's ``ChangeList`` for ``request``, as ``get_changelist_instance`` makes
    it, without counting or fetching the page's rows."""
    base = model_admin.get_changelist(request)
    conditions_only = type("ConditionsOnly", (base,), {"get_results": _no_results})
    list_display = model_admin.get_list_display(request)
    return conditions_only(
        request,
        model_admin.model,
        list_display,
        model_admin.get_list_display_links(request, list_display),
        model_admin.get_list_filter(request),
        model_admin.date_hierarchy,
        model_admin.get_search_fields(request),
        model_admin.get_list_select_related(request),
        model_admin.list_per_page,
        model_admin.list_max_show_all,
        model_admin.list_editable,
        model_admin,
        model_admin.get_sortable_by(request),
        model_admin.search_help_text,
    )


def _no_results(changelist: Any, request: HttpRequest) -> None:
    changelist.result_count = changelist.full_result_count = None
    changelist.result_list = []
    changelist.can_show_all = changelist.multi_page = False
    changelist.paginator = None


_LOOKUP_WORDS = {
    "exact": "=",
    "iexact": gettext_lazy("= (any case)"),
    "lt": "<",
    "lte": "≤",
    "gt": ">",
    "gte": "≥",
    "in": gettext_lazy("in"),
    "isnull": gettext_lazy("is null:"),
    "contains": gettext_lazy("contains"),
    "icontains": gettext_lazy("contains"),
    "startswith": gettext_lazy("starts with"),
    "istartswith": gettext_lazy("starts with"),
}


def _describe(changelist: Any, params: QueryDict) -> list[str]:
    """The conditions in words: the search box's words, then each filter parameter as
    ``field = value`` (``shard < 5000``, ``added year = 2025``). Read from the
    parameters alone: a filter's list of choices can cost a scan of the table."""
    described = []
    query = params.get(SEARCH_VAR, "").strip()
    if query:
        fields = ", ".join(changelist.search_fields)
        described.append(_("search “%(words)s” in %(fields)s") % {"words": query, "fields": fields})
    for name in params:
        if name == SEARCH_VAR:
            continue
        *path, last = name.split("__")
        if not path or (last not in _LOOKUP_WORDS and last not in {"year", "month", "day"}):
            path, last = [*path, last], "exact"
        words = _LOOKUP_WORDS.get(last, "=")
        field_name = " ".join(path) if last in _LOOKUP_WORDS else f"{' '.join(path)} {last}"
        values = ", ".join(params.getlist(name))
        described.append(f"{field_name} {words} {values}")
    return described


def _where(queryset: QuerySet[Any]) -> str:
    """The WHERE clause of ``queryset`` as PostgreSQL receives it."""
    sql, params = queryset.query.sql_with_params()
    match = _WHERE.search(connection.ops.compose_sql(sql, params))
    return match.group("condition").strip() if match else ""
