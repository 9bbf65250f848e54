"""Telling a lost database connection from an error in a query."""

from __future__ import annotations

import psycopg
from django.db import InterfaceError

try:  # psycopg's pool, which Django uses when DATABASES' OPTIONS ask for one
    from psycopg_pool import PoolClosed, PoolTimeout

    _LOST: tuple[type[BaseException], ...] = (
        PoolTimeout,
        PoolClosed,
        psycopg.InterfaceError,
        InterfaceError,
    )
except ImportError:
    _LOST = (psycopg.InterfaceError, InterfaceError)

# SQLSTATEs of a connection that is gone: class 08 (connection exception), and the
# server shutting down or terminating this backend.
_GONE = {"57P01", "57P02", "57P03"}


def is_connection_lost(error: BaseException) -> bool:
    """Whether ``error`` (Django's or psycopg's) means the server cannot be reached or
    dropped the connection, rather than a query failing (a constraint, a timeout). A
    pool that had no connection to give in time, or was closed under a request after a
    lost connection, counts too."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, _LOST):
            return True
        if isinstance(cause, psycopg.OperationalError):
            state = cause.sqlstate
            return state is None or state.startswith("08") or state in _GONE
        cause = cause.__cause__
    return False
