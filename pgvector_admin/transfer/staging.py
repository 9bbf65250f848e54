"""An import's staging table: a temporary table with the model's columns, filled by
COPY while the file is validated line by line, then checked as a whole in bulk (keys
repeated, foreign keys that point nowhere, new rows that lack a column they need) and
finally upserted into the model's table in one statement.

The table belongs to the session: it outlives the validating transaction, for a load
that may follow in another one, and ``drop_staging()`` removes it at the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from pgvector_admin.db.identifiers import identifier
from pgvector_admin.transfer.columns import ImportColumn, ImportSchema, quoted_names
from pgvector_admin.transfer.csv_rows import BadRow, FileColumns, GoodRow

STAGING = "pgvector_admin_import_staging"
# The most bad lines each bulk check lists (it counts them all).
LISTED_PER_CHECK = 1000


def _quote(name: str) -> str:
    return identifier(name)


class Staging:
    """The staging table of one import file of one model."""

    def __init__(self, cursor: Any, schema: ImportSchema, file: FileColumns) -> None:
        self.cursor = cursor
        self.schema = schema
        self.file = file
        present = {column.name for column in file.columns}
        self.present = [column for column in schema.columns if column.name in present]
        # Absent columns that new rows get a value for here (the field's default);
        # the others are left to the database (its default, or NULL).
        self.filled = [
            column
            for column in schema.columns
            if column.name not in present and (column.is_pk or column.fills_absent)
        ]
        self.columns = [column for column in schema.columns if column in self.present + self.filled]
        self.table = _quote(schema.table)
        self.key = _quote(schema.pk.db_column)
        # For each staged column: its name, the column, whether a row's value comes from
        # the field's default (absent from the file; or an empty key that has one), and
        # that value when it is the same for every row.
        self._plan = []
        for column in self.columns:
            per_row = column.field.has_default()
            filled = column in self.filled
            constant = None if per_row or not filled else column.db_value(column.default())
            self._plan.append(
                (
                    column.name,
                    column,
                    filled and per_row,
                    column.is_pk and per_row,
                    filled,
                    constant,
                )
            )

    # Filling ------------------------------------------------------------------------

    def create(self) -> None:
        definitions = ", ".join(f"{_quote(c.db_column)} {c.db_type}" for c in self.columns)
        self.cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGING}")
        self.cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING} (line bigint NOT NULL, {definitions})"
        )

    def copy(self) -> Any:
        """COPY into the table (a context manager); ``write(copy, row)`` for each row."""
        names = ", ".join(["line", *(_quote(c.db_column) for c in self.columns)])
        return self.cursor.cursor.copy(f"COPY {STAGING} ({names}) FROM STDIN")

    def write(self, copy: Any, row: GoodRow) -> None:
        values: list[Any] = [row.line]
        given = row.db_values
        for name, column, default, key_default, filled, constant in self._plan:
            if default or (key_default and given[name] is None):
                values.append(column.db_value(column.default()))
            elif filled:
                values.append(constant)
            else:
                values.append(given[name])
        copy.write_row(values)

    # Checks over the whole file -----------------------------------------------------

    def bad_lines(self, *, replace: bool) -> Iterable[tuple[list[BadRow], int]]:
        """Each bulk check's bad lines (the first LISTED_PER_CHECK) and their count."""
        if self.file.key:
            yield self._repeated(self.schema.pk, "id")
        for column in self.present:
            if column.field.unique and not column.is_pk:
                yield self._repeated(column, column.name)
            if column.is_foreign_key:
                yield self._dangling(column)
        lacking = self.schema.needed_for_new_rows(self.present)
        if self.file.key and lacking:
            yield self._new_rows_lacking(lacking, replace=replace)

    def _rows(self, sql: str, params: list[Any] | None = None) -> tuple[list[tuple], int]:
        self.cursor.execute(
            f"SELECT *, count(*) OVER () FROM ({sql}) found ORDER BY 1 LIMIT {LISTED_PER_CHECK}",
            params or [],
        )
        rows = self.cursor.fetchall()
        return [row[:-1] for row in rows], rows[0][-1] if rows else 0

    def _repeated(self, column: ImportColumn, what: str) -> tuple[list[BadRow], int]:
        """Every line whose value of ``column`` an earlier line already has."""
        name = _quote(column.db_column)
        rows, count = self._rows(
            f"SELECT line, value, first FROM (SELECT line, {name}::text AS value, "
            f"min(line) OVER (PARTITION BY {name}) AS first "
            f"FROM {STAGING} WHERE {name} IS NOT NULL) repeated WHERE line <> first"
        )
        bad = [
            BadRow(
                line,
                _("duplicate %(what)s %(value)s (first on line %(first)s)")
                % {"what": what, "value": value, "first": first},
                "",
            )
            for line, value, first in rows
        ]
        return bad, count

    def _dangling(self, column: ImportColumn) -> tuple[list[BadRow], int]:
        related = column.field.related_model._meta
        target = _quote(column.field.target_field.column)
        name = _quote(column.db_column)
        rows, count = self._rows(
            f"SELECT s.line, s.{name}::text FROM {STAGING} s WHERE s.{name} IS NOT NULL AND "
            f"NOT EXISTS (SELECT 1 FROM {_quote(related.db_table)} t WHERE t.{target} = s.{name})"
        )
        bad = [
            BadRow(
                line,
                _("%(column)s: there is no %(thing)s with id %(value)s")
                % {"column": column.name, "thing": related.verbose_name, "value": value},
                "",
            )
            for line, value in rows
        ]
        return bad, count

    def _new_rows_lacking(
        self, lacking: list[ImportColumn], *, replace: bool
    ) -> tuple[list[BadRow], int]:
        names = quoted_names(lacking)
        existing = (
            "false"
            if replace  # the table is emptied first: every row is new
            else f"EXISTS (SELECT 1 FROM {self.table} t WHERE t.{self.key} = s.{self.key})"
        )
        rows, count = self._rows(
            f"SELECT s.line FROM {STAGING} s WHERE s.{self.key} IS NULL OR NOT {existing}"
        )
        reason = _("a new row needs %(names)s, and the file has none") % {"names": names}
        return [BadRow(line, reason, "") for (line,) in rows], count

    # Reading ------------------------------------------------------------------------

    def count_updates(self) -> int:
        self.cursor.execute(
            f"SELECT count(*) FROM {STAGING} s JOIN {self.table} t ON t.{self.key} = s.{self.key}"
        )
        return self.cursor.fetchone()[0]

    # Writing ------------------------------------------------------------------------

    def apply(self, *, replace: bool) -> None:
        """Update the rows whose key exists (only the file's columns change), add the
        others, move an automatic key's sequence past them, add the rows without a key.

        An update and an insert rather than one INSERT ... ON CONFLICT: PostgreSQL
        checks NOT NULL before the conflict, so a file of a few columns could not
        update rows whose other columns it does not have."""
        columns = ", ".join(_quote(c.db_column) for c in self.columns)
        changed = [_quote(c.db_column) for c in self.present if not c.is_pk]
        if changed and not replace:
            assignments = ", ".join(f"{name} = s.{name}" for name in changed)
            self.cursor.execute(
                f"UPDATE {self.table} t SET {assignments} FROM {STAGING} s "
                f"WHERE t.{self.key} = s.{self.key}"
            )
        self.cursor.execute(
            f"INSERT INTO {self.table} ({columns}) SELECT {columns} FROM {STAGING} s "
            f"WHERE s.{self.key} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {self.table} t WHERE t.{self.key} = s.{self.key}) ORDER BY line"
        )
        if not self.schema.pk.is_auto:
            return
        self.cursor.execute(
            "SELECT setval(s.seq, m.max_id) "
            "FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) s, "
            f"(SELECT max({self.key}) AS max_id FROM {self.table}) m "
            "WHERE s.seq IS NOT NULL AND m.max_id > COALESCE(pg_sequence_last_value(s.seq), 0)",
            [self.schema.table, self.schema.pk.db_column],
        )
        without_key = ", ".join(_quote(c.db_column) for c in self.columns if not c.is_pk)
        self.cursor.execute(
            f"INSERT INTO {self.table} ({without_key}) SELECT {without_key} FROM {STAGING} "
            f"WHERE {self.key} IS NULL ORDER BY line"
        )


def drop_staging() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGING}")
