"""Reading import files (CSV or TSV) row by row, with a reason for every bad line.

Streams: memory does not grow with the file. The columns are a model's, as
``pgvector_admin.transfer.columns.ImportSchema`` describes them, named in a header line in any
case and with any spaces around them. Line numbers are the file's own, the header being
line 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, BinaryIO, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pgvector_admin.transfer.columns import CellError, ImportColumn, ImportSchema, quoted_names

# A field longer than this cannot be a vector of pgvector's sizes or a text of the
# model: csv's default limit is 128 KiB, and a line without quotes closing could
# otherwise swallow the whole file.
MAX_FIELD_SIZE = 1_000_000


class FileError(ValueError):
    """The file as a whole cannot be read as an import file; the message says why."""


class GoodRow(NamedTuple):
    line: int
    # The primary key, None for a new row without one.
    id: Any
    # Field name -> value, for the columns the file has.
    values: dict[str, Any]
    # Field name -> the value as COPY writes it into the staging table.
    db_values: dict[str, Any]


class BadRow(NamedTuple):
    line: int
    reason: str
    text: str


class FileColumns(NamedTuple):
    """The columns a file's header names, in its order, and where each one is."""

    columns: list[ImportColumn]
    width: int
    # The primary key's field name, if the file has that column.
    key: str | None


def read_rows(
    stream: BinaryIO, *, schema: ImportSchema, delimiter: str = ","
) -> Iterator[FileColumns | GoodRow | BadRow]:
    """Yield the file's columns (FileColumns, first), then each data line of ``stream``
    as a GoodRow or a BadRow. Blank lines are skipped. Raises FileError when the file is
    empty, not UTF-8 text, or its header names an unknown column, one twice, or lacks
    one that every row needs."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", errors="strict")
    csv.field_size_limit(MAX_FIELD_SIZE)
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    try:
        header = _read_header(reader, schema)
        file_columns = _file_columns(header, schema)
        yield file_columns
        end_of_previous = reader.line_num
        for fields in reader:
            line = end_of_previous + 1
            end_of_previous = reader.line_num
            if not fields or (not fields[0].strip() and all(not f.strip() for f in fields)):
                continue
            yield _row(fields, line, file_columns)
    except UnicodeDecodeError as error:
        raise FileError(
            _(
                "The file is not UTF-8 text (byte %(byte)s of a chunk cannot be decoded): is it "
                "a CSV file?"
            )
            % {"byte": error.start}
        ) from error
    except csv.Error as error:
        raise FileError(
            _("Line %(line)s: the file is not valid CSV (%(reason)s).")
            % {"line": reader.line_num, "reason": error}
        ) from error
    finally:
        text.detach()


def _read_header(reader: Iterator[list[str]], schema: ImportSchema) -> list[str]:
    for fields in reader:
        if fields and any(field.strip() for field in fields):
            return [field.strip().lower() for field in fields]
    raise FileError(
        _("The file is empty: it needs a header line naming the columns, e.g. %(header)s.")
        % {"header": ",".join(schema.names)}
    )


def _file_columns(header: list[str], schema: ImportSchema) -> FileColumns:
    columns: list[ImportColumn] = []
    for name in header:
        column = schema.column_for(name)
        if column is None:
            raise FileError(
                _("Unknown column %(name)s in the header: the columns of %(things)s are %(names)s.")
                % {
                    "name": repr(name),
                    "things": schema.model._meta.verbose_name_plural,
                    "names": ", ".join(schema.names),
                }
            )
        if column in columns:
            raise FileError(
                _("Column %(name)s appears twice in the header.") % {"name": repr(name)}
            )
        columns.append(column)
    if schema.pk not in columns:
        # Every row is new: each needs every column new rows need.
        missing = schema.needed_for_new_rows(columns)
        if missing:
            raise FileError(
                ngettext(
                    "The header has no %(columns)s column, which new rows need (rows without "
                    "%(key)s are new).",
                    "The header has no %(columns)s columns, which new rows need (rows without "
                    "%(key)s are new).",
                    len(missing),
                )
                % {"columns": quoted_names(missing), "key": schema.pk.name}
            )
    key = next((column.name for column in columns if column.is_pk), None)
    return FileColumns(columns, len(header), key)


def _row(fields: list[str], line: int, file: FileColumns) -> GoodRow | BadRow:
    if len(fields) > file.width:
        reason = _("too many columns: %(values)s values, the header has %(columns)s") % {
            "values": len(fields),
            "columns": file.width,
        }
        return _bad(line, reason, fields)
    if len(fields) < file.width:
        reason = _("too few columns: %(values)s values, the header has %(columns)s") % {
            "values": len(fields),
            "columns": file.width,
        }
        return _bad(line, reason, fields)
    values: dict[str, Any] = {}
    db_values: dict[str, Any] = {}
    for column, raw in zip(file.columns, fields, strict=True):
        try:
            value = column.read(raw)
        except CellError as error:
            return _bad(line, str(error), fields)
        values[column.name] = value
        db_values[column.name] = column.db_value(value, raw)
    key = file.key
    return GoodRow(line, values[key] if key else None, values, db_values)


def _bad(line: int, reason: str, fields: list[str]) -> BadRow:
    shown = ",".join(fields)
    return BadRow(line, reason, shown if len(shown) <= 120 else shown[:120] + "…")


def sniff_delimiter(file_name: str) -> str:
    """Tab for .tsv/.tab files, else comma."""
    return "\t" if file_name.lower().endswith((".tsv", ".tab")) else ","
