"""Building and rebuilding a model's declared vector index while searches go on, and
never leaving an invalid index behind.

A build is ``CREATE INDEX CONCURRENTLY``: the table stays readable and writable, and
searches are exact scans until the index is ready. A rebuild builds a copy under a
name of its own (``<name>_rebuild``), then swaps it in, in one short transaction:
searches use the old index until the swap. A concurrent build that stops (cancelled,
failed, its connection lost) leaves an *invalid* index, which PostgreSQL keeps
updating on every write and never uses: ``clean_up_build`` drops it.
"""

from __future__ import annotations

from django.db import connection, models, transaction
from django.db.models import Index

from catalog.services import IndexBuildWatcher, Progress, model_vector_indexes

REBUILD_SUFFIX = "_rebuild"
# The phases a build cannot be cancelled in: the swap, and the clean-up after a stop.
SWAPPING = "index: swapping in the new index"
CLEANING_UP = "index: cleaning up"


def declared_index(model: type[models.Model], name: str) -> Index:
    """The vector index ``name`` of ``model``'s Meta.indexes (LookupError if none)."""
    for index in model_vector_indexes(model):
        if index.name == name:
            return index
    raise LookupError(f"{model._meta.label} declares no vector index named {name!r}.")


def index_validity(name: str) -> bool | None:
    """Whether the index ``name`` is valid (None: there is no such index)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND pg_catalog.pg_table_is_visible(c.oid)",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


def rebuild_name(name: str) -> str:
    """The name a rebuild's copy of ``name`` is built under (63 bytes at most)."""
    return name[: 63 - len(REBUILD_SUFFIX)] + REBUILD_SUFFIX


def build_index(
    model: type[models.Model],
    name: str,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> str:
    """Build ``model``'s declared vector index ``name`` if it is missing or invalid, or
    (``rebuild``) build it again beside the old one and swap. Returns what was done:
    ``built``, ``rebuilt`` or ``present``. On any failure, what the build left is
    dropped before the error goes on."""
    index = declared_index(model, name)
    validity = index_validity(name)
    if validity and not rebuild:
        return "present"
    clean_up_build(name)  # an invalid leftover of an earlier attempt
    target = index
    swapping = validity is True  # rebuild of a valid index: build a copy, then swap
    if swapping:
        target = index.clone()
        target.name = rebuild_name(name)
    watcher = IndexBuildWatcher(progress, table=model._meta.db_table) if progress else None
    if watcher:
        watcher.start()
    try:
        with connection.schema_editor(atomic=False) as editor:
            editor.add_index(model, target, concurrently=True)
        if swapping:
            if progress:
                progress(SWAPPING, 0, None)
            with transaction.atomic(), connection.cursor() as cursor:
                quote = connection.ops.quote_name
                cursor.execute(f"DROP INDEX {quote(name)}")
                cursor.execute(f"ALTER INDEX {quote(target.name)} RENAME TO {quote(name)}")
    except BaseException:
        if watcher:
            watcher.stop()
        if progress:
            progress(CLEANING_UP, 0, None)  # a task's cancel leaves this phase alone
        clean_up_build(name)
        raise
    if watcher:
        watcher.stop()
    return "rebuilt" if swapping else "built"


def clean_up_build(name: str) -> list[str]:
    """Drop what a stopped build of ``name`` left: its rebuild copy (valid or not) and
    ``name`` itself if invalid. Returns the names dropped. Waits at most a few
    seconds for a lock (a build whose client died may still hold one): then
    ``OperationalError``, and a later call does it."""
    dropped = []
    quote = connection.ops.quote_name
    for candidate, only_invalid in ((rebuild_name(name), False), (name, True)):
        validity = index_validity(candidate)
        if validity is None or (only_invalid and validity):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '5s'")
            cursor.execute(f"DROP INDEX IF EXISTS {quote(candidate)}")
        dropped.append(candidate)
    return dropped
