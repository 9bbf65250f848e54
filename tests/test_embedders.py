"""Embedders (pgvector_admin.embedders): the protocol's checks, WordLlama loaded offline
and once per process, the OpenAI-compatible adapter against a fake service on
loopback, the sentence-transformers adapter with a stand-in model."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from pgvector_admin.embedders import Embedder, EmbedderError, WordLlamaEmbedder
from pgvector_admin.embedders.base import checked_vectors
from pgvector_admin.embedders.openai_http import OpenAICompatibleEmbedder
from pgvector_admin.embedders.queries import embed_query, recording_query_embeddings
from pgvector_admin.embedders.sentence_transformers import SentenceTransformerEmbedder
from pgvector_admin.embedders.wordllama import loaded_model


class Fixed:
    """An embedder that answers what it is told to."""

    name = "fixed"
    dimensions = 3

    def __init__(self, answer: list[list[float]]) -> None:
        self.answer = answer

    def embed(self, texts: Any) -> list[list[float]]:
        return self.answer


def test_an_object_with_a_name_dimensions_and_embed_is_an_embedder() -> None:
    assert isinstance(Fixed([]), Embedder)
    assert isinstance(WordLlamaEmbedder(), Embedder)
    assert not isinstance(object(), Embedder)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ([[1.0, 2.0, 3.0]], "returned 1 vectors for 2 texts"),
        ([[1.0, 2.0], [1.0, 2.0]], "a vector of 2 dimensions, not 3"),
        ([[1.0, float("nan"), 3.0], [1.0, 2.0, 3.0]], "NaN or infinity"),
        ([[1.0, float("inf"), 3.0], [1.0, 2.0, 3.0]], "NaN or infinity"),
    ],
)
def test_an_embedders_wrong_answer_is_a_clear_error(answer: list[Any], message: str) -> None:
    with pytest.raises(EmbedderError, match=message):
        checked_vectors(Fixed(answer), ["a", "b"])


@pytest.mark.parametrize("dimensions", [64, 128, 256])
def test_wordllama_gives_unit_vectors_of_its_dimensions(dimensions: int) -> None:
    vectors = np.asarray(WordLlamaEmbedder(dimensions).embed(["time.sleep", "a cat", "x" * 500]))
    assert vectors.shape == (3, dimensions)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_wordllama_vectors_are_those_of_wordllamas_own_embed() -> None:
    """The pooling here skips the padding, not the meaning: WordLlama's own ``embed``
    (padded batches, normalised) gives the same vectors, cut the same way."""
    texts = ["Delay execution for a given number of seconds.", "json", "a " * 300]
    for dimensions in (64, 256):
        ours = np.asarray(WordLlamaEmbedder(dimensions).embed(texts))
        model = loaded_model(dimensions)
        model.tokenizer.enable_padding()
        try:
            theirs = model.embed(texts, norm=True)
        finally:
            model.tokenizer.no_padding()
        assert np.abs(ours - theirs).max() < 1e-5


def test_wordllama_ranks_a_paraphrase_nearer_than_an_unrelated_text() -> None:
    query, near, far = WordLlamaEmbedder().embed(
        [
            "wait for a few seconds",
            "Delay execution for a given number of seconds.",
            "A JSON decoder.",
        ]
    )
    assert np.dot(query, near) > np.dot(query, far)


def test_wordllama_refuses_a_text_with_no_words() -> None:
    with pytest.raises(EmbedderError, match="finds no words in ''"):
        WordLlamaEmbedder().embed(["fine", ""])


def test_wordllama_refuses_dimensions_it_cannot_make() -> None:
    with pytest.raises(ValueError, match="64, 128, 256 dimensions, not 300"):
        WordLlamaEmbedder(300)


def test_the_model_is_loaded_once_per_process() -> None:
    first = loaded_model(128)
    WordLlamaEmbedder(128).embed(["once"])
    assert loaded_model(128) is first


NO_NETWORK = """
import socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(args)
    raise OSError("network blocked by the test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from pgvector_admin.embedders import WordLlamaEmbedder
vectors = WordLlamaEmbedder(256).embed(["offline, of course"])
print(len(vectors[0]), len(attempts))
"""


def test_wordllama_loads_and_embeds_with_the_network_blocked() -> None:
    """In a fresh process whose every connection attempt fails (and is counted): the
    model loads from the wheel and embeds, and nothing tried to connect."""
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": "/nonexistent", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["256", "0"]


def test_the_first_query_of_a_process_says_it_loaded_the_model() -> None:
    from pgvector_admin.embedders import wordllama

    wordllama._models.pop(128, None)
    _, first = embed_query(WordLlamaEmbedder(128), "first")
    _, second = embed_query(WordLlamaEmbedder(128), "second")
    assert (first.loaded_model, second.loaded_model) == (True, False)


def test_a_query_text_is_checked_timed_and_recorded() -> None:
    with recording_query_embeddings() as recorded:
        vector, record = embed_query(WordLlamaEmbedder(64), "pause the program")
    assert len(vector) == 64
    assert recorded == [record]
    assert (record.model, record.dimensions) == ("WordLlama l2_supercat 64-d", 64)
    assert record.milliseconds > 0
    with pytest.raises(EmbedderError, match="Type some text"):
        embed_query(WordLlamaEmbedder(64), "   ")
    with pytest.raises(EmbedderError, match="102,400 characters long; a query may have at most"):
        embed_query(WordLlamaEmbedder(64), "x" * 102_400)


# The OpenAI-compatible adapter ---------------------------------------------------------


class FakeService(BaseHTTPRequestHandler):
    """``POST /v1/embeddings`` as OpenAI answers it: each text's vector is
    [its length, its number of words, 1], listed in reverse order (indices say which)."""

    behaviour = "ok"
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeService.seen.append({"body": body, "auth": self.headers.get("Authorization")})
        behaviour = FakeService.behaviour  # as it was when the request came
        if behaviour == "slow":
            time.sleep(2)
            return  # the client has given up
        if behaviour == "error":
            self._answer(500, b'{"error": "model not loaded"}')
            return
        if behaviour == "junk":
            self._answer(200, b"<html>hello</html>")
            return
        data = [
            {"index": i, "embedding": [float(len(text)), float(len(text.split())), 1.0]}
            for i, text in enumerate(body["input"])
        ]
        self._answer(200, json.dumps({"data": data[::-1], "model": body["model"]}).encode())

    def _answer(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def service() -> Iterator[str]:
    FakeService.behaviour = "ok"
    FakeService.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_the_http_adapter_embeds_in_batches_in_order(service: str) -> None:
    embedder = OpenAICompatibleEmbedder(
        service, model="fake", dimensions=3, api_key="k-123", batch_size=2, send_dimensions=True
    )
    vectors = embedder.embed(["a", "bb cc", "ddd", "e f g h", "i"])
    assert vectors == [[1, 1, 1], [5, 2, 1], [3, 1, 1], [7, 4, 1], [1, 1, 1]]
    assert [len(seen["body"]["input"]) for seen in FakeService.seen] == [2, 2, 1]
    assert FakeService.seen[0]["auth"] == "Bearer k-123"
    assert FakeService.seen[0]["body"]["dimensions"] == 3
    assert embedder.name == f"fake at {service}"


def test_the_http_adapter_says_when_the_service_is_down() -> None:
    with socket_closed_port() as port:
        embedder = OpenAICompatibleEmbedder(f"http://127.0.0.1:{port}/v1", model="m", dimensions=3)
        with pytest.raises(EmbedderError, match=r"could not be reached: .*refused"):
            embedder.embed(["x"])


def test_the_http_adapter_gives_up_after_its_timeout(service: str) -> None:
    FakeService.behaviour = "slow"
    embedder = OpenAICompatibleEmbedder(service, model="m", dimensions=3, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(EmbedderError, match="could not be reached: timed out"):
        embedder.embed(["x"])
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ("error", r"answered 500 Internal Server Error: \{\"error\": \"model not loaded\"\}"),
        ("junk", "did not answer with JSON"),
    ],
)
def test_the_http_adapter_reports_a_bad_answer(service: str, behaviour: str, message: str) -> None:
    FakeService.behaviour = behaviour
    with pytest.raises(EmbedderError, match=message):
        OpenAICompatibleEmbedder(service, model="m", dimensions=3).embed(["x"])


class socket_closed_port:
    """A loopback port nobody listens on."""

    def __enter__(self) -> int:
        import socket

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        return self.socket.getsockname()[1]

    def __exit__(self, *exc: Any) -> None:
        self.socket.close()


# The sentence-transformers adapter -----------------------------------------------------


class StandInModel:
    """What the adapter calls of a SentenceTransformer."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def encode(self, texts: list[str], **options: Any) -> Any:
        self.calls.append(options)
        return np.asarray([[len(text), 0.5] for text in texts], dtype=np.float32)


def test_the_sentence_transformers_adapter_passes_its_options() -> None:
    model = StandInModel()
    embedder = SentenceTransformerEmbedder(model, dimensions=2, name="stand-in", batch_size=8)
    assert embedder.embed(["ab", "c"]) == [[2.0, 0.5], [1.0, 0.5]]
    assert model.calls == [
        {
            "batch_size": 8,
            "normalize_embeddings": True,
            "convert_to_numpy": True,
            "truncate_dim": 2,
        }
    ]


def test_the_sentence_transformers_adapter_says_what_to_install() -> None:
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2", dimensions=384)
    with pytest.raises(EmbedderError, match="pip install sentence-transformers"):
        embedder.embed(["x"])
