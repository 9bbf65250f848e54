"""A changelist that opens at any size: past ``PGVECTOR_ADMIN["COUNT_ESTIMATE_ABOVE"]``
rows the list's count is PostgreSQL's planner estimate (an ``EXPLAIN`` of the filtered
query: no row is read) instead of ``SELECT COUNT(*)``, which reads every row (133 ms at
a million rows, seconds at ten million). The page says "about"; the exact count is one
click away (``?_count=exact``).

Django's ChangeList counts twice: the paginator's count of the filtered rows, and, when
the list is filtered, the whole table's for "(N total)". Estimating, the second is not
made (``show_full_result_count``), as Django does for admins that switch it off.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest, QueryDict

from pgvector_admin.conf import app_settings
from pgvector_admin.search.table_sample import planner_rows

# The parameter that asks for the exact count.
EXACT_COUNT_PARAM = "_count"
EXACT_COUNT_VALUE = "exact"

# Whether this request's list is counted by estimate (set by the admin's changelist
# view, read by its paginator and its show_full_result_count): per request, as the
# admin is shared by every request.
estimating: ContextVar[bool] = ContextVar("pgvector_admin_estimating", default=False)


def table_is_large(model: type[Model], using: str) -> bool:
    """Whether ``model``'s table is past the threshold, by the planner's estimate."""
    threshold = app_settings.COUNT_ESTIMATE_ABOVE
    if not threshold:
        return False
    sql, params = model._base_manager.using(using).all().query.sql_with_params()
    return planner_rows(using, sql, params) > threshold


class EstimatedCountPaginator(Paginator):
    """A paginator whose count is the planner's estimate of the (filtered) list while
    this request estimates (``estimated`` then says so), else the exact count."""

    estimated = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if estimating.get() and isinstance(queryset, QuerySet):
            self.estimated = True
            sql, params = queryset.query.sql_with_params()
            return planner_rows(queryset.db, sql, params)
        return super().count


def exact_count_asked(request: HttpRequest) -> bool:
    return request.GET.get(EXACT_COUNT_PARAM) == EXACT_COUNT_VALUE


def without_exact_count(query: QueryDict) -> QueryDict:
    """The list's parameters without ``_count`` (Django's ChangeList refuses a parameter
    that is no filter)."""
    kept = query.copy()
    kept.pop(EXACT_COUNT_PARAM, None)
    return kept


def exact_count_url(request: HttpRequest) -> str:
    query = request.GET.copy()
    query[EXACT_COUNT_PARAM] = EXACT_COUNT_VALUE
    return f"?{query.urlencode()}"


def estimated(paginator: Any) -> bool:
    return bool(getattr(paginator, "estimated", False))
