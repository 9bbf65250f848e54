"""An adapter for an OpenAI-compatible embeddings endpoint (``POST <url>/embeddings``):
OpenAI itself, or a server on your own machines that speaks the same API (vLLM,
llama.cpp's server, Ollama, text-embeddings-inference, LiteLLM...).

    from pgvector_admin.embedders.openai_http import OpenAICompatibleEmbedder

    embedder = OpenAICompatibleEmbedder(
        "http://127.0.0.1:8080/v1", model="nomic-embed-text", dimensions=768
    )

Only the standard library: each call is one HTTP request per batch, with a timeout;
a service that is down, slow or answers with an error is an ``EmbedderError`` saying
so, never a hang.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from pgvector_admin.embedders.base import EmbedderError


class OpenAICompatibleEmbedder:
    """Embeddings from ``<base_url>/embeddings``. ``api_key`` (or the environment
    variable named by ``api_key_env``) is sent as a bearer token when set;
    ``send_dimensions`` asks the service to cut its vectors to ``dimensions`` (models
    that allow it, such as text-embedding-3)."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        dimensions: int,
        api_key: str | None = None,
        api_key_env: str | None = "OPENAI_API_KEY",
        timeout: float = 10.0,
        batch_size: int = 256,
        send_dimensions: bool = False,
    ) -> None:
        self.url = base_url.rstrip("/") + "/embeddings"
        self.model = model
        self.dimensions = dimensions
        self.name = f"{model} at {base_url.rstrip('/')}"
        self._api_key = api_key or (os.environ.get(api_key_env) if api_key_env else None)
        self._timeout = timeout
        self._batch_size = batch_size
        self._send_dimensions = send_dimensions

    def __repr__(self) -> str:
        return f"OpenAICompatibleEmbedder({self.url!r}, model={self.model!r})"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            vectors.extend(self._embed_batch(list(texts[start : start + self._batch_size])))
        return vectors

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        body: dict[str, Any] = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self._send_dimensions:
            body["dimensions"] = self.dimensions
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            detail = error.read(500).decode(errors="replace").strip()
            status = f"{error.code} {error.reason}"
            raise EmbedderError(
                _("The embedding service at %(url)s answered %(status)s: %(detail)s")
                % {"url": self.url, "status": status, "detail": detail}
                if detail
                else _("The embedding service at %(url)s answered %(status)s.")
                % {"url": self.url, "status": status}
            ) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise EmbedderError(
                _("The embedding service at %(url)s could not be reached: %(reason)s.")
                % {"url": self.url, "reason": reason}
            ) from error
        except ValueError as error:
            raise EmbedderError(
                _("The embedding service at %(url)s did not answer with JSON.") % {"url": self.url}
            ) from error
        try:
            entries = sorted(answer["data"], key=lambda entry: entry["index"])
            return [[float(value) for value in entry["embedding"]] for entry in entries]
        except (KeyError, TypeError, ValueError) as error:
            raise EmbedderError(
                _(
                    "The embedding service at %(url)s answered without embeddings (expected "
                    "%(expected)s)."
                )
                % {"url": self.url, "expected": '{"data": [{"index": 0, "embedding": [...]}, ...]}'}
            ) from error
