"""django-import-export's view of a model with vector fields: its resource, with a
widget for each vector field.

The admin's CSV and TSV imports and exports take the COPY fast path in
``pgvector_admin.transfer.services``; the resource serves the library's other formats (JSON) and
anything else that uses the library directly.
"""

from __future__ import annotations

import functools
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from pgvector_admin.transfer.columns import ImportSchema
from pgvector_admin.transfer.formula_guard import neutralise, restore
from pgvector_admin.transfer.rights import ImportRights
from pgvector_admin.vectors.fields import VectorColumn, vector_columns
from pgvector_admin.vectors.parsing import VectorError


class VectorWidget(widgets.Widget):
    """Reads the same text as the search form, for the field's pgvector type; writes
    pgvector's own text (``[1.0,2.0,3.0]``, ``{1:0.5}/10``, ``0101``)."""

    def __init__(self, column: VectorColumn, **kwargs: Any) -> None:
        self.column = column
        super().__init__(**kwargs)

    def clean(self, value: Any, row: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        if value is None or not str(value).strip():
            if self.column.model._meta.get_field(self.column.name).null:
                return None
            raise ValueError(_("empty %(column)s") % {"column": self.column.name})
        try:
            return self.column.parse(str(value))
        except VectorError as error:
            raise ValueError(str(error)) from error

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else self.column.text(value)


class VectorModelResource(resources.ModelResource):
    """A ``ModelResource`` whose vector fields use ``VectorWidget``; a file without the
    primary key column adds its rows as new ones."""

    def after_init_instance(self, instance: Any, new: bool, row: Any, **kwargs: Any) -> None:
        # Refused as an error (not a validation error), so that the library rolls the
        # whole import back: nothing is written beyond the user's permissions.
        rights = kwargs.get("import_rights")
        user = kwargs.get("user")
        if rights is None and user is not None:
            rights = ImportRights.of_user(user, self._meta.model)
        refusal = rights.refuses_row(new=new) if rights is not None else None
        if refusal:
            raise PermissionDenied(refusal)
        super().after_init_instance(instance, new, row, **kwargs)

    def export_field(self, field: Any, instance: Any, **kwargs: Any) -> Any:
        return neutralise(super().export_field(field, instance, **kwargs))

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        # Exported text keeps no spreadsheet guard on its way back in.
        for name, value in list(row.items()):
            if isinstance(value, str):
                row[name] = restore(value)
        super().before_import_row(row, **kwargs)

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        key = self._meta.model._meta.pk.name
        if key not in (dataset.headers or []):
            dataset.append_col([""] * len(dataset), header=key)

    @classmethod
    def field_from_django_field(
        cls, field_name: str, django_field: models.Field, readonly: bool
    ) -> fields.Field:
        field = super().field_from_django_field(field_name, django_field, readonly)
        vectors = {column.name: column for column in vector_columns(cls._meta.model)}
        if field_name in vectors:
            field.widget = VectorWidget(vectors[field_name])
        return field


@functools.cache
def vector_resource(model: type[models.Model]) -> type[resources.ModelResource]:
    """The resource of ``model``: the columns of its CSV import, by primary key."""
    schema = ImportSchema.of(model)
    return resources.modelresource_factory(
        model,
        resource_class=VectorModelResource,
        meta_options={
            "fields": tuple(schema.names),
            "import_id_fields": (schema.pk.name,),
            "clean_model_instances": True,
        },
    )
