"""What an embedder is: something that turns texts into vectors of a fixed number of
dimensions. The vector admin asks nothing more of a model, local or remote.

    class MyEmbedder:
        name = "my-model"
        dimensions = 384

        def embed(self, texts: Sequence[str]) -> list[list[float]]:
            ...  # one vector per text, in order (a 2-d numpy array will do too)

Whatever can go wrong while embedding (a service down, a model that cannot be
loaded) is raised as ``EmbedderError`` with a message a person can act on; the pages
show it and write nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from django.utils.translation import gettext as _

# A query is a question, not a document: longer text is refused with a clear message
# (WordLlama does not truncate, and a remote service would be sent all of it).
MAX_QUERY_CHARS = 10_000


@runtime_checkable
class Embedder(Protocol):
    """Texts in, one vector each out, every vector of ``dimensions`` numbers."""

    #: Shown on the search page and in the toolbar: which model embedded the query.
    name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> Any:
        """One vector per text of ``texts``, in the same order: a list of lists of
        floats, or a 2-d numpy array."""
        ...


class EmbedderError(Exception):
    """The texts could not be embedded; the message says why, for the page."""


def checked_vectors(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """``embedder``'s vectors for ``texts`` as one array (a row a text), checked: one
    per text, each of the embedder's dimensions, every number finite (pgvector refuses
    NaN and infinity). Checked by numpy: a Python loop over every number would cost
    more than WordLlama's embedding."""
    answer = embedder.embed(list(texts))
    if len(answer) != len(texts):
        raise EmbedderError(
            _("%(embedder)s returned %(vectors)s vectors for %(texts)s texts.")
            % {"embedder": embedder.name, "vectors": len(answer), "texts": len(texts)}
        )
    for vector in answer:
        if len(vector) != embedder.dimensions:
            raise EmbedderError(
                _("%(embedder)s returned a vector of %(given)s dimensions, not %(expected)s.")
                % {
                    "embedder": embedder.name,
                    "given": len(vector),
                    "expected": embedder.dimensions,
                }
            )
    vectors = np.asarray(answer, dtype=np.float32).reshape(len(texts), embedder.dimensions)
    if not np.isfinite(vectors).all():
        raise EmbedderError(
            _("%(embedder)s returned a vector with NaN or infinity.") % {"embedder": embedder.name}
        )
    return vectors
