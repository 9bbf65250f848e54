"""Numbers as the active language writes them: Django's localization, grouping on.

Every count, rate and duration the package shows goes through these, so a Korean
(or German) admin groups and separates digits its own way instead of the English
``1,234.5`` written by hand.
"""

from __future__ import annotations

from django.utils.formats import number_format


def grouped(value: float | int, places: int = 0) -> str:
    """``value`` rounded to ``places`` decimals with the language's digit grouping."""
    # Django's formatter cuts a float's extra decimals off rather than rounding them.
    value = round(value) if places == 0 else round(value, places)
    return number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)
