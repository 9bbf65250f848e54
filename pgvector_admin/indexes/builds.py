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

import re
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Index
from django.utils.translation import gettext as _

from pgvector_admin.db.identifiers import identifier
from pgvector_admin.db.index_rows import index_row
from pgvector_admin.numbers import grouped
from pgvector_admin.transfer.services import IndexBuildWatcher, Progress, model_vector_indexes

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
    row = index_row(name)
    return None if row is None else row.valid


def rebuild_name(name: str) -> str:
    """The name a rebuild's copy of ``name`` is built under (63 bytes at most)."""
    return name[: 63 - len(REBUILD_SUFFIX)] + REBUILD_SUFFIX


def index_definition(name: str) -> str | None:
    """PostgreSQL's own ``CREATE INDEX`` statement of the index ``name``."""
    row = index_row(name)
    return row.definition if row is not None else None


_CREATE = re.compile(r'^CREATE (UNIQUE )?INDEX ("(?:[^"]|"")+"|\S+) ON ')


def concurrent_copy(definition: str, name: str) -> str:
    """``definition`` (``CREATE INDEX old ON ...``) as ``CREATE INDEX CONCURRENTLY name
    ON ...``: the same table, method, key, opclass, parameters and predicate."""
    match = _CREATE.match(definition)
    if match is None:
        raise ValueError(f"not an index definition: {definition}")
    unique = match.group(1) or ""
    rest = definition[match.end() :]
    return f"CREATE {unique}INDEX CONCURRENTLY {identifier(name)} ON {rest}"


def build_index(
    model: type[models.Model],
    name: str,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> str:
    """Build the vector index ``name`` of ``model``'s table if it is missing (from the
    model's declaration) or invalid (from its own definition), or (``rebuild``) build a
    copy of it beside it and swap. Returns what was done: ``built``, ``rebuilt`` or
    ``present``. On any failure, what the build left is dropped before the error goes
    on; a rebuild's old index stays."""
    validity = index_validity(name)
    if validity and not rebuild:
        return "present"
    definition = index_definition(name)
    clean_up_build(name)  # an invalid index, or a leftover of an earlier attempt
    swapping = validity is True  # a copy of the valid index, swapped in at the end
    try:
        with _watching(model, progress):
            if definition is None:
                with connection.schema_editor(atomic=False) as editor:
                    editor.add_index(model, declared_index(model, name), concurrently=True)
            else:
                with connection.cursor() as cursor:
                    target = rebuild_name(name) if swapping else name
                    cursor.execute(concurrent_copy(definition, target))
        if swapping:
            _swap(name, progress)
    except BaseException:
        _after_failure(name, progress)  # after the watcher stopped: its phase stays
        raise
    return "rebuilt" if swapping else "built"


def create_index(
    model: type[models.Model], index: Index, *, progress: Progress | None = None
) -> str:
    """Create ``index`` (not declared: made on the index page) concurrently."""
    if index_validity(index.name) is not None:
        raise ValueError(_("An index named %(name)s already exists.") % {"name": index.name})
    try:
        with _watching(model, progress), connection.schema_editor(atomic=False) as editor:
            editor.add_index(model, index, concurrently=True)
    except BaseException:
        _after_failure(index.name, progress)
        raise
    return "created"


def drop_index(name: str) -> str:
    """``DROP INDEX CONCURRENTLY``: waits for the searches using it, blocks none."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {identifier(name)}")
    return "dropped"


class _watching:
    """Report ``pg_stat_progress_create_index`` to ``progress`` while building."""

    def __init__(self, model: type[models.Model], progress: Progress | None) -> None:
        self.watcher = IndexBuildWatcher(progress, table=model._meta.db_table) if progress else None

    def __enter__(self) -> None:
        if self.watcher:
            self.watcher.start()

    def __exit__(self, *exc_info: object) -> None:
        if self.watcher:
            self.watcher.stop()


def _swap(name: str, progress: Progress | None) -> None:
    if progress:
        progress(SWAPPING, 0, None)
    quote = identifier
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {quote(name)}")
        cursor.execute(f"ALTER INDEX {quote(rebuild_name(name))} RENAME TO {quote(name)}")


def _after_failure(name: str, progress: Progress | None) -> None:
    if progress:
        progress(CLEANING_UP, 0, None)  # a task's cancel leaves this phase alone
    clean_up_build(name)


def clean_up_build(name: str) -> list[str]:
    """Drop what a stopped build of ``name`` left: its rebuild copy (valid or not) and
    ``name`` itself if invalid. Returns the names dropped. Waits at most a few
    seconds for a lock (a build whose client died may still hold one): then
    ``OperationalError``, and a later call does it."""
    dropped = []
    quote = identifier
    for candidate, only_invalid in ((rebuild_name(name), False), (name, True)):
        validity = index_validity(candidate)
        if validity is None or (only_invalid and validity):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '5s'")
            cursor.execute(f"DROP INDEX IF EXISTS {quote(candidate)}")
        dropped.append(candidate)
    return dropped


# pgvector's limits on what an index can hold (dimensions of the indexed type).
HNSW_MAX_DIMENSIONS = {"vector": 2000, "halfvec": 4000, "bit": 64000}
IVFFLAT_MAX_DIMENSIONS = {"vector": 2000, "halfvec": 4000, "bit": 64000}


def index_from_spec(model: type[models.Model], spec: dict[str, Any]) -> Index:
    """The Django index a create request describes: ``name``, ``field``, ``metric``,
    ``method`` (``hnsw`` with ``m`` and ``ef_construction``, or ``ivfflat`` with
    ``lists``). ``ValueError`` for one pgvector cannot build."""
    from pgvector.django import HnswIndex, IvfflatIndex

    from pgvector_admin.vectors.fields import vector_columns

    columns = {column.name: column for column in vector_columns(model)}
    column = columns.get(spec.get("field", ""))
    if column is None:
        raise ValueError(
            _("%(model)s has no vector field %(field)s.")
            % {"model": model._meta.label, "field": repr(spec.get("field"))}
        )
    metrics = {metric.name: metric for metric in column.metrics}
    metric = metrics.get(spec.get("metric", ""))
    if metric is None:
        raise ValueError(
            _("%(type)s has no metric %(metric)s.")
            % {"type": column.type.name, "metric": repr(spec.get("metric"))}
        )
    opclass = column.type.opclass(metric)
    method = spec.get("method")
    limits = HNSW_MAX_DIMENSIONS if method == "hnsw" else IVFFLAT_MAX_DIMENSIONS
    if method == "ivfflat" and (
        column.type.name == "sparsevec" or (column.type.name == "bit" and metric.name != "hamming")
    ):
        raise ValueError(
            _("pgvector's IVFFlat cannot index %(type)s by %(metric)s.")
            % {"type": column.type.name, "metric": metric.label}
        )
    limit = limits.get(column.type.name)
    if limit is not None and column.dimensions and column.dimensions > limit:
        raise ValueError(
            _(
                "pgvector's %(method)s indexes %(type)s of at most %(limit)s dimensions; "
                "%(field)s has %(dimensions)s."
            )
            % {
                "method": method.upper(),
                "type": column.type.name,
                "limit": grouped(limit),
                "field": column.name,
                "dimensions": grouped(column.dimensions),
            }
        )
    name = spec["name"]
    if method == "hnsw":
        return HnswIndex(
            name=name,
            fields=[column.name],
            m=int(spec.get("m", 16)),
            ef_construction=int(spec.get("ef_construction", 64)),
            opclasses=[opclass],
        )
    if method == "ivfflat":
        return IvfflatIndex(
            name=name, fields=[column.name], lists=int(spec.get("lists", 100)), opclasses=[opclass]
        )
    raise ValueError(
        _("unknown index method %(method)s: hnsw or ivfflat") % {"method": repr(method)}
    )
