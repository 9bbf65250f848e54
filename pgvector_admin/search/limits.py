"""The bounds of a search: how many rows, and how far an HNSW scan may be widened."""

from __future__ import annotations

MAX_K = 1000


# The most hnsw.ef_search accepts.
MAX_EF_SEARCH = 1000
