"""What the toolset knows of a model's vector field, described once.

A ``VectorColumn`` names the model, the field, its database column, its pgvector type,
its dimensions and the metrics that type has; it parses query text into a value for
that field and renders stored values. Every selector, form, template and command works
from one, so none of them names a model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from pgvector.django import HalfVectorField, VectorField

from catalog.metrics import DENSE_METRICS, Metric
from catalog.vectors import VectorError, format_vector, format_vector_short, norm, parse_vector

# The largest magnitude a halfvec (IEEE half precision) stores.
HALF_MAX = 65504.0


@dataclass(frozen=True)
class VectorType:
    """One of pgvector's column types, with what it allows."""

    name: str
    metrics: tuple[Metric, ...]
    # The most dimensions an HNSW or IVFFlat index on the type may have.
    max_indexed_dimensions: int
    # The largest magnitude one value may have (beyond it pgvector refuses the value).
    max_value: float | None = None

    def opclass(self, metric: Metric) -> str:
        return metric.opclass(self.name)


VECTOR = VectorType("vector", DENSE_METRICS, max_indexed_dimensions=2000)
HALFVEC = VectorType("halfvec", DENSE_METRICS, max_indexed_dimensions=4000, max_value=HALF_MAX)

_TYPES: dict[type[models.Field], VectorType] = {VectorField: VECTOR, HalfVectorField: HALFVEC}


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
                f"{model._meta.label}.{name} is not a vector field this catalog supports "
                f"(VectorField or HalfVectorField)."
            )
        return cls(
            model=model,
            name=name,
            column=field.column,
            type=vector_type,
            dimensions=getattr(field, "dimensions", None),
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

    def parse(self, text: str) -> list[float]:
        """Query text as a value of this field; ``VectorError`` with a message for the user."""
        values = parse_vector(text, dimensions=self.dimensions)
        limit = self.type.max_value
        if limit is not None:
            for position, value in enumerate(values, start=1):
                if abs(value) > limit:
                    raise VectorError(
                        f"Value {position} ({value:g}) is out of range for {self.type.name}: "
                        f"at most ±{limit:g}."
                    )
        return values

    def values(self, obj: models.Model) -> list[float]:
        """The stored vector of ``obj`` as a list of floats."""
        return [float(value) for value in getattr(obj, self.name)]

    def short(self, value: Sequence[float]) -> str:
        """For a table cell: long vectors show their ends, their length and their norm."""
        text = format_vector_short(value)
        if len(value) > 8:
            text += f", norm {norm(value):.4g}"
        return text

    def full(self, value: Sequence[float]) -> str:
        return format_vector(value)

    def undefined_for(self, value: Sequence[float], metric: Metric) -> bool:
        """Cosine distance to the zero vector is NaN in pgvector."""
        return metric.name == "cosine" and not any(math.isfinite(v) and v != 0 for v in value)


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
