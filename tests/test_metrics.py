from pgvector.django import (
    CosineDistance,
    HammingDistance,
    JaccardDistance,
    L1Distance,
    L2Distance,
    MaxInnerProduct,
)

from pgvector_admin.vectors.metrics import DEFAULT_METRIC, HAMMING, JACCARD, METRICS


def test_registry_maps_names_to_operators_functions_and_opclasses() -> None:
    table = {
        name: (metric.operator, metric.function, metric.opclass("vector"))
        for name, metric in METRICS.items()
    }
    assert table == {
        "cosine": ("<=>", CosineDistance, "vector_cosine_ops"),
        "l2": ("<->", L2Distance, "vector_l2_ops"),
        "ip": ("<#>", MaxInnerProduct, "vector_ip_ops"),
        "l1": ("<+>", L1Distance, "vector_l1_ops"),
    }
    assert DEFAULT_METRIC is METRICS["cosine"]


def test_each_metric_names_the_opclass_of_each_type() -> None:
    assert METRICS["cosine"].opclass("halfvec") == "halfvec_cosine_ops"
    assert METRICS["l1"].opclass("sparsevec") == "sparsevec_l1_ops"
    assert HAMMING.opclass("bit") == "bit_hamming_ops"
    assert (HAMMING.operator, HAMMING.function) == ("<~>", HammingDistance)
    assert (JACCARD.operator, JACCARD.function) == ("<%>", JaccardDistance)


def test_inner_product_is_shown_as_the_true_dot_product() -> None:
    assert METRICS["ip"].shown(-14.0) == 14.0
    assert METRICS["l2"].shown(1.5) == 1.5
