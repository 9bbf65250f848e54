"""Recall: the share of the true k nearest rows a search found. One rule for the
search pages and the recall curve: a row found counts when it is no farther than the
true k-th nearest (within a relative tolerance), so of rows at the same distance any
may stand for another."""

from __future__ import annotations

from collections.abc import Iterable


def recall_at_k(found: Iterable[float], farthest: float | None, wanted: int) -> float:
    """Recall of a search whose rows are at the raw distances ``found`` (the operator's
    own values), when the true answer has ``wanted`` rows, the farthest at ``farthest``."""
    if not wanted or farthest is None:
        return 1.0
    tolerance = 1e-9 * max(1.0, abs(farthest))
    hits = sum(1 for distance in found if distance <= farthest + tolerance)
    return min(hits, wanted) / wanted
