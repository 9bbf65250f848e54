"""A recall/latency curve as a small SVG picture (no script, no library): recall and
the p50/p95 latency against the setting, on a log scale."""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from pgvector_admin.indexes.tuning import Curve

WIDTH, HEIGHT, MARGIN = 560, 220, 44


def curve_svg(curve: Curve) -> SafeString:
    """Recall (left axis, blue) and p50/p95 latency in ms (right axis, grey), the
    target recall dashed, the recommended setting marked."""
    points = curve.points
    if not points:
        return mark_safe("")
    settings = [point.setting for point in points]
    low, high = math.log2(min(settings)), math.log2(max(settings))
    span = (high - low) or 1.0
    floor = min(0.9, min(point.recall for point in points))
    slowest = max(point.p95_ms for point in points) or 1.0
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def x(setting: int) -> float:
        return MARGIN + (math.log2(setting) - low) / span * plot_w

    def y_recall(recall: float) -> float:
        return MARGIN + (1 - (recall - floor) / ((1 - floor) or 1)) * plot_h

    def y_ms(ms: float) -> float:
        return MARGIN + (1 - ms / slowest) * plot_h

    def line(values: list[tuple[float, float]], css: str) -> str:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in values)
        return f'<polyline class="{css}" fill="none" points="{path}"/>'

    parts = [
        f'<svg class="recall-curve" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="'
        + escape(_("recall and latency against %(setting)s") % {"setting": curve.setting_name})
        + '">',
        f'<rect x="{MARGIN}" y="{MARGIN}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#ccc"/>',
        f'<line class="target" x1="{MARGIN}" x2="{MARGIN + plot_w}" '
        f'y1="{y_recall(curve.target):.1f}" y2="{y_recall(curve.target):.1f}" '
        'stroke="#2a7" stroke-dasharray="4 3"/>',
        line([(x(p.setting), y_ms(p.p95_ms)) for p in points], "p95").replace(
            "<polyline", '<polyline stroke="#bbb"'
        ),
        line([(x(p.setting), y_ms(p.p50_ms)) for p in points], "p50").replace(
            "<polyline", '<polyline stroke="#777"'
        ),
        line([(x(p.setting), y_recall(p.recall)) for p in points], "recall").replace(
            "<polyline", '<polyline stroke="#264b8f" stroke-width="2"'
        ),
    ]
    for point in points:
        parts.append(
            f'<circle cx="{x(point.setting):.1f}" cy="{y_recall(point.recall):.1f}" r="3" '
            f'fill="#264b8f"><title>'
            + escape(
                _("%(setting)s: recall %(recall)s, p50 %(p50)s ms, p95 %(p95)s ms")
                % {
                    "setting": f"{curve.setting_name} {point.setting}",
                    "recall": f"{point.recall:.3f}",
                    "p50": f"{point.p50_ms:.2f}",
                    "p95": f"{point.p95_ms:.2f}",
                }
            )
            + "</title></circle>"
        )
        parts.append(
            f'<text x="{x(point.setting):.1f}" y="{HEIGHT - MARGIN + 16}" font-size="11" '
            f'text-anchor="middle">{point.setting}</text>'
        )
    recommended = curve.recommended
    if recommended is not None:
        parts.append(
            f'<circle cx="{x(recommended.setting):.1f}" cy="{y_recall(recommended.recall):.1f}" '
            'r="7" fill="none" stroke="#2a7" stroke-width="2"/>'
        )
    parts += [
        f'<text x="{MARGIN - 6}" y="{MARGIN + 4}" font-size="11" text-anchor="end">1.0</text>',
        f'<text x="{MARGIN - 6}" y="{MARGIN + plot_h}" font-size="11" text-anchor="end">'
        f"{floor:.2f}</text>",
        f'<text x="{MARGIN + plot_w + 6}" y="{MARGIN + 4}" font-size="11">{slowest:.1f} ms</text>',
        f'<text x="{MARGIN + plot_w + 6}" y="{MARGIN + plot_h}" font-size="11">0 ms</text>',
        f'<text x="{MARGIN}" y="{MARGIN - 12}" font-size="12" fill="#264b8f">'
        f"recall@{curve.k}</text>",
        f'<text x="{MARGIN + plot_w}" y="{MARGIN - 12}" font-size="12" fill="#777" '
        'text-anchor="end">' + escape(_("p50 / p95 latency")) + "</text>",
        f'<text x="{MARGIN + plot_w / 2}" y="{HEIGHT - 6}" font-size="12" '
        f'text-anchor="middle">{escape(curve.setting_name)}</text>',
        "</svg>",
    ]
    return mark_safe("".join(parts))
