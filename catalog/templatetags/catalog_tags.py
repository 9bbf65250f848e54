"""Template filters for vectors and distances."""

from __future__ import annotations

from collections.abc import Sequence

from django import template

from catalog.metrics import Metric
from catalog.selectors import Neighbor
from catalog.vectors import format_vector_short

register = template.Library()


@register.filter
def distance(neighbor: Neighbor, metric: Metric) -> str:
    """The neighbour's value for ``metric``, to 6 significant digits."""
    return f"{neighbor.distance(metric):.6g}"


@register.filter
def vector_short(values: Sequence[float]) -> str:
    """A vector for a table cell."""
    return format_vector_short(values)
