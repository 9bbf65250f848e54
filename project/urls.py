"""URLs: the admin at /admin/, the language switch's /i18n/setlang/, the debug toolbar's
under /__debug__/ in development."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    # Django's set_language view: the header's language switch posts to it.
    path("i18n/", include("django.conf.urls.i18n")),
]

if settings.DEBUG_TOOLBAR:
    from debug_toolbar.toolbar import debug_toolbar_urls

    urlpatterns += debug_toolbar_urls()
