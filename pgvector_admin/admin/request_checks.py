"""Parameters no vector page can read: a NUL character (PostgreSQL cannot store or
compare one: the ORM's query fails) or bytes that are not UTF-8 (Django reads them as
U+FFFD). Such a request is a 400 that says which parameter, before any work."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

REPLACEMENT = "\ufffd"


def unreadable_parameter(request: HttpRequest, path_values: Iterable[Any] = ()) -> str | None:
    """Why one of the request's parameters cannot be read (None when all can)."""
    sources = [("the address", [(str(value), "") for value in path_values])]
    sources.append(("the query", list(request.GET.lists())))
    if request.method == "POST":
        sources.append(("the form", list(request.POST.lists())))
    for where, pairs in sources:
        for name, values in pairs:
            for text in [name, *(values if isinstance(values, list) else [values])]:
                if "\x00" in text:
                    return f"A parameter of {where} ({_shown(name)}) holds a NUL character."
                if REPLACEMENT in text:
                    return f"A parameter of {where} ({_shown(name)}) is not UTF-8 text."
    return None


def refusing_unreadable(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view``, answering 400 to a request with an unreadable parameter."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        problem = unreadable_parameter(request, [*args, *kwargs.values()])
        if problem:
            return HttpResponseBadRequest(problem, content_type="text/plain; charset=utf-8")
        return view(request, *args, **kwargs)

    return checked


def _shown(name: str) -> str:
    return repr(name.replace("\x00", "\\0")[:40]) if name else "a value"
