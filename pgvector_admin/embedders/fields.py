"""Which embedder makes a vector field's vectors, and from which text: set per field on
the field's vector admin,

    @admin.register(Document)
    class DocumentAdmin(VectorModelAdmin):
        vector_embedders = {
            "embedding": TextEmbedding(WordLlamaEmbedder(dimensions=256), source="body"),
        }

and found here by the search page, save-time embedding, the background task and the
``embed_rows`` command alike (they all ask the admin sites' registries)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from pgvector_admin.embedders.base import Embedder


@dataclass(frozen=True)
class TextEmbedding:
    """A field's ``embedder``, and the ``source`` of each row's text: the name of a
    text field, or a function of the row (None: the field is searched by text but its
    rows are embedded elsewhere)."""

    embedder: Embedder
    source: str | Callable[[Any], str] | None = None

    @property
    def source_field(self) -> str | None:
        """The model field the text comes from, when ``source`` names one."""
        return self.source if isinstance(self.source, str) else None

    def text_of(self, obj: models.Model) -> str:
        """``obj``'s text to embed ("" when it has none)."""
        if self.source is None:
            return ""
        value = self.source(obj) if callable(self.source) else getattr(obj, self.source)
        return "" if value is None else str(value)

    def describe_source(self) -> str:
        if self.source is None:
            return _("no source text")
        return self.source if isinstance(self.source, str) else self.source.__name__


def text_embeddings(model: type[models.Model]) -> dict[str, TextEmbedding]:
    """``model``'s embedded fields, as its vector admin (on any admin site) sets them."""
    from django.contrib.admin.sites import all_sites

    for site in all_sites:
        model_admin = site._registry.get(model)
        embeddings = getattr(model_admin, "vector_embedders", None)
        if embeddings:
            return dict(embeddings)
    return {}


def text_embedding(model: type[models.Model], field: str) -> TextEmbedding:
    """``model``'s embedding of ``field``; ``LookupError`` saying what to set when none."""
    embedding = text_embeddings(model).get(field)
    if embedding is None:
        raise LookupError(
            f"{model._meta.label}.{field} has no embedder: set vector_embedders = "
            f'{{"{field}": TextEmbedding(...)}} on its vector admin.'
        )
    return embedding
