"""Text to vectors: the protocol an embedder follows (``base``), the one shipped to run
on the machine (``wordllama``), adapters for sentence-transformers and for
OpenAI-compatible HTTP services, and the per-field setting (``fields``)."""

from pgvector_admin.embedders.base import Embedder, EmbedderError
from pgvector_admin.embedders.fields import TextEmbedding
from pgvector_admin.embedders.wordllama import WordLlamaEmbedder

__all__ = ["Embedder", "EmbedderError", "TextEmbedding", "WordLlamaEmbedder"]
