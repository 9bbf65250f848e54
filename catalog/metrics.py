"""The metric registry: name <-> distance function <-> operator <-> index opclass."""

from __future__ import annotations

from dataclasses import dataclass

from pgvector.django import CosineDistance, L1Distance, L2Distance, MaxInnerProduct
from pgvector.django.functions import DistanceBase


@dataclass(frozen=True)
class Metric:
    """One way to compare vectors, as pgvector spells it."""

    name: str
    label: str
    operator: str
    function: type[DistanceBase]
    opclass: str
    column: str
    # pgvector's <#> is the *negative* inner product, so that ascending order puts the
    # largest inner product first, as an index scan needs. We show the true value.
    negated: bool = False

    def shown(self, raw: float) -> float:
        """The value as a user expects it (the true inner product for ``ip``)."""
        return -raw if self.negated else raw


COSINE = Metric(
    "cosine", "cosine distance", "<=>", CosineDistance, "vector_cosine_ops", "cosine_distance"
)
L2 = Metric("l2", "L2 distance", "<->", L2Distance, "vector_l2_ops", "l2_distance")
INNER_PRODUCT = Metric(
    "ip", "inner product", "<#>", MaxInnerProduct, "vector_ip_ops", "inner_product", negated=True
)
L1 = Metric("l1", "L1 distance", "<+>", L1Distance, "vector_l1_ops", "l1_distance")

METRICS: dict[str, Metric] = {metric.name: metric for metric in (COSINE, L2, INNER_PRODUCT, L1)}
DEFAULT_METRIC = COSINE


# Every pgvector distance operator, with what it computes and the opclass suffix an
# index needs to serve it (vector_, halfvec_, sparsevec_ or bit_ before it).
OPERATOR_NAMES: dict[str, str] = {
    "<->": "L2 distance",
    "<#>": "negative inner product",
    "<=>": "cosine distance",
    "<+>": "L1 distance",
    "<~>": "Hamming distance",
    "<%>": "Jaccard distance",
}
OPCLASS_SUFFIXES: dict[str, str] = {
    "<->": "_l2_ops",
    "<#>": "_ip_ops",
    "<=>": "_cosine_ops",
    "<+>": "_l1_ops",
    "<~>": "_hamming_ops",
    "<%>": "_jaccard_ops",
}


def operator_for_opclass(opclass: str) -> str | None:
    """The distance operator an index with ``opclass`` can serve, e.g. ``<=>`` for
    ``vector_cosine_ops`` or ``halfvec_cosine_ops``."""
    for operator, suffix in OPCLASS_SUFFIXES.items():
        if opclass.endswith(suffix):
            return operator
    return None
