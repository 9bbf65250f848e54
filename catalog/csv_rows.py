"""Reading vector files (CSV or TSV) row by row, with a reason for every bad line.

Streams: memory does not grow with the file. The columns are ``embedding``
(required), ``label`` and ``id`` (optional), named in a header line in any case and
with any spaces around them. Line numbers are the file's own, the header being line 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from catalog.vectors import VectorError, parse_vector, plain_vector_text

COLUMNS = ("id", "label", "embedding")
MAX_LABEL_LENGTH = 200
MAX_ID = 2**63 - 1
# A field longer than this cannot be a 3-d vector or a label: csv's default limit is
# 128 KiB, and a line without quotes closing could otherwise swallow the whole file.
MAX_FIELD_SIZE = 1_000_000


class FileError(ValueError):
    """The file as a whole cannot be read as a vector file; the message says why."""


class GoodRow(NamedTuple):
    line: int
    id: int | None
    label: str
    embedding: list[float]
    # The embedding as pgvector reads it, when the file's own text is already in that
    # form (``[1.5,2,3]``, no spaces): passed on as it is, parsed once by PostgreSQL.
    pgvector_text: str | None = None


class BadRow(NamedTuple):
    line: int
    reason: str
    text: str


def read_rows(
    stream: BinaryIO, *, dimensions: int, delimiter: str = ","
) -> Iterator[GoodRow | BadRow]:
    """Yield each data line of ``stream`` as a GoodRow or a BadRow. Blank lines are
    skipped. Raises FileError when the file is empty, not UTF-8 text, or its header
    names no ``embedding`` column or an unknown one."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", errors="strict")
    csv.field_size_limit(MAX_FIELD_SIZE)
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    try:
        header = _read_header(reader)
        positions = _column_positions(header)
        width = len(header)
        end_of_previous = reader.line_num
        for fields in reader:
            line = end_of_previous + 1
            end_of_previous = reader.line_num
            if not fields or (not fields[0].strip() and all(not f.strip() for f in fields)):
                continue
            yield _row(fields, line, positions, width, dimensions)
    except UnicodeDecodeError as error:
        raise FileError(
            f"The file is not UTF-8 text (byte {error.start} of a chunk cannot be decoded): "
            "is it a CSV file?"
        ) from error
    except csv.Error as error:
        raise FileError(f"Line {reader.line_num}: the file is not valid CSV ({error}).") from error
    finally:
        text.detach()


def _read_header(reader: Iterator[list[str]]) -> list[str]:
    for fields in reader:
        if fields and any(field.strip() for field in fields):
            return [field.strip().lower() for field in fields]
    raise FileError(
        "The file is empty: it needs a header line naming the columns, e.g. id,label,embedding."
    )


def _column_positions(header: list[str]) -> dict[str, int]:
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise FileError(
            f"Unknown column {unknown[0]!r} in the header: the columns are "
            "embedding (required), label and id."
        )
    duplicated = {name for name in header if header.count(name) > 1}
    if duplicated:
        raise FileError(f"Column {sorted(duplicated)[0]!r} appears twice in the header.")
    if "embedding" not in header:
        raise FileError("The header has no 'embedding' column.")
    return {name: header.index(name) for name in header}


def _row(
    fields: list[str], line: int, positions: dict[str, int], width: int, dimensions: int
) -> GoodRow | BadRow:
    if len(fields) > width:
        return _bad(line, f"too many columns: {len(fields)} values, the header has {width}", fields)
    if len(fields) < width:
        return _bad(line, f"too few columns: {len(fields)} values, the header has {width}", fields)
    raw_embedding = fields[positions["embedding"]].strip()
    if not raw_embedding:
        return _bad(line, "empty embedding", fields)
    try:
        embedding = parse_vector(raw_embedding, dimensions=dimensions)
    except VectorError as error:
        return _bad(line, f"embedding: {error}", fields)
    label = fields[positions["label"]].strip() if "label" in positions else ""
    if len(label) > MAX_LABEL_LENGTH:
        reason = f"label longer than {MAX_LABEL_LENGTH} characters ({len(label)})"
        return _bad(line, reason, fields)
    if "\x00" in label:
        return _bad(line, "label contains a NUL character, which PostgreSQL cannot store", fields)
    item_id = None
    if "id" in positions and fields[positions["id"]].strip():
        raw_id = fields[positions["id"]].strip()
        if not (raw_id.isascii() and raw_id.isdigit()) or not 1 <= int(raw_id) <= MAX_ID:
            return _bad(line, f"id {raw_id[:30]!r} is not a positive whole number", fields)
        item_id = int(raw_id)
    return GoodRow(line, item_id, label, embedding, plain_vector_text(raw_embedding))


def _bad(line: int, reason: str, fields: list[str]) -> BadRow:
    shown = ",".join(fields)
    return BadRow(line, reason, shown if len(shown) <= 120 else shown[:120] + "…")


def sniff_delimiter(file_name: str) -> str:
    """Tab for .tsv/.tab files, else comma."""
    return "\t" if file_name.lower().endswith((".tsv", ".tab")) else ","
