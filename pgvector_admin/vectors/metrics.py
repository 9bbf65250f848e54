"""The metric registry: name <-> distance function <-> operator <-> index opclass."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from pgvector.django import (
    CosineDistance,
    HammingDistance,
    JaccardDistance,
    L1Distance,
    L2Distance,
    MaxInnerProduct,
)
from pgvector.django.functions import DistanceBase


@dataclass(frozen=True)
class Metric:
    """One way to compare vectors, as pgvector spells it. The same metric serves every
    type that has it: the index opclass is the type's name before ``opclass_suffix``
    (``vector_cosine_ops``, ``halfvec_cosine_ops``, ``sparsevec_cosine_ops``)."""

    name: str
    label: str
    operator: str
    function: type[DistanceBase]
    opclass_suffix: str
    column: str
    # pgvector's <#> is the *negative* inner product, so that ascending order puts the
    # largest inner product first, as an index scan needs. We show the true value.
    negated: bool = False

    def shown(self, raw: float) -> float:
        """The value as a user expects it (the true inner product for ``ip``)."""
        return -raw if self.negated else raw

    def opclass(self, type_name: str) -> str:
        """The opclass an index on a ``type_name`` column needs to serve this metric."""
        return f"{type_name}{self.opclass_suffix}"


# Labels are translated when shown (lazily: the metrics are made at import).
COSINE = Metric(
    "cosine", _("cosine distance"), "<=>", CosineDistance, "_cosine_ops", "cosine_distance"
)
L2 = Metric("l2", _("L2 distance"), "<->", L2Distance, "_l2_ops", "l2_distance")
INNER_PRODUCT = Metric(
    "ip", _("inner product"), "<#>", MaxInnerProduct, "_ip_ops", "inner_product", negated=True
)
L1 = Metric("l1", _("L1 distance"), "<+>", L1Distance, "_l1_ops", "l1_distance")
HAMMING = Metric(
    "hamming", _("Hamming distance"), "<~>", HammingDistance, "_hamming_ops", "hamming_distance"
)
JACCARD = Metric(
    "jaccard", _("Jaccard distance"), "<%>", JaccardDistance, "_jaccard_ops", "jaccard_distance"
)

# The metrics of vector, halfvec and sparsevec columns, and of bit columns.
DENSE_METRICS: tuple[Metric, ...] = (COSINE, L2, INNER_PRODUCT, L1)
BIT_METRICS: tuple[Metric, ...] = (HAMMING, JACCARD)
METRICS: dict[str, Metric] = {metric.name: metric for metric in DENSE_METRICS}
DEFAULT_METRIC = COSINE


# Every pgvector distance operator, with what it computes and the opclass suffix an
# index needs to serve it (vector_, halfvec_, sparsevec_ or bit_ before it).
OPERATOR_NAMES: dict[str, str] = {
    "<->": _("L2 distance"),
    "<#>": _("negative inner product"),
    "<=>": _("cosine distance"),
    "<+>": _("L1 distance"),
    "<~>": _("Hamming distance"),
    "<%>": _("Jaccard distance"),
}
OPCLASS_SUFFIXES: dict[str, str] = {
    metric.operator: metric.opclass_suffix for metric in (*DENSE_METRICS, *BIT_METRICS)
}


def operator_for_opclass(opclass: str) -> str | None:
    """The distance operator an index with ``opclass`` can serve, e.g. ``<=>`` for
    ``vector_cosine_ops`` or ``halfvec_cosine_ops``."""
    for operator, suffix in OPCLASS_SUFFIXES.items():
        if opclass.endswith(suffix):
            return operator
    return None
