"""An adapter for sentence-transformers models (``pip install sentence-transformers``,
which brings PyTorch): any model it loads, from a name or a local folder.

    from pgvector_admin.embedders.sentence_transformers import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder("/models/all-MiniLM-L6-v2", dimensions=384)

The model is loaded on first use, once per process. Give a folder (or set
``HF_HUB_OFFLINE=1``) to keep it from reaching the network.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from pgvector_admin.embedders.base import EmbedderError


class SentenceTransformerEmbedder:
    """``SentenceTransformer(model).encode(texts)``, vectors of length one unless
    ``normalize`` is False. ``model`` is a name, a folder, or a model already loaded;
    ``dimensions`` below the model's cuts its vectors (``truncate_dim``, for models
    trained to allow it)."""

    def __init__(
        self,
        model: Any,
        *,
        dimensions: int,
        name: str | None = None,
        normalize: bool = True,
        batch_size: int = 64,
    ) -> None:
        self.dimensions = dimensions
        self.name = name or (model if isinstance(model, str) else type(model).__name__)
        self._model = model if not isinstance(model, str) else None
        self._source = model if isinstance(model, str) else None
        self._normalize = normalize
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.name!r}, dimensions={self.dimensions})"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._loaded().encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=self._normalize,
            convert_to_numpy=True,
            truncate_dim=self.dimensions,
        )
        return [list(map(float, vector)) for vector in vectors]

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as error:
                    raise EmbedderError(
                        _("%(package)s is not installed: %(install)s.")
                        % {
                            "package": "sentence-transformers",
                            "install": "pip install sentence-transformers",
                        }
                    ) from error
                try:
                    self._model = SentenceTransformer(self._source)
                except Exception as error:  # its loaders raise many kinds
                    raise EmbedderError(
                        _("The model %(model)s could not be loaded: %(reason)s")
                        % {"model": self._source, "reason": error}
                    ) from error
            return self._model
