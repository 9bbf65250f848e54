"""What a vector index on an expression serves, and the query shape that uses it.

pgvector indexes a column, or an expression of it: the column cast to ``halfvec`` (an
index half the size) or binary-quantized to ``bit`` (a 32nd). PostgreSQL uses such an
index only when the ORDER BY repeats the indexed expression exactly:

    ORDER BY (embedding)::halfvec(768) <=> '[...]'::halfvec(768)
    ORDER BY (binary_quantize(embedding))::bit(768) <~> binary_quantize('[...]')

``shape_of(index key)`` reads the key PostgreSQL writes in the index definition;
``IndexShape.order_expression`` builds the matching Django expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Func, Value
from django.db.models.functions import Cast
from pgvector.django import BitField, HalfVectorField, VectorField

# "embedding", "(embedding)::halfvec(768)", "((embedding)::halfvec(768))",
# "(binary_quantize(embedding))::bit(768)", with or without quotes and parentheses.
_CAST = re.compile(
    r"""^\(*
    (?P<quantize>binary_quantize\()?\(*"?(?P<column>[A-Za-z_][\w$]*)"?\)*
    ::(?P<type>halfvec|vector|bit)\((?P<dimensions>\d+)\)\)*$""",
    re.X,
)
_PLAIN = re.compile(r'^\(*"?(?P<column>[A-Za-z_][\w$]*)"?\)*$')


class BinaryQuantize(Func):
    """pgvector's ``binary_quantize(vector)``: a bit per dimension, set where the value
    is positive."""

    function = "binary_quantize"
    output_field = BitField()


@dataclass(frozen=True)
class IndexShape:
    """How an index's key relates to a column: the column itself, the column cast to
    another type (``halfvec``, ``vector``), or binary-quantized to ``bit``."""

    column: str
    cast_type: str | None = None
    dimensions: int | None = None
    quantized: bool = False

    @property
    def is_plain(self) -> bool:
        return self.cast_type is None

    @property
    def type_name(self) -> str | None:
        """The pgvector type the index holds (None: the column's own)."""
        return "bit" if self.quantized else self.cast_type

    def describe(self) -> str:
        if self.quantized:
            return f"binary_quantize({self.column})::bit({self.dimensions})"
        if self.cast_type:
            return f"{self.column}::{self.cast_type}({self.dimensions})"
        return self.column

    def order_expression(self, field_name: str, metric: Any, vector: Any) -> Any:
        """The distance expression this index serves, for ``metric`` (of the type the
        index holds) to the query ``vector``."""
        if self.quantized:
            bits = BitField(length=self.dimensions)
            key = Cast(BinaryQuantize(field_name), output_field=bits)
            query = BinaryQuantize(Cast(Value(_vector_text(vector)), output_field=VectorField()))
            return metric.function(key, query)
        if self.cast_type:
            field_class = HalfVectorField if self.cast_type == "halfvec" else VectorField
            output = field_class(dimensions=self.dimensions)
            key = Cast(field_name, output_field=output)
            query = Cast(Value(_vector_text(vector)), output_field=output)
            return metric.function(key, query)
        return metric.function(field_name, vector)


def shape_of(key: str) -> IndexShape | None:
    """The shape of an index key as ``pg_get_indexdef(oid, 1, true)`` writes it; None for
    an expression this module does not know."""
    key = key.strip()
    plain = _PLAIN.fullmatch(key)
    if plain:
        return IndexShape(plain["column"])
    cast = _CAST.fullmatch(key)
    if cast is None:
        return None
    quantized = bool(cast["quantize"])
    if quantized != (cast["type"] == "bit"):
        return None
    return IndexShape(
        cast["column"],
        cast_type=cast["type"],
        dimensions=int(cast["dimensions"]),
        quantized=quantized,
    )


def _vector_text(vector: Any) -> str:
    if hasattr(vector, "to_text"):
        return vector.to_text()
    return "[" + ",".join(repr(float(value)) for value in vector) + "]"
