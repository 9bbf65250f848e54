"""Embedders for the tests: WordLlama slowed down (to catch a backfill mid-way), and
counting what it embeds."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from pgvector_admin.embedders import WordLlamaEmbedder

# Seconds each batch takes at least, in processes that set it (a test's worker).
PACE_VARIABLE = "PGVECTOR_ADMIN_TEST_EMBED_PACE"


class PacedEmbedder(WordLlamaEmbedder):
    """WordLlama, 64-d, each call taking at least the environment's pace."""

    def __init__(self) -> None:
        super().__init__(dimensions=64)
        self.texts_embedded = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        pace = float(os.environ.get(PACE_VARIABLE) or 0)
        started = time.monotonic()
        vectors = super().embed(texts)
        self.texts_embedded += len(texts)
        time.sleep(max(0.0, pace - (time.monotonic() - started)))
        return vectors
