"""The demo's URLs plus a stock Django admin of the same Item table at /stock/: the
floor a vector admin page is measured against (bench/changelist.py)."""

from django.contrib import admin
from django.urls import path

from catalog.models import Item
from project.urls import urlpatterns as project_urlpatterns

stock = admin.AdminSite(name="stock")
stock.register(Item)  # a plain ModelAdmin: Django's own pages, nothing of ours

urlpatterns = [path("stock/", stock.urls), *project_urlpatterns]
