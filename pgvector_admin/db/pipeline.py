"""psycopg's pipeline mode for the package's statements: several sent together and
answered in one round trip, where the driver has it and ``PIPELINE_MODE`` is on."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import psycopg

from pgvector_admin.conf import app_settings


def pipeline(connection: Any) -> AbstractContextManager[Any]:
    """Pipeline mode on Django's ``connection`` (connected), or nothing where the driver
    has none or ``PIPELINE_MODE`` is off."""
    enter = getattr(connection.connection, "pipeline", None)
    if not app_settings.PIPELINE_MODE or enter is None or not psycopg.Pipeline.is_supported():
        return nullcontext()
    return enter()


def with_begin(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    """An execute wrapper for a transaction's first statement: sent in the same round
    trip as the BEGIN the driver sends before it. Inside the wrapper, so that the
    statement's answer is in before whoever times it (the debug toolbar) looks."""
    connection = context["connection"]
    with connection.wrap_database_errors, pipeline(connection):
        return execute(sql, params, many, context)
