"""WordLlama: a static text-embedding model (token embeddings averaged) whose weights
ship inside its wheel (PyPI ``wordllama``, 256 dimensions, numpy only). It runs on the
machine, offline, at thousands of texts a second: no service, no download.

Its ``WordLlama.load()`` looks for its tokenizer in a folder the wheel does not have,
then tries the network. It is loaded here from a cache folder that holds the wheel's
own tokenizer file, with downloads disabled: loading never reaches out.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from pgvector_admin.embedders.base import EmbedderError

CONFIG = "l2_supercat"
TOKENIZER_FILE = f"{CONFIG}_tokenizer_config.json"
# The model's Matryoshka widths: its vectors can be cut to any of these.
DIMENSIONS = (64, 128, 256)
# Texts tokenized and pooled at a time.
BATCH = 1024

_models: dict[int, Any] = {}
_lock = threading.Lock()


class WordLlamaEmbedder:
    """WordLlama ``l2_supercat``, cut to ``dimensions`` (64, 128 or 256), vectors of
    length one (so cosine distance, inner product and L2 rank alike)."""

    def __init__(self, dimensions: int = 256) -> None:
        if dimensions not in DIMENSIONS:
            raise ValueError(
                f"WordLlama makes vectors of {', '.join(map(str, DIMENSIONS))} dimensions, "
                f"not {dimensions}."
            )
        self.dimensions = dimensions
        self.name = f"WordLlama {CONFIG} {dimensions}-d"

    def __repr__(self) -> str:
        return f"WordLlamaEmbedder(dimensions={self.dimensions})"

    @property
    def is_loaded(self) -> bool:
        """Whether this process has loaded the model yet (the first query pays for it)."""
        return self.dimensions in _models

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text (a row of the array): the mean of its tokens'
        vectors (WordLlama's own pooling), normalised. A text with no words the model
        knows (empty, say) has no direction and is an ``EmbedderError``."""
        if not texts:
            return np.empty((0, self.dimensions), dtype=np.float32)
        model = loaded_model(self.dimensions)
        vectors = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            vectors[start : start + BATCH] = _pooled(model, list(texts[start : start + BATCH]))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        if not np.all(norms > 0):
            empty = int(np.argmin(norms[:, 0]))
            raise EmbedderError(
                _("%(embedder)s finds no words in %(text)s: nothing to embed.")
                % {"embedder": self.name, "text": repr(texts[empty][:40])}
            )
        return vectors / norms


def _pooled(model: Any, texts: list[str]) -> Any:
    """The sum of each text's token vectors (the mean's direction). WordLlama's own
    ``embed`` pads a batch to its longest text and gathers every padding token's
    vector too: twice as slow on docstrings of very different lengths. Here each
    text's tokens are gathered once, end to end (``np.take``: a fancy index of a large
    result is several times slower), and summed per text."""
    encodings = model.tokenizer.encode_batch(texts, add_special_tokens=False)
    lengths = np.fromiter((len(encoding.ids) for encoding in encodings), dtype=np.int64)
    sums = np.zeros((len(texts), model.embedding.shape[1]), dtype=np.float32)
    words = lengths > 0
    if not words.any():
        return sums
    ids = np.fromiter(
        (token for encoding in encodings for token in encoding.ids),
        dtype=np.int64,
        count=int(lengths.sum()),
    )
    np.clip(ids, 0, model.embedding.shape[0] - 1, out=ids)
    starts = np.concatenate(([0], np.cumsum(lengths[words])[:-1]))
    sums[words] = np.add.reduceat(np.take(model.embedding, ids, axis=0), starts, axis=0)
    return sums


def loaded_model(dimensions: int) -> Any:
    """The model cut to ``dimensions``, loaded once per process (about 0.1 s)."""
    with _lock:
        if dimensions not in _models:
            _models[dimensions] = _load(dimensions)
        return _models[dimensions]


def _load(dimensions: int) -> Any:
    model = _load_files(dimensions)
    # Each text tokenized to its own length (``_pooled`` gathers no padding).
    model.tokenizer.no_padding()
    return model


def _load_files(dimensions: int) -> Any:
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError as error:
        raise EmbedderError(
            _("%(package)s is not installed: %(install)s.")
            % {"package": "WordLlama", "install": 'pip install "django-pgvector-admin[text]"'}
        ) from error
    trunc_dim = dimensions if dimensions < 256 else None
    # WordLlama.load looks in <cache_dir>/tokenizers/ once the package's own (misnamed)
    # folder fails: a private folder holding the wheel's tokenizer file, removed once the
    # model is in memory.
    cache_dir = Path(tempfile.mkdtemp(prefix="pgvector-admin-wordllama-"))
    try:
        (cache_dir / "tokenizers").mkdir()
        source = Path(wordllama.__file__).parent / "tokenizers" / TOKENIZER_FILE
        shutil.copyfile(source, cache_dir / "tokenizers" / TOKENIZER_FILE)
        return WordLlama.load(
            config=CONFIG, cache_dir=cache_dir, disable_download=True, trunc_dim=trunc_dim
        )
    except (OSError, ValueError) as error:
        raise EmbedderError(
            _("The model %(model)s could not be loaded: %(reason)s")
            % {"model": "WordLlama", "reason": error}
        ) from error
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
