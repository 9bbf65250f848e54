"""What the toolset knows of a model's vector field, described once.

A ``VectorColumn`` names the model, the field, its database column, its pgvector type,
its dimensions and the metrics that type has; it parses query text into a value for
that field and renders stored values. Every selector, form, template and command works
from one, so none of them names a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext as _
from pgvector.django import BitField, HalfVectorField, SparseVectorField, VectorField

from pgvector_admin.numbers import grouped
from pgvector_admin.vectors.metrics import BIT_METRICS, DENSE_METRICS, Metric
from pgvector_admin.vectors.parsing import (
    VectorError,
    format_sparse,
    format_vector,
    format_vector_ends,
    format_vector_short,
    norm,
    parse_bits,
    parse_sparse_vector,
    parse_vector,
    to_text,
)

# The largest magnitude a halfvec (IEEE half precision) stores.
HALF_MAX = 65504.0


# A dense vector's table cell shows it whole up to this many values, else its first
# values, its last, its length and its norm.
SHORT_MAX_ITEMS = 8


def _with_norm(text: str, magnitude: float) -> str:
    return _("%(vector)s, norm %(norm)s") % {"vector": text, "norm": f"{magnitude:.4g}"}


@dataclass(frozen=True)
class VectorType:
    """One of pgvector's column types: its metrics, its limits, and how its values are
    read from text and shown. ``vector`` and ``halfvec`` hold lists of floats."""

    name: str
    metrics: tuple[Metric, ...]
    # The largest magnitude one value may have (beyond it pgvector refuses the value).
    max_value: float | None = None

    def opclass(self, metric: Metric) -> str:
        return metric.opclass(self.name)

    def parse(self, text: str, dimensions: int | None) -> Any:
        values = parse_vector(text, dimensions=dimensions)
        if self.max_value is not None:
            for position, value in enumerate(values, start=1):
                if abs(value) > self.max_value:
                    raise VectorError(
                        _(
                            "Value %(position)s (%(value)s) is out of range for %(type)s: at "
                            "most ±%(most)s."
                        )
                        % {
                            "position": position,
                            "value": f"{value:g}",
                            "type": self.name,
                            "most": f"{self.max_value:g}",
                        }
                    )
        return values

    def query(self, stored: Any) -> Any:
        """A stored value, as the distance functions take it."""
        if type(stored) is list:  # as pgvector-python reads it: already floats
            return stored
        return [float(value) for value in stored]

    def length(self, value: Any) -> int:
        return len(value)

    def short(self, value: Any) -> str:
        """For a table cell: long vectors show their ends, their length and their norm."""
        text = format_vector_short(value, max_items=SHORT_MAX_ITEMS)
        if len(value) <= SHORT_MAX_ITEMS:
            return text
        return _with_norm(text, norm(value))

    def short_of_parts(
        self, dimensions: int, magnitude: float, first: Sequence[float], last: float
    ) -> str:
        """``short()`` of a value known by its parts: its length, its norm, its first
        ``SHORT_MAX_ITEMS`` values (all of them when it is that short) and its last."""
        if dimensions <= SHORT_MAX_ITEMS:
            return format_vector(first, digits=4)
        text = format_vector_ends(first[: SHORT_MAX_ITEMS - 2], last, dimensions)
        return _with_norm(text, magnitude)

    def full(self, value: Any) -> str:
        return format_vector(value)

    def text(self, value: Any) -> str:
        """pgvector's own text of a value, exact, as in CSV files."""
        return to_text(value)

    def magnitude(self, value: Any) -> float:
        return norm(value)

    def is_zero(self, value: Any) -> bool:
        return not any(value)


@dataclass(frozen=True)
class SparseType(VectorType):
    """``sparsevec``: pgvector-python's ``SparseVector`` (indices from 0 in Python, from
    1 in pgvector's text)."""

    def parse(self, text: str, dimensions: int | None) -> Any:
        return parse_sparse_vector(text, dimensions=dimensions)

    def query(self, stored: Any) -> Any:
        return stored

    def length(self, value: Any) -> int:
        return value.dimensions()

    def short(self, value: Any) -> str:
        nonzero = len(value.indices())
        return _("%(vector)s (%(nonzero)s non-zero), norm %(norm)s") % {
            "vector": format_sparse(value, max_items=4, digits=4),
            "nonzero": grouped(nonzero),
            "norm": f"{norm(value.values()):.4g}",
        }

    def full(self, value: Any) -> str:
        return format_sparse(value)

    def text(self, value: Any) -> str:
        return value.to_text()

    def magnitude(self, value: Any) -> float:
        return norm(value.values())

    def is_zero(self, value: Any) -> bool:
        return not any(value.values())


@dataclass(frozen=True)
class BitType(VectorType):
    """``bit``: strings of 0 and 1, compared by Hamming or Jaccard distance."""

    def parse(self, text: str, dimensions: int | None) -> Any:
        return parse_bits(text, length=dimensions)

    def query(self, stored: Any) -> Any:
        return str(stored)

    def short(self, value: Any) -> str:
        bits = str(value)
        if len(bits) <= 32:
            return bits
        return _("%(start)s…%(end)s (%(bits)s bits, %(set)s set)") % {
            "start": bits[:16],
            "end": bits[-8:],
            "bits": grouped(len(bits)),
            "set": grouped(bits.count("1")),
        }

    def full(self, value: Any) -> str:
        bits = str(value)
        return " ".join(bits[start : start + 8] for start in range(0, len(bits), 8))

    def text(self, value: Any) -> str:
        return str(value)

    def magnitude(self, value: Any) -> float:
        return float(str(value).count("1"))

    def is_zero(self, value: Any) -> bool:
        return "1" not in str(value)


VECTOR = VectorType("vector", DENSE_METRICS)
HALFVEC = VectorType("halfvec", DENSE_METRICS, max_value=HALF_MAX)
SPARSEVEC = SparseType("sparsevec", DENSE_METRICS)
BIT = BitType("bit", BIT_METRICS)

_TYPES: dict[type[models.Field], VectorType] = {
    VectorField: VECTOR,
    HalfVectorField: HALFVEC,
    SparseVectorField: SPARSEVEC,
    BitField: BIT,
}


@dataclass(frozen=True)
class VectorColumn:
    """A vector field of a model: everything a search, a form or a page needs of it."""

    model: type[models.Model]
    name: str
    column: str
    type: VectorType
    dimensions: int | None

    @classmethod
    def of(cls, model: type[models.Model], name: str) -> VectorColumn:
        """The vector field ``name`` of ``model``; ImproperlyConfigured if it is not one."""
        field = model._meta.get_field(name)
        vector_type = _type_of(field)
        if vector_type is None:
            raise ImproperlyConfigured(
                f"{model._meta.label}.{name} is not a pgvector field (VectorField, "
                "HalfVectorField, SparseVectorField or BitField)."
            )
        return cls(
            model=model,
            name=name,
            column=field.column,
            type=vector_type,
            # BitField calls its dimension count "length".
            dimensions=getattr(field, "dimensions", getattr(field, "length", None)),
        )

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def label(self) -> str:
        return str(self.model._meta.get_field(self.name).verbose_name)

    @property
    def metrics(self) -> tuple[Metric, ...]:
        return self.type.metrics

    @property
    def default_metric(self) -> Metric:
        return self.type.metrics[0]

    def metric(self, name: str) -> Metric:
        """The metric called ``name`` among this type's; ``ValueError`` if it has none."""
        for metric in self.type.metrics:
            if metric.name == name:
                return metric
        names = ", ".join(metric.name for metric in self.type.metrics)
        raise ValueError(f"{self.type.name} columns have the metrics {names}, not {name!r}.")

    def parse(self, text: str) -> Any:
        """Query text as a value of this field; ``VectorError`` with a message for the user."""
        return self.type.parse(text, self.dimensions)

    def values(self, obj: models.Model) -> Any:
        """The stored value of ``obj``, as the distance functions take it (None: the row
        has none yet)."""
        stored = getattr(obj, self.name)
        return None if stored is None else self.type.query(stored)

    def short(self, value: Any) -> str:
        return self.type.short(value)

    def full(self, value: Any) -> str:
        return self.type.full(value)

    def text(self, value: Any) -> str:
        return self.type.text(value)

    def undefined_for(self, value: Any, metric: Metric) -> bool:
        """Cosine distance to the zero vector is NaN in pgvector."""
        return metric.name == "cosine" and self.type.is_zero(value)


def _type_of(field: Any) -> VectorType | None:
    for field_class, vector_type in _TYPES.items():
        if isinstance(field, field_class):
            return vector_type
    return None


def vector_columns(
    model: type[models.Model], names: Sequence[str] | None = None
) -> list[VectorColumn]:
    """The vector fields of ``model``: those named, or every supported one it has."""
    if names is not None:
        return [VectorColumn.of(model, name) for name in names]
    return [
        VectorColumn.of(model, field.name)
        for field in model._meta.get_fields()
        if _type_of(field) is not None
    ]
