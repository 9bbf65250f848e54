"""What the changelist reads of each dense vector: only what its cells show
(``pgvector_admin.vectors.parts``), where nothing else on the list may read the vector.

That is when every column of ``list_display`` is the vector admin's own, a plain field
of the model or ``__str__`` (a ``__str__`` that reads the vector would cost a query a
row; the README says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Model
from pgvector.django import BitField, HalfVectorField, SparseVectorField, VectorField


def plain_field_names(model: type[Model]) -> set[str]:
    """The names of ``model``'s columns that are not pgvector's."""
    vectors = (VectorField, HalfVectorField, SparseVectorField, BitField)
    return {field.name for field in model._meta.concrete_fields if not isinstance(field, vectors)}


def list_reads_only_parts(
    list_display: Sequence[Any], own_columns: Iterable[Any], field_names: set[str]
) -> bool:
    """Whether nothing in ``list_display`` but the vector admin's own columns
    (``own_columns``) may read a vector: each other entry is ``__str__`` or the name of
    one of ``field_names`` (the model's fields that are not vectors)."""
    own = {id(column) for column in own_columns}
    return all(
        id(entry) in own
        or entry in {"action_checkbox", "__str__", "similar_link"}
        or (isinstance(entry, str) and entry in field_names)
        for entry in list_display
    )
