"""Search results as CSV, so they can be shared and checked."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from catalog.metrics import METRICS
from catalog.selectors import Neighbor
from catalog.vectors import to_text

HEADER = ["rank", "id", "label", "embedding", *(metric.column for metric in METRICS.values())]


def neighbors_csv(neighbors: Iterable[Neighbor]) -> str:
    """One header line, then one line per result; floats written exactly (repr)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for neighbor in neighbors:
        writer.writerow(
            [
                neighbor.rank,
                neighbor.id,
                neighbor.label,
                to_text(neighbor.embedding),
                *(repr(neighbor.distances[metric.name]) for metric in METRICS.values()),
            ]
        )
    return out.getvalue()
