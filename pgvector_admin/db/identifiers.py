"""Names put into SQL that Django's ORM does not write (DDL, COPY, raw reads).

Django's ``quote_name`` wraps a name in double quotes without escaping those inside
it, so an index named ``public"."x_idx`` would be read as ``x_idx`` in schema
``public``. psycopg's ``sql.Identifier`` doubles them, as PostgreSQL requires.
"""

from __future__ import annotations

from psycopg import sql


def identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier, whatever characters it holds."""
    return sql.Identifier(name).as_string(None)
