"""Vectors as text and back: the one place for how vectors are written and read."""

from __future__ import annotations

from collections.abc import Sequence


def format_vector(values: Sequence[float], *, digits: int = 6) -> str:
    """Render a vector compactly, e.g. ``[3, 1, 2]`` or ``[0.1, 0.25, 1e-07]``."""
    return "[" + ", ".join(f"{float(value):.{digits}g}" for value in values) + "]"
