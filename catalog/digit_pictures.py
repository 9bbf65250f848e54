"""A handwritten digit's 8x8 pixel counts (0..16) drawn as a small inline SVG."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

SIDE = 8
MAX_COUNT = 16.0


def digit_svg(pixels: Sequence[float], *, size: int = 32, label: str = "") -> SafeString:
    """Ink on white: each of the 64 values is a square, the darker the higher its count.
    Drawn on the server, so the changelist needs no script and no image files."""
    squares = format_html_join(
        "",
        '<rect x="{}" y="{}" width="1" height="1" fill="rgb({},{},{})"/>',
        (
            (i % SIDE, i // SIDE, shade, shade, shade)
            for i, value in enumerate(pixels)
            for shade in [round(255 * (1 - min(max(float(value), 0.0), MAX_COUNT) / MAX_COUNT))]
        ),
    )
    return format_html(
        '<svg class="digit" width="{}" height="{}" viewBox="0 0 8 8" role="img" '
        'aria-label="{}" shape-rendering="crispEdges">{}</svg>',
        size,
        size,
        label,
        squares,
    )
