"""Vectors as text and back: the one place for the rules of what a vector may be, for
each of pgvector's types (dense ``vector``/``halfvec`` here first; ``sparsevec`` and
``bit`` below).

Accepted: ``[3,1,2]``, ``3,1,2``, ``3 1 2``, ``[ 3.0, 1e0, 2 ]`` — numbers in plain
ASCII decimal or exponent notation, separated by commas and/or spaces, optionally in
one pair of square brackets. Refused, with a message saying why: empty text, anything
that is not such a number (including unicode digits), NaN, infinity, values outside
PostgreSQL's ``real`` (float4) range, which pgvector stores, and a wrong dimension count.
"""

from __future__ import annotations

import contextlib
import math
import re
import struct
from array import array
from collections.abc import Sequence

import numpy as np
from django.utils.translation import gettext as _
from pgvector import SparseVector

from pgvector_admin.numbers import grouped

# pgvector stores float4: finite values up to this magnitude...
FLOAT4_MAX = 3.4028234663852886e38
# ...and reads any number below this one as at most FLOAT4_MAX (above, it would round
# to infinity, which pgvector refuses).
FLOAT4_OVERFLOW = 3.4028235677973366e38
# Bounds the work done on hostile input; generous for 16,000-d vectors.
MAX_TEXT_LENGTH = 500_000

_PLAIN = re.compile(r"\[?[0-9eE+\-.,]+\]?", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_SEPARATOR = re.compile(r"\s*,\s*|\s+")
_NAN = re.compile(r"[+-]?nan", re.IGNORECASE)
_INFINITY = re.compile(r"[+-]?inf(inity)?", re.IGNORECASE)


_FLOAT4 = struct.Struct("<f")


class VectorError(ValueError):
    """Text that is not a valid vector; the message says why, in words for the user."""


def parse_vector(text: str, *, dimensions: int | None = None) -> list[float]:
    """Parse ``text`` into a list of floats, checking the count when ``dimensions`` is given.

    Raises ``VectorError`` with a message fit to show the user.
    """
    if len(text) > MAX_TEXT_LENGTH:
        raise VectorError(
            _("The vector text is too long (%(length)s characters).")
            % {"length": grouped(len(text))}
        )
    values = _parse_plain(text)
    if values is not None:
        if dimensions is not None and len(values) != dimensions:
            raise _dimension_error(dimensions, len(values))
        return values
    body = text.strip()
    if body.startswith("[") or body.endswith("]"):
        if not (body.startswith("[") and body.endswith("]")):
            raise VectorError(_("Unbalanced brackets: write [1, 2, 3] or 1, 2, 3."))
        body = body[1:-1].strip()
    if not body:
        raise VectorError(_("Enter a vector, for example [3, 1, 2]."))
    tokens = _SEPARATOR.split(body)
    values = [_parse_number(token, position) for position, token in enumerate(tokens, start=1)]
    if dimensions is not None and len(values) != dimensions:
        raise _dimension_error(dimensions, len(values))
    return values


def _dimension_error(expected: int, given: int) -> VectorError:
    return VectorError(
        _(
            "expected %(expected)s dimensions, not %(given)s: this column's vectors have "
            "%(expected)s numbers."
        )
        % {"expected": expected, "given": given}
    )


def _parse_plain(text: str) -> list[float] | None:
    """The fast path for the common case, ``[1.5,2,3]`` or ``1.5,2,3``: plain ASCII
    digits and commas, one ``float()`` per value. Returns None when anything is unusual
    (spaces, brackets unbalanced, NaN, infinity, out of range...), and the strict parser
    then finds the value to blame."""
    body = text.strip()
    if not _PLAIN.fullmatch(body):
        return None
    if body.startswith("["):
        body = body[1:-1]
    try:
        values = [float(part) for part in body.split(",")]
    except ValueError:
        return None
    if max(map(abs, values)) >= FLOAT4_OVERFLOW:
        return None
    return values


def plain_vector_text(text: str) -> str | None:
    """``text`` in pgvector's own input form (``[1.5,2,3]``) when it is plain digits and
    commas, so that it can be handed to PostgreSQL as it is; None otherwise. Call it
    on text that ``parse_vector`` accepted."""
    body = text.strip()
    if not _PLAIN.fullmatch(body):
        return None
    return body if body.startswith("[") else f"[{body}]"


def _parse_number(token: str, position: int) -> float:
    if _NAN.fullmatch(token):
        raise VectorError(
            _("Value %(position)s is NaN: vectors cannot contain NaN.") % {"position": position}
        )
    if _INFINITY.fullmatch(token):
        raise VectorError(
            _("Value %(position)s is infinite: vectors must be finite.") % {"position": position}
        )
    if not _NUMBER.fullmatch(token):
        shown = token if len(token) <= 20 else token[:20] + "…"
        raise VectorError(
            _("Value %(position)s (%(value)s) is not a number.")
            % {"position": position, "value": repr(shown)}
        )
    value = float(token)
    if not math.isfinite(value) or abs(value) >= FLOAT4_OVERFLOW:
        raise VectorError(
            _(
                "Value %(position)s (%(value)s) is out of range: pgvector stores 4-byte "
                "floats, at most ±%(most)s."
            )
            % {"position": position, "value": token, "most": f"{FLOAT4_MAX:.4g}"}
        )
    return value


def format_vector(values: Sequence[float], *, digits: int = 6) -> str:
    """Render a whole vector compactly, e.g. ``[3, 1, 2]`` or ``[0.1, 0.25, 1e-07]``."""
    return "[" + ", ".join(f"{float(value):.{digits}g}" for value in values) + "]"


def format_vector_short(values: Sequence[float], *, max_items: int = 8, digits: int = 4) -> str:
    """Render a vector for a table cell: long vectors show their ends and their length."""
    if len(values) <= max_items:
        return format_vector(values, digits=digits)
    return format_vector_ends(values[: max_items - 2], values[-1], len(values), digits=digits)


def format_vector_ends(head: Sequence[float], last: float, count: int, *, digits: int = 4) -> str:
    """A long vector by its first values ``head``, its ``last`` and its length ``count``:
    ``[0.1, 0.2, …, 0.9] (768 dims)``."""
    return _("[%(head)s, …, %(tail)s] (%(count)s dims)") % {
        "head": ", ".join(f"{float(v):.{digits}g}" for v in head),
        "tail": f"{float(last):.{digits}g}",
        "count": count,
    }


def to_text(values: Sequence[float]) -> str:
    """A vector as text, ``[1.0,2.0,3.5]``: each value the shortest decimal that reads
    back as the same 4-byte float pgvector stores, so the text round-trips exactly."""
    return "[" + ",".join(float4_repr(value) for value in values) + "]"


def query_text(values: Sequence[float]) -> str:
    """A dense vector as pgvector's text for a statement, ``[3,1,2.5]``: each value
    rounded to the 4-byte float pgvector stores (as pgvector-python's ``Vector`` does)
    and written with nine significant digits, which read back as exactly that float.
    A third of the time of ``Vector.to_text()`` (0.15 against 0.46 ms at 768-d) for a
    shorter statement; ``to_text`` writes the shortest decimals, for people."""
    floats = array("f", values.tolist() if hasattr(values, "tolist") else values)
    return "[" + ",".join([f"{value:.9g}" for value in floats]) + "]"


def float4_repr(value: float) -> str:
    """The shortest ``repr`` of a float that rounds to the same float4 as ``value``.

    pgvector stores float4, and hands back e.g. 0.1 as 0.10000000149011612; this
    writes it as ``0.1`` again.
    """
    target = _FLOAT4.pack(value)
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        with contextlib.suppress(OverflowError):  # rounded past float4's largest value
            if _FLOAT4.pack(float(text)) == target:
                return repr(float(text))
    return repr(value)


def norm(values: Sequence[float]) -> float:
    """The Euclidean length of a vector (in float64: a 768-d row's norm in microseconds,
    for every row of a results table)."""
    array = np.asarray(values, dtype=np.float64)
    return math.sqrt(float(np.dot(array, array)))


# Sparse vectors -----------------------------------------------------------------------

_SPARSE = re.compile(r"\{(?P<body>[^{}]*)\}\s*/\s*(?P<dimensions>[0-9]+)", re.ASCII)
_INDEX = re.compile(r"[0-9]+", re.ASCII)


def parse_sparse_vector(text: str, *, dimensions: int | None = None) -> SparseVector:
    """Parse pgvector's sparse text, ``{1:0.5,7:2}/10`` (indices from 1, the dimension
    count after the slash), or a dense list of every value (``[0, 0.5, 0]``).

    Raises ``VectorError`` with a message fit to show the user.
    """
    if len(text) > MAX_TEXT_LENGTH:
        raise VectorError(
            _("The vector text is too long (%(length)s characters).")
            % {"length": grouped(len(text))}
        )
    body = text.strip()
    match = _SPARSE.fullmatch(body)
    if match is None:
        if body.startswith("{"):
            raise VectorError(
                _(
                    "Write a sparse vector as {index:value, …}/dimensions, e.g. {1:0.5,7:2}/10 "
                    "(indices start at 1), or as the list of all its values."
                )
            )
        return SparseVector(parse_vector(text, dimensions=dimensions))
    count = int(match["dimensions"])
    if count < 1:
        raise VectorError(_("A sparse vector needs at least 1 dimension."))
    if dimensions is not None and count != dimensions:
        raise _dimension_error(dimensions, count)
    entries: dict[int, float] = {}
    inner = match["body"].strip()
    for position, part in enumerate(inner.split(",") if inner else [], start=1):
        index_text, colon, value_text = part.partition(":")
        index_text = index_text.strip()
        if not colon or not _INDEX.fullmatch(index_text):
            shown = part.strip()[:20]
            raise VectorError(
                _("Element %(position)s (%(value)s) is not index:value, e.g. 7:2.5.")
                % {"position": position, "value": repr(shown)}
            )
        index = int(index_text)
        if not 1 <= index <= count:
            raise VectorError(
                _("Index %(index)s is outside 1 to %(count)s: indices start at 1.")
                % {"index": index, "count": count}
            )
        if index - 1 in entries:
            raise VectorError(_("Index %(index)s appears twice.") % {"index": index})
        value = _parse_number(value_text.strip(), position)
        if value != 0:
            entries[index - 1] = value
    return SparseVector(entries, count)


def format_sparse(value: SparseVector, *, max_items: int | None = None, digits: int = 6) -> str:
    """``{1:0.5, 7:2}/10`` (indices from 1, as pgvector writes them); with ``max_items``,
    the first ones and an ellipsis."""
    pairs = list(zip(value.indices(), value.values(), strict=True))
    shown = pairs if max_items is None else pairs[:max_items]
    body = ", ".join(f"{index + 1}:{float(v):.{digits}g}" for index, v in shown)
    if len(shown) < len(pairs):
        body += ", …"
    return f"{{{body}}}/{value.dimensions()}"


# Bit vectors --------------------------------------------------------------------------


def parse_bits(text: str, *, length: int | None = None) -> str:
    """Parse bits, ``0101…`` (spaces between groups allowed), checking the count when
    ``length`` is given. Raises ``VectorError`` with a message fit to show the user."""
    if len(text) > MAX_TEXT_LENGTH:
        raise VectorError(f"The bit text is too long ({len(text):,} characters).")
    bits = "".join(text.split())
    if not bits:
        raise VectorError(_("Enter bits, for example 01011001."))
    for position, character in enumerate(bits, start=1):
        if character not in "01":
            raise VectorError(
                _("Character %(position)s (%(value)s) is not 0 or 1: write bits as 01011001.")
                % {"position": position, "value": repr(character)}
            )
    if length is not None and len(bits) != length:
        raise VectorError(
            _("expected %(expected)s bits, not %(given)s.")
            % {"expected": length, "given": len(bits)}
        )
    return bits
