"""What an embedder is: something that turns texts into vectors of a fixed number of
dimensions. The vector admin asks nothing more of a model, local or remote.

    class MyEmbedder:
        name = "my-model"
        dimensions = 384

        def embed(self, texts: Sequence[str]) -> list[list[float]]:
            ...  # one vector per text, in order

Whatever can go wrong while embedding (a service down, a model that cannot be
loaded) is raised as ``EmbedderError`` with a message a person can act on; the pages
show it and write nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

# A query is a question, not a document: longer text is refused with a clear message
# (WordLlama does not truncate, and a remote service would be sent all of it).
MAX_QUERY_CHARS = 10_000


@runtime_checkable
class Embedder(Protocol):
    """Texts in, one vector each out, every vector of ``dimensions`` numbers."""

    #: Shown on the search page and in the toolbar: which model embedded the query.
    name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text of ``texts``, in the same order."""
        ...


class EmbedderError(Exception):
    """The texts could not be embedded; the message says why, for the page."""


def checked_vectors(embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
    """``embedder``'s vectors for ``texts``, checked: one per text, each of the
    embedder's dimensions, every number finite (pgvector refuses NaN and infinity)."""
    vectors = embedder.embed(list(texts))
    if len(vectors) != len(texts):
        raise EmbedderError(
            f"{embedder.name} returned {len(vectors)} vectors for {len(texts)} texts."
        )
    for vector in vectors:
        if len(vector) != embedder.dimensions:
            raise EmbedderError(
                f"{embedder.name} returned a vector of {len(vector)} dimensions, "
                f"not {embedder.dimensions}."
            )
        if not all(math.isfinite(value) for value in vector):
            raise EmbedderError(f"{embedder.name} returned a vector with NaN or infinity.")
    return vectors
