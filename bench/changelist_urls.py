"""The demo's URLs plus stock Django admins of the same Item table, the floors a
vector admin page is measured against (bench/changelist.py, bench/pages.py):

/stock/      a plain ModelAdmin: Django's own pages, nothing of ours
/uncounted/  Django's changelist of the same columns as the vector list (id, label;
             50 rows a page) without its counts: the planner's row estimate for the
             paginator and no second count, so what is left is Django's own work of
             listing 50 rows
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.urls import path
from django.utils.functional import cached_property

from catalog.models import Item
from project.urls import urlpatterns as project_urlpatterns

stock = admin.AdminSite(name="stock")
stock.register(Item)


class EstimatedPaginator(Paginator):
    """A paginator that takes the list's row count from the planner's estimate (an
    EXPLAIN of the query: right after a load that no ANALYZE has seen yet, as well)."""

    @cached_property
    def count(self) -> int:
        sql, params = self.object_list.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            (plan,) = cursor.fetchone()
        return int(plan[0]["Plan"]["Plan Rows"])


class UncountedItemAdmin(admin.ModelAdmin):
    list_display = ["id", "label"]
    list_display_links = ["id", "label"]
    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedPaginator


uncounted = admin.AdminSite(name="uncounted")
uncounted.register(Item, UncountedItemAdmin)

urlpatterns = [path("stock/", stock.urls), path("uncounted/", uncounted.urls), *project_urlpatterns]
