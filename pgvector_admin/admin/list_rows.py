"""The changelist's rows written directly, cell for cell as Django's own
``items_for_result`` writes them, for the columns the vector admin knows.

Django makes each cell through a chain of general steps (``lookup_field``,
``display_for_value``, ``format_html`` with its lazy-string checks, the preserved
filters parsed again for each link): about 20 µs a cell, 8 ms of a 50-row list of
seven columns, a third of the page. Most of that work is the same for every row of a
column, so it is done once a page here and each row is one string.

Only where every column is one of those whose cells this module writes: the action
checkbox, the vector admin's own columns and its "similar" link, ``__str__``, and a
field of the model that is not a relation. Anything else (an admin's own callable or
method, a related field's column, ``list_editable``, a popup) and the whole list is
Django's. A row with a blank text value is Django's too: Django 5.2 and 6.1 write it
differently. ``tests/test_list_rows.py`` holds the two writers to the same HTML.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from django.contrib.admin.templatetags.admin_list import ResultList, items_for_result
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value
from django.db import models
from django.urls import NoReverseMatch
from django.utils.safestring import SafeString

# Cells of these columns are written the same way for every admin.
_OWN_NAMES = {"action_checkbox", "similar_link", "__str__"}


def vector_results(cl: Any) -> list[ResultList] | None:
    """The rows of changelist ``cl``, each as one string of cells, or None where a
    column (or the list) needs Django's own ``items_for_result``."""
    if cl.formset is not None or cl.is_popup or cl.list_display_links is None:
        return None
    columns = _columns(cl)
    if columns is None:
        return None
    rows = []
    for result in cl.result_list:
        cells = _row(cl, result, columns)
        if cells is None:  # a value Django versions write differently: Django's own
            rows.append(ResultList(None, items_for_result(cl, result, None)))
        else:
            rows.append(ResultList(None, [SafeString(cells)]))
    return rows


class _Column:
    """What every cell of a column shares: how its value is read and shown, its class
    and whether it links to the row."""

    def __init__(
        self,
        *,
        value: Callable[[Any], Any],
        field: models.Field[Any, Any] | None,
        classes: str,
        link: bool,
        empty: str,
        boolean: bool = False,
    ) -> None:
        self.value = value
        self.field = field
        self.boolean = boolean
        self.classes = classes
        self.link = link
        self.empty = empty


def _columns(cl: Any) -> list[_Column] | None:
    model_admin = cl.model_admin
    own = {id(column) for column in getattr(model_admin, "_vector_list_columns", [])}
    plain = {field.name: field for field in cl.model._meta.concrete_fields if not field.is_relation}
    empty = model_admin.get_empty_value_display()
    columns = []
    first_link = True
    for index, name in enumerate(cl.list_display):
        link = _links(cl, name, first_link)
        if link:
            first_link = False
        if name in plain and isinstance(name, str):
            field = plain[name]
            nowrap = " nowrap" if isinstance(field, (models.DateField, models.TimeField)) else ""
            columns.append(
                _Column(
                    value=_attribute(name),
                    # Django shows an automatic field (the id) as a plain value.
                    field=None if field.auto_created else field,
                    classes=f"field-{name}{nowrap}",
                    link=link,
                    empty=empty,
                )
            )
            continue
        if id(name) in own:
            function, shown_name = name, name.__name__
        elif isinstance(name, str) and name in _OWN_NAMES:
            function = str if name == "__str__" else getattr(model_admin, name)
            shown_name = name
        else:
            return None
        classes = "action-checkbox" if name == "action_checkbox" else f"field-{shown_name}"
        if shown_name == "<lambda>":  # Django names a lambda's column by its place
            classes = f"field-lambda{index}"
        columns.append(
            _Column(
                value=function,
                field=None,
                classes=classes,
                link=link,
                empty=getattr(function, "empty_value_display", empty),
                boolean=getattr(function, "boolean", False),
            )
        )
    return columns


def _links(cl: Any, name: Any, first: bool) -> bool:
    """Django's rule: the columns named in ``list_display_links``, else the first."""
    if first and not cl.list_display_links:
        return True
    return name in cl.list_display_links


def _attribute(name: str) -> Callable[[Any], Any]:
    return lambda obj: getattr(obj, name)


def _row(cl: Any, result: Any, columns: list[_Column]) -> str | None:
    parts = []
    url: str | None = None
    tag = "th"
    for column in columns:
        value = column.value(result)
        if isinstance(value, str) and not value.strip():
            return None
        if column.field is None:
            shown = display_for_value(value, column.empty, column.boolean)
        else:
            shown = display_for_field(value, column.field, column.empty, avoid_link=column.link)
        text = _escaped(shown)
        if column.link:
            if url is None:
                url = _change_url(cl, result)
            if url:
                text = f'<a href="{html.escape(url)}">{text}</a>'
            parts.append(f'<{tag} class="{column.classes}">{text}</{tag}>')
            tag = "td"
        else:
            parts.append(f'<td class="{column.classes}">{text}</td>')
    return "".join(parts)


def _change_url(cl: Any, result: Any) -> str:
    """The row's change page, with the list's filters kept ("" when it has none)."""
    try:
        url = cl.url_for_result(result)
    except NoReverseMatch:
        return ""
    return add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)


def _escaped(value: Any) -> str:
    """``conditional_escape``, without its checks for lazy strings (none come here:
    each value has been made a ``str`` by ``display_for_value`` or
    ``display_for_field``)."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))
