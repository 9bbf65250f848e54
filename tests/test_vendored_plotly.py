"""The vendored plotly.js: the file unchanged, and ``plotly.css`` beside it holding
exactly the style rules the bundle would otherwise inject as an inline <style> element
(which the Content-Security-Policy's ``style-src 'self'`` refuses)."""

from __future__ import annotations

import ast
import hashlib
import re

from django.conf import settings

VENDOR = (
    settings.BASE_DIR / "pgvector_admin/static/pgvector_admin/vendor/plotly.js-gl3d-dist-min-4.1.1"
)
BUNDLE_SHA256 = "aab04dcd9c103a92b18723f8c837712fe820f325d0bcd2421e415e8124a75b9f"


def plotly_css(bundle: str) -> str:
    """The rules plotly.js adds with ``addStyleRule`` when it loads, as a stylesheet.

    In the bundle they are one object literal of selector: declarations (``X`` stands
    for ``.js-plotly-plot .plotly``, ``Y`` for ``.plotly-notifier``), each inserted at
    the top of the sheet: the sheet holds them in reverse order."""
    end = bundle.index("};for(Q3 in hT)") + 1
    start = bundle.rindex("hT={", 0, end) + len("hT=")
    literal = ast.parse(bundle[start:end], mode="eval").body
    assert isinstance(literal, ast.Dict)
    # JavaScript may leave a key unquoted ({Y: ...}): a name stands for itself.
    rules = [
        (key.id if isinstance(key, ast.Name) else ast.literal_eval(key), ast.literal_eval(value))
        for key, value in zip(literal.keys, literal.values, strict=True)
        if key is not None
    ]
    lines = []
    for selector, declarations in reversed(rules):
        selector = re.sub(r"^,", " ,", selector)
        selector = selector.replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")
        lines.append(f"{selector}{{{declarations}}}")
    header = (
        "/* plotly.js 4.1.1's own style rules (MIT, see LICENSE), as the bundle inserts "
        "them;\n   made by tests/test_vendored_plotly.py from plotly-gl3d.min.js. */\n"
    )
    return header + "\n".join(lines) + "\n"


def test_the_bundle_is_the_packages_file_unchanged() -> None:
    data = (VENDOR / "plotly-gl3d.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == BUNDLE_SHA256


def test_plotly_css_holds_exactly_the_rules_the_bundle_would_inject() -> None:
    bundle = (VENDOR / "plotly-gl3d.min.js").read_text()
    assert (VENDOR / "plotly.css").read_text() == plotly_css(bundle)
