"""Settings for one statement: ``SET LOCAL`` in a transaction rolled back afterwards.

A vector search depends on settings (``hnsw.ef_search``, ``hnsw.iterative_scan``,
``enable_indexscan`` for exact scans). ``SET LOCAL`` lasts only inside a transaction,
and the queryset must be evaluated there; rolling the transaction back ends them, so
they never leak into the rest of the request. Every search, plan and measurement of
the package runs through ``local_settings``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connections, transaction

from pgvector_admin.db.pipeline import with_begin


def set_local_and_read(
    cursor: Any,
    settings: dict[str, str],
    names: Iterable[str],
    *,
    also: tuple[str, Sequence[Any]] = ("", ()),
) -> tuple[dict[str, str], tuple[Any, ...]]:
    """``SET LOCAL`` each of ``settings`` and read back ``names`` as they then stand, in
    one round trip; with ``also`` (select-list SQL and its parameters), read that too
    in the same statement. Returns the settings read (one the server does not know
    reads as ``""``) and ``also``'s values."""
    names = list(names)
    calls = [("set_config(%s, %s, true)", [name, value]) for name, value in settings.items()]
    calls += [("current_setting(%s, true)", [name]) for name in names]
    also_sql, also_params = also
    if also_sql:
        calls.append((also_sql, list(also_params)))
    if not calls:
        return {}, ()
    cursor.execute(
        "SELECT " + ", ".join(call for call, _ in calls),
        [param for _, params in calls for param in params],
    )
    values = cursor.fetchone()
    read = values[len(settings) : len(settings) + len(names)]
    in_force = {name: value or "" for name, value in zip(names, read, strict=True)}
    return in_force, tuple(values[len(settings) + len(names) :])


@contextmanager
def local_settings(
    settings: dict[str, str],
    *,
    using: str = "default",
    read: Iterable[str] = (),
    read_only: bool = False,
    also: tuple[str, Sequence[Any]] = ("", ()),
    check: Callable[[tuple[Any, ...]], None] | None = None,
) -> Iterator[tuple[Any, dict[str, str]]]:
    """A transaction on ``using`` with ``settings`` in force (``SET LOCAL``), rolled back
    when the block ends: yields a cursor and the settings ``read`` back from the server.
    With ``read_only``, the transaction (when it is one of its own, not a savepoint)
    refuses writes too. ``also`` is read in the settings' statement and handed to
    ``check``, which may raise before the block runs. ``BEGIN`` goes in the same round
    trip as the settings. Evaluate querysets inside the block: that is when they run."""
    connection = connections[using]
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            with connection.execute_wrapper(with_begin):
                if read_only and not connection.savepoint_ids:
                    cursor.execute("SET TRANSACTION READ ONLY")
                in_force, values = set_local_and_read(cursor, settings, read, also=also)
            if check is not None:
                check(values)  # raised: the transaction is rolled back
            yield cursor, in_force
        # Reads only: rolling back just ends the SET LOCAL settings with the transaction.
        transaction.set_rollback(True, using=using)
