"""A clear 503 page when the database cannot be reached, instead of a 500.

Django turns an exception raised anywhere inside the middleware stack (a session read,
the debug toolbar, a view, a template) into a response at the layer where it was
raised, so no outer middleware ever sees the exception itself. Django does announce
each one with the ``got_request_exception`` signal, though: the receiver below marks
the request when the cause is a lost connection, and the middleware, listed first,
replaces whatever error response came back for a marked request with the 503 page.
This works the same with DEBUG on (the technical 500 page) or off (``500.html``). An
error raised by the view itself is caught earlier, in ``process_exception``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import connections
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from pgvector_admin.db.errors import is_connection_lost

logger = logging.getLogger(__name__)

_LOST = "_database_connection_lost"


@receiver(got_request_exception, dispatch_uid="vector_catalog_database_lost")
def _remember_a_lost_connection(
    sender: Any, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Mark the request whose handling failed because the database went away.

    Django sends the signal from inside its ``except`` block, so the exception being
    handled is the one that broke the request."""
    error = sys.exc_info()[1]
    if request is not None and error is not None and is_connection_lost(error):
        setattr(request, _LOST, error)


class DatabaseUnavailableMiddleware:
    """Turns "cannot reach the database" into a 503 page with a Retry-After header.

    List it first in ``MIDDLEWARE``, so that it wraps everything that may touch the
    database. The broken connections (and their pool) are dropped so that the next
    request connects afresh: when PostgreSQL is back, the app is too, without a restart.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        error = getattr(request, _LOST, None)
        if error is not None and response.status_code >= 500:
            return unavailable_response(error)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view that lost the database: answered here, before Django logs a 500."""
        if is_connection_lost(exception):
            return unavailable_response(exception)
        return None


def unavailable_response(error: BaseException) -> HttpResponse:
    """The 503 page, after dropping every connection so the next request starts afresh."""
    logger.error("Database unavailable: %s", error)
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
            # A pool would hand out its other broken connections, or wait out its
            # reconnection back-off: a new one connects as soon as the server is back.
            close_pool = getattr(connection, "close_pool", None)
            if close_pool is not None:
                close_pool()
        except Exception:
            logger.debug("closing a broken connection failed", exc_info=True)
        # The embedded server restarts itself here if it was stopped or killed.
        recover = getattr(connection, "recover_server", None)
        if recover is not None:
            try:
                recover()
            except Exception:
                logger.warning("the embedded server could not be restarted", exc_info=True)
    body = render_to_string("503.html")
    response = HttpResponse(body, status=503)
    response["Retry-After"] = "10"
    return response
