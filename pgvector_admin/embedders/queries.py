"""Embedding a search's query text: checked, timed, and recorded for the toolbar's
"Vector search" panel (which model embedded which text, in how many ms)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext as _

from pgvector_admin.embedders.base import MAX_QUERY_CHARS, Embedder, EmbedderError, checked_vectors
from pgvector_admin.numbers import grouped

_recorded: ContextVar[list[QueryEmbedding] | None] = ContextVar(
    "pgvector_admin_query_embeddings", default=None
)


@dataclass(frozen=True)
class QueryEmbedding:
    """A query text and how it became a vector."""

    text: str
    model: str
    dimensions: int
    milliseconds: float
    # The time includes loading the model (the first query of a process).
    loaded_model: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def query_text_problem(text: str) -> str | None:
    """Why ``text`` cannot be a query (None: it can)."""
    if not text.strip():
        return _("Type some text to search for.")
    if len(text) > MAX_QUERY_CHARS:
        return _(
            "The text is %(length)s characters long; a query may have at most %(most)s. "
            "Search with a sentence or a paragraph."
        ) % {"length": grouped(len(text)), "most": grouped(MAX_QUERY_CHARS)}
    return None


def embed_query(embedder: Embedder, text: str) -> tuple[list[float], QueryEmbedding]:
    """``text``'s vector by ``embedder``, and the record of it. ``EmbedderError`` when
    the text is no query (``query_text_problem``) or the embedder fails."""
    problem = query_text_problem(text)
    if problem:
        raise EmbedderError(problem)
    # An embedder that says whether its model is loaded yet (WordLlamaEmbedder does).
    cold = getattr(embedder, "is_loaded", True) is False
    started = time.perf_counter()
    vector = [float(value) for value in checked_vectors(embedder, [text])[0]]
    record = QueryEmbedding(
        text=text,
        model=embedder.name,
        dimensions=embedder.dimensions,
        milliseconds=(time.perf_counter() - started) * 1000,
        loaded_model=cold,
    )
    recorded = _recorded.get()
    if recorded is not None:
        recorded.append(record)
    return vector, record


@contextmanager
def recording_query_embeddings() -> Iterator[list[QueryEmbedding]]:
    """The queries embedded while the block runs (a request, for the toolbar)."""
    recorded: list[QueryEmbedding] = []
    token = _recorded.set(recorded)
    try:
        yield recorded
    finally:
        _recorded.reset(token)
