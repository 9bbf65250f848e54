"""Who sees the debug toolbar (and may call its panel views)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def show_toolbar(request: HttpRequest) -> bool:
    """DEBUG on, a request from INTERNAL_IPS (REMOTE_ADDR itself, never a forwarded
    header), and a logged-in staff user allowed to view items: the toolbar shows the
    request's SQL, settings and data."""
    if not settings.DEBUG or request.META.get("REMOTE_ADDR") not in settings.INTERNAL_IPS:
        return False
    user = getattr(request, "user", None)
    return bool(
        user is not None and user.is_active and user.is_staff and user.has_perm("catalog.view_item")
    )
