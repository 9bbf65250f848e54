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
    neighbours: Iterable[Neighbour],
    metrics: Sequence[Metric],
    *,
    text: Callable[[Any], str],
    ranked: bool = False,
) -> str:
    """One header line (``rank,id,label,embedding`` and one column per metric; for a
    keyword or hybrid search, ``keyword_rank,vector_rank,score`` too), then one line per
    result: the vector as ``text`` writes it, floats exactly (repr), empty where a row
    has no vector or is not in a ranking, text a spreadsheet would run as a formula
    neutralised (``pgvector_admin.transfer.formula_guard``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    extra = ["keyword_rank", "vector_rank", "score"] if ranked else []
    writer.writerow(
        ["rank", "id", "label", "embedding", *(metric.column for metric in metrics), *extra]
    )
    for neighbour in neighbours:
        places = (
            [_blank(neighbour.keyword_rank), _blank(neighbour.vector_rank), _blank(neighbour.score)]
            if ranked
            else []
        )
        writer.writerow(
            [
                neighbour.rank,
                neutralise(neighbour.id),
                neutralise(neighbour.label),
                "" if neighbour.embedding is None else text(neighbour.embedding),
                *(_blank(neighbour.shown_distance(metric)) for metric in metrics),
                *places,
            ]
        )
    return out.getvalue()


def _blank(value: Any) -> str:
    return "" if value is None else repr(value)
