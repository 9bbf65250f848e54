"""django-import-export's view of an Item: the resource and its vector widget.

The admin's CSV and TSV imports and exports take the COPY fast path in
``catalog.services``; this resource serves the library's other formats (JSON) and
anything else that uses the library directly.
"""

from __future__ import annotations

from typing import Any

from import_export import fields, resources, widgets

from catalog.models import Item
from catalog.vectors import VectorError, parse_vector, to_text


class VectorWidget(widgets.Widget):
    """Reads the same vector text the search accepts; writes ``[1.0,2.0,3.0]``."""

    def __init__(self, dimensions: int | None = None, **kwargs: Any) -> None:
        self.dimensions = dimensions
        super().__init__(**kwargs)

    def clean(self, value: Any, row: dict[str, Any] | None = None, **kwargs: Any) -> list[float]:
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        if value is None or not str(value).strip():
            raise ValueError("empty embedding")
        try:
            return parse_vector(str(value), dimensions=self.dimensions)
        except VectorError as error:
            raise ValueError(str(error)) from error

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else to_text(value)


class ItemResource(resources.ModelResource):
    embedding = fields.Field(
        attribute="embedding",
        column_name="embedding",
        widget=VectorWidget(dimensions=Item._meta.get_field("embedding").dimensions),
    )

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        # Rows without an id are new items: a file need not have the id column at all.
        if "id" not in (dataset.headers or []):
            dataset.append_col([""] * len(dataset), header="id")

    class Meta:
        model = Item
        fields = ("id", "label", "embedding")
        import_id_fields = ("id",)
        clean_model_instances = True
