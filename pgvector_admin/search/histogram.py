"""How near the neighbours really are: the distances from the query to a sample of the
table, as a histogram (an SVG picture, no script) with the k-th neighbour's distance
marked and the neighbours' own distances as ticks.

The sample is ``TABLESAMPLE SYSTEM``: PostgreSQL reads a share of the table's pages
chosen at random, never the whole table, so it costs the same at a million rows (a
table of under 1,000 pages is sampled row by row instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from pgvector_admin.numbers import grouped
from pgvector_admin.search.table_sample import fetch_sample, sample_sql
from pgvector_admin.vectors.fields import VectorColumn
from pgvector_admin.vectors.metrics import Metric

SAMPLE_ROWS = 20_000
BINS = 40
WIDTH, HEIGHT, MARGIN = 560, 170, 34


@dataclass
class DistanceSample:
    """The distances from a query to sampled rows, and where the neighbours fall."""

    metric: Metric
    distances: np.ndarray
    neighbours: list[float]
    table_rows: int
    sampled: bool

    @property
    def kth(self) -> float | None:
        return self.neighbours[-1] if self.neighbours else None

    @property
    def as_near_share(self) -> float | None:
        """The share of the sampled rows as near to the query as the k-th neighbour."""
        if self.kth is None or not len(self.distances):
            return None
        if self.metric.negated:  # inner product: larger is nearer
            return float(np.mean(self.distances >= self.kth))
        return float(np.mean(self.distances <= self.kth))

    @property
    def as_near_percent(self) -> float | None:
        share = self.as_near_share
        return None if share is None else 100 * share


def distance_sample(
    *,
    column: VectorColumn,
    vector: Any,
    metric: Metric,
    neighbours: list[float],
    exclude_id: Any = None,
    rows: int = SAMPLE_ROWS,
    within: QuerySet[Any] | None = None,
) -> DistanceSample:
    """The distances (as the page shows them) from ``vector`` to up to ``rows`` rows of
    ``column``'s table (of ``within``, the rows the page searched, when given): all of
    them when there are no more, else a random share of the table's pages
    (``pgvector_admin.search.table_sample``)."""
    rows_searched = column.model._default_manager.all() if within is None else within.all()
    query = (
        rows_searched.exclude(**{f"{column.name}__isnull": True})
        .order_by()
        .annotate(sampled_distance=metric.function(column.name, vector))
        .values_list("sampled_distance", flat=True)
    )
    if exclude_id is not None:
        query = query.exclude(pk=exclude_id)
    sample = sample_sql(query, rows)
    found = fetch_sample(sample, query.db, binary=True)
    values = np.asarray([row[0] for row in found], dtype=float)
    if metric.negated:
        values = -values
    return DistanceSample(
        metric=metric,
        distances=values,
        neighbours=list(neighbours),
        table_rows=max(sample.estimate, len(values)),
        sampled=sample.sampled,
    )


def histogram_svg(sample: DistanceSample) -> SafeString:
    """The histogram, the k-th neighbour's distance as a line, each neighbour a tick."""
    if not len(sample.distances):
        return mark_safe("")
    values = np.concatenate([sample.distances, np.asarray(sample.neighbours, dtype=float)])
    low, high = float(values.min()), float(values.max())
    if high <= low:
        high = low + 1.0
    counts, edges = np.histogram(sample.distances, bins=BINS, range=(low, high))
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    tallest = max(int(counts.max()), 1)

    def x(value: float) -> float:
        return MARGIN + (value - low) / (high - low) * plot_w

    label = escape(sample.metric.label)
    parts = [
        f'<svg class="distance-histogram" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="'
        + escape(_("%(metric)s from the query to sampled rows") % {"metric": sample.metric.label})
        + '">'
    ]
    bar_w = plot_w / BINS
    for count, left in zip(counts, edges[:-1], strict=True):
        if count:
            bar_h = count / tallest * plot_h
            parts.append(
                f'<rect x="{x(left):.1f}" y="{MARGIN + plot_h - bar_h:.1f}" '
                f'width="{max(bar_w - 1, 1):.1f}" height="{bar_h:.1f}" fill="#9bb3d6">'
                "<title>"
                + escape(
                    ngettext(
                        "%(rows)s row from %(value)s", "%(rows)s rows from %(value)s", int(count)
                    )
                    % {"rows": grouped(int(count)), "value": f"{left:.4g}"}
                )
                + "</title></rect>"
            )
    for distance in sample.neighbours:
        parts.append(
            f'<line class="neighbour" x1="{x(distance):.1f}" x2="{x(distance):.1f}" '
            f'y1="{MARGIN + plot_h}" y2="{MARGIN + plot_h + 8}" stroke="#c0392b"/>'
        )
    if sample.kth is not None:
        kth_x = x(sample.kth)
        parts.append(
            f'<line class="kth" x1="{kth_x:.1f}" x2="{kth_x:.1f}" y1="{MARGIN - 4}" '
            f'y2="{MARGIN + plot_h}" stroke="#c0392b" stroke-width="2"/>'
            f'<text x="{kth_x + 4:.1f}" y="{MARGIN + 6}" font-size="11" fill="#c0392b">'
            + escape(_("%(nth)s neighbour") % {"nth": ordinal(len(sample.neighbours))})
            + "</text>"
        )
    parts += [
        f'<line x1="{MARGIN}" x2="{MARGIN + plot_w}" y1="{MARGIN + plot_h}" '
        f'y2="{MARGIN + plot_h}" stroke="#888"/>',
        f'<text x="{MARGIN}" y="{HEIGHT - 8}" font-size="11">{low:.4g}</text>',
        f'<text x="{MARGIN + plot_w}" y="{HEIGHT - 8}" font-size="11" text-anchor="end">'
        f"{high:.4g}</text>",
        f'<text x="{MARGIN + plot_w / 2}" y="{HEIGHT - 8}" font-size="11" '
        f'text-anchor="middle">{label}</text>',
        "</svg>",
    ]
    return mark_safe("".join(parts))


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st… in the active language (4번째 in Korean)."""
    if 10 <= number % 100 <= 20:
        template = pgettext("ordinal 11-20", "%(number)sth")
    elif number % 10 == 1:
        template = pgettext("ordinal 1", "%(number)sst")
    elif number % 10 == 2:
        template = pgettext("ordinal 2", "%(number)snd")
    elif number % 10 == 3:
        template = pgettext("ordinal 3", "%(number)srd")
    else:
        template = pgettext("ordinal 0, 4-9", "%(number)sth")
    return template % {"number": number}
