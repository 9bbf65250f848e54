"""A clear 503 page when the database cannot be reached, instead of a 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from project.db_errors import is_connection_lost

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """Turns "cannot reach the database" into a 503 page with a Retry-After header.

    The broken connection is dropped so that the next request connects afresh: when
    PostgreSQL is back, the app is too, without a restart.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Any error whose cause is a lost connection: Django's, psycopg's, the pool's,
        # or one that wraps them (an import cut short, say).
        if is_connection_lost(exception):
            return self._unavailable(exception)
        return None

    def _unavailable(self, error: Exception) -> HttpResponse:
        logger.error("Database unavailable: %s", error)
        for connection in connections.all(initialized_only=True):
            try:
                connection.close()
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
