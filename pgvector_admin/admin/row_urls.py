"""A row's admin address (its change page, its similar rows) for every row of a list,
with one ``reverse()`` for the list instead of one a row.

``reverse()`` walks the URL patterns each time: for a changelist of 50 rows with two
links a row, 150 calls, about a tenth of the page's time. The address differs between
rows only by the key, so it is reversed once with a placeholder and the key put in its
place, quoted exactly as ``reverse()`` quotes it (the admin's ``quote``, then RFC 3986).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote as url_quote
from weakref import WeakKeyDictionary

from django.contrib.admin.utils import quote as admin_quote
from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.http import RFC3986_SUBDELIMS

# Letters only: reverse() leaves them as they are, and no address holds them.
_PLACEHOLDER = "PgvectorAdminRowKey"
_SAFE = RFC3986_SUBDELIMS + "/~:@"

# Kept with the URL resolver they were reversed by: when Django drops its URL caches
# (a new ROOT_URLCONF in a test, say), these go with them.
_addresses: WeakKeyDictionary[Any, dict[tuple[str, str | None, str], tuple[str, str]]]
_addresses = WeakKeyDictionary()


def row_url(viewname: str, pk: Any, *, current_app: str | None = None) -> str:
    """``reverse(viewname, args=[quote(pk)], current_app=current_app)``, reversed once
    for every row of the same view (``viewname`` takes the row's key as its one
    argument, as the admin's change and similar pages do)."""
    before, after = _address(viewname, current_app)
    return before + url_quote(admin_quote(str(pk)), safe=_SAFE) + after


def _address(viewname: str, current_app: str | None) -> tuple[str, str]:
    resolver = get_resolver(get_urlconf())
    known = _addresses.setdefault(resolver, {})
    key = (viewname, current_app, get_script_prefix())
    address = known.get(key)
    if address is None:
        url = reverse(viewname, args=[_PLACEHOLDER], current_app=current_app)
        before, found, after = url.partition(_PLACEHOLDER)
        if not found:  # a pattern that rewrote its argument: no shortcut
            raise ValueError(f"{viewname} does not put its argument in the address as it is")
        address = known[key] = (before, after)
    return address
