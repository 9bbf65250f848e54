"""Search results as CSV, so they can be shared and checked."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pgvector_admin.search.outcome import Neighbour
from pgvector_admin.transfer.formula_guard import neutralise
from pgvector_admin.vectors.metrics import Metric


def neighbours_csv(
    neighbours: Iterable[Neighbour], metrics: Sequence[Metric], *, text: Callable[[Any], str]
) -> str:
    """One header line (``rank,id,label,embedding`` and one column per metric), then
    one line per result: the vector as ``text`` writes it, floats exactly (repr), text
    a spreadsheet would run as a formula neutralised (``pgvector_admin.transfer.formula_guard``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rank", "id", "label", "embedding", *(metric.column for metric in metrics)])
    for neighbour in neighbours:
        writer.writerow(
            [
                neighbour.rank,
                neutralise(neighbour.id),
                neutralise(neighbour.label),
                text(neighbour.embedding),
                *(repr(neighbour.distances[metric.name]) for metric in metrics),
            ]
        )
    return out.getvalue()
