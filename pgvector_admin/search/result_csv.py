"""Search results as CSV, so they can be shared and checked."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pgvector_admin.search.queries import Neighbor
from pgvector_admin.transfer.formula_guard import neutralise
from pgvector_admin.vectors.metrics import Metric


def neighbors_csv(
    neighbors: Iterable[Neighbor], metrics: Sequence[Metric], *, text: Callable[[Any], str]
) -> str:
    """One header line (``rank,id,label,embedding`` and one column per metric), then
    one line per result: the vector as ``text`` writes it, floats exactly (repr), text
    a spreadsheet would run as a formula neutralised (``pgvector_admin.transfer.formula_guard``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rank", "id", "label", "embedding", *(metric.column for metric in metrics)])
    for neighbor in neighbors:
        writer.writerow(
            [
                neighbor.rank,
                neutralise(neighbor.id),
                neutralise(neighbor.label),
                text(neighbor.embedding),
                *(repr(neighbor.distances[metric.name]) for metric in metrics),
            ]
        )
    return out.getvalue()
