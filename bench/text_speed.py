"""Search by text, timed: the backfill against the model alone, and the text search
page against raw SQL of the same queries, at the corpus's size and at a million rows.

    uv run python bench/text_speed.py backfill [--repeat 3]
    uv run python bench/text_speed.py search --rows 0        # the corpus (6k rows)
    uv run python bench/text_speed.py search --rows 1000000  # synthetic rows

backfill: the corpus's texts embedded by WordLlama alone (``WordLlamaEmbedder.embed``
in the backfill's batches, and WordLlama's own ``embed`` for reference), then
``embed_rows`` on the table (read, embed, write, commit per batch), with the table's
HNSW and GIN indexes and without them; medians of ``--repeat`` runs.

search: for each of 30 question texts in turn, k=10, cosine,
  raw vector     psycopg alone: SET LOCAL settings, the k-NN statement (every distance)
                 with the query's vector already embedded
  raw hybrid     psycopg alone: the keyword statement (any word, or every word with
                 --match all; ts_rank_cd, 100 rows),
                 the k-NN statement (100 rows), fused in Python, the 10 rows read back
                 with their distances
  model          WordLlama embedding the text alone
  page vector    GET .../docstring/search/?text=... through Django's whole stack
  page hybrid    the same with mode=hybrid&match=any (or all)
The synthetic rows are sentences of the corpus recombined, embedded by WordLlama and
loaded with COPY (binary), then both indexes built; they are kept between runs.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time

from common import setup_django, summary, timed

QUESTIONS = [
    "pause the program for a few seconds",
    "join path components",
    "current time in seconds since the epoch",
    "convert an object to a JSON string",
    "parse a JSON document",
    "square root of a number",
    "sort a list of items",
    "run a shell command and get its output",
    "copy a file to another place",
    "create a directory and its parents",
    "random integer between two numbers",
    "read rows of a CSV file",
    "delete a file",
    "list the files in a directory",
    "count how many times each item occurs",
    "encode bytes as base64",
    "the current date and time",
    "make a temporary file",
    "deep copy of an object",
    "download a web page from a URL",
    "compute a SHA-256 hash",
    "generate a random UUID",
    "all orderings of a list",
    "average of numbers",
    "cache the results of a function",
    "push an item onto a heap",
    "wrap a paragraph into lines",
    "exit the interpreter",
    "does this path exist",
    "open a network connection to a host",
]


def backfill(repeat: int) -> None:
    setup_django("bench_text_backfill")
    from django.db import connection

    from catalog.models import DOC_INDEX_NAME, DOC_TEXT_INDEX_NAME, Docstring
    from catalog.stdlib_docs import read_corpus
    from pgvector_admin.embedders.backfill import BATCH, embed_rows
    from pgvector_admin.embedders.fields import text_embedding
    from pgvector_admin.embedders.wordllama import loaded_model

    corpus = read_corpus()
    if Docstring.objects.count() != len(corpus):
        Docstring.objects.all().delete()
        Docstring.objects.bulk_create(
            Docstring(qualname=d.qualname, kind=d.kind, module=d.module, text=d.text)
            for d in corpus
        )
    texts = list(Docstring.objects.order_by("pk").values_list("text", flat=True))
    embedding = text_embedding(Docstring, "embedding")
    embedder = embedding.embedder
    embedder.embed(texts[:10])  # loaded once per process, as in the worker

    def ours() -> None:
        for start in range(0, len(texts), BATCH):
            embedder.embed(texts[start : start + BATCH])

    model = loaded_model(embedder.dimensions)

    def theirs() -> None:
        model.tokenizer.enable_padding()
        try:
            model.embed(texts, norm=True, batch_size=64)
        finally:
            model.tokenizer.no_padding()

    table = Docstring._meta.db_table

    def vacuumed(run):
        """``run`` timed after a VACUUM (not timed): each run rewrites every row."""

        def samples() -> list[float]:
            times = []
            for _ in range(repeat):
                with connection.cursor() as cursor:
                    cursor.execute(f"VACUUM {table}")
                times += timed(run, 1)
            return times

        return samples()

    def run_backfill() -> None:
        embed_rows(model=Docstring, field="embedding", embedding=embedding, every=True)

    def rewrite_in_sql() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET embedding = embedding")

    results = {}
    results["WordLlama's own embed (padded batches of 64)"] = timed(theirs, repeat)
    results["the embedder alone (WordLlamaEmbedder, batches of 512)"] = timed(ours, repeat)
    results["embed_rows, with the HNSW and GIN indexes"] = vacuumed(run_backfill)
    results["the database alone: UPDATE … SET embedding = embedding, with the indexes"] = vacuumed(
        rewrite_in_sql
    )
    indexes = [index for index in Docstring._meta.indexes]
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.remove_index(Docstring, index)
    try:
        results["embed_rows, without the indexes"] = vacuumed(run_backfill)
        results["the database alone, without the indexes"] = vacuumed(rewrite_in_sql)
    finally:
        with connection.schema_editor() as editor:
            for index in indexes:
                editor.add_index(Docstring, index)
    assert {DOC_INDEX_NAME, DOC_TEXT_INDEX_NAME} == {index.name for index in indexes}
    base = statistics.median(results["the embedder alone (WordLlamaEmbedder, batches of 512)"])
    rows = len(texts)
    chars = sum(map(len, texts)) / rows
    print(f"\n{rows:,} docstrings (mean {chars:.0f} characters), median of {repeat} runs\n")
    print("| what | seconds | rows/s | against the embedder alone |")
    print("| --- | ---: | ---: | ---: |")
    for name, samples in results.items():
        seconds = statistics.median(samples) / 1000
        print(f"| {name} | {seconds:.2f} | {rows / seconds:,.0f} | {base / 1000 / seconds:.2f}x |")


def synthetic_rows(count: int, seed: int = 5) -> None:
    """Make the Docstring table hold ``count`` synthetic rows with their indexes."""
    import numpy as np
    from django.db import connection
    from pgvector.psycopg.vector import register_vector_info
    from psycopg.types import TypeInfo

    from catalog.models import Docstring
    from catalog.stdlib_docs import read_corpus
    from pgvector_admin.embedders.wordllama import WordLlamaEmbedder

    table = Docstring._meta.db_table
    if Docstring.objects.count() == count:
        print(f"{count:,} synthetic rows already loaded.")
        return
    sentences = [
        sentence.strip()
        for doc in read_corpus()
        for sentence in re.split(r"(?<=[.!?])\s+", doc.text)
        if 3 <= len(sentence.split()) <= 40
    ]
    rng = random.Random(seed)
    embedder = WordLlamaEmbedder(256)
    print(f"Loading {count:,} synthetic rows from {len(sentences):,} sentences…", flush=True)
    started = time.perf_counter()
    indexes = list(Docstring._meta.indexes)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} RESTART IDENTITY")
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.execute(f"DROP INDEX IF EXISTS {index.name}")
    connection.ensure_connection()
    raw = connection.connection
    info = TypeInfo.fetch(raw, "vector")
    chunk = 50_000
    for start in range(0, count, chunk):
        texts = [" ".join(rng.sample(sentences, 2)) for _ in range(min(chunk, count - start))]
        vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
        with raw.cursor() as cursor:
            register_vector_info(cursor, info)
            with cursor.copy(
                f"COPY {table} (qualname, kind, module, text, embedding) FROM STDIN "
                "WITH (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["varchar", "varchar", "varchar", "text", "vector"])
                for offset, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
                    copy.write_row(
                        (f"synthetic.row{start + offset}", "function", "synthetic", text, vector)
                    )
        print(f"  {start + len(texts):,} rows, {time.perf_counter() - started:.0f} s", flush=True)
    for index in indexes:
        built = time.perf_counter()
        with connection.schema_editor() as editor:
            editor.add_index(Docstring, index)
        print(f"  CREATE INDEX {index.name}: {time.perf_counter() - built:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")


def search(rows: int, requests: int, match: str = "any") -> None:
    database = "bench_text_search" if rows == 0 else f"bench_text_search_{rows}"
    setup_django(database)
    import psycopg
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from catalog.models import Docstring
    from catalog.samples import load_docstrings
    from pgvector_admin.embedders.backfill import embed_rows
    from pgvector_admin.embedders.fields import text_embedding
    from pgvector_admin.search.index_choice import index_for
    from pgvector_admin.search.scan_settings import search_settings
    from pgvector_admin.vectors.fields import VectorColumn
    from pgvector_admin.vectors.metrics import COSINE

    if rows == 0:
        if load_docstrings():
            embedding = text_embedding(Docstring, "embedding")
            embed_rows(model=Docstring, field="embedding", embedding=embedding)
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM ANALYZE {Docstring._meta.db_table}")
    else:
        synthetic_rows(rows)
    count = Docstring.objects.count()
    embedder = text_embedding(Docstring, "embedding").embedder
    vectors = {text: [float(v) for v in embedder.embed([text])[0]] for text in QUESTIONS}
    column = VectorColumn.of(Docstring, "embedding")
    table = Docstring._meta.db_table
    User.objects.filter(username="bench").delete()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.create_superuser("bench", "", "bench"))
    raw = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    fts = "search"  # the generated tsvector column the GIN index is on
    if match == "any":
        tsquery = (
            "(SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery FROM "
            "unnest(tsvector_to_array(to_tsvector('english'::regconfig, %s))) AS lexeme)"
        )
    else:
        tsquery = "websearch_to_tsquery('english'::regconfig, %s)"
    distances = (
        "embedding <=> %(q)s::vector, embedding <-> %(q)s::vector, "
        "embedding <#> %(q)s::vector, embedding <+> %(q)s::vector"
    )

    def knn(cursor, vector: str, limit: int) -> list:
        settings = search_settings(k=limit, exact=False, index=index_for(column, COSINE))
        for name, value in settings.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        cursor.execute(
            f"SELECT id, qualname, embedding::text, {distances} FROM {table} "
            "WHERE embedding IS NOT NULL ORDER BY embedding <=> %(q)s::vector LIMIT %(k)s",
            {"q": vector, "k": limit},
        )
        return cursor.fetchall()

    def raw_vector(text: str) -> int:
        vector = str(vectors[text])
        with raw.transaction(), raw.cursor() as cursor:
            return len(knn(cursor, vector, 10))

    def raw_hybrid(text: str) -> int:
        vector = str(vectors[text])
        with raw.transaction(), raw.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {table} WHERE ({fts}) @@ {tsquery} "
                f"ORDER BY ts_rank_cd({fts}, {tsquery}) DESC, id LIMIT 100",
                [text, text],
            )
            keyword = [pk for (pk,) in cursor.fetchall()]
            nearest = [row[0] for row in knn(cursor, vector, 100)]
            score: dict[int, float] = {}
            for ranking in (keyword, nearest):
                for rank, pk in enumerate(ranking, 1):
                    score[pk] = score.get(pk, 0.0) + 1 / (60 + rank)
            best = sorted(score, key=lambda pk: (-score[pk], pk))[:10]
            cursor.execute(
                f"SELECT id, qualname, embedding::text, {distances} FROM {table} "
                "WHERE id = ANY(%(ids)s)",
                {"q": vector, "ids": best},
            )
            return len(cursor.fetchall())

    def model(text: str) -> int:
        return len(embedder.embed([text]))

    def page(mode: str):
        def get(text: str) -> int:
            params = (
                {"text": text} if mode == "vector" else {"text": text, "mode": mode, "match": "any"}
            )
            response = client.get("/admin/catalog/docstring/search/", params)
            assert response.status_code == 200, response.content[:3000]
            return response.content.count(b'class="similar-row"')

        return get

    runs = {
        "raw SQL: vector (psycopg, vector given)": raw_vector,
        "raw SQL: hybrid (two statements, fused, rows read back)": raw_hybrid,
        "WordLlama embedding the text": model,
        "admin search page, vector": page("vector"),
        "admin search page, hybrid": page("hybrid"),
    }
    for name, run in runs.items():
        got = run(QUESTIONS[0])  # warm up, and check the answer is whole
        assert got in {1, 10}, (name, got)
    results = {}
    for name, run in runs.items():
        order = iter(QUESTIONS * (requests // len(QUESTIONS) + 1))
        results[name] = summary(timed(lambda run=run, order=order: run(next(order)), requests))
    base_vector = results["raw SQL: vector (psycopg, vector given)"]["p50"]
    base_hybrid = results["raw SQL: hybrid (two statements, fused, rows read back)"]["p50"]
    with raw.transaction(), raw.cursor() as cursor:
        settings = search_settings(k=10, exact=False, index=index_for(column, COSINE))
        for name, value in settings.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        cursor.execute(
            f"EXPLAIN SELECT id FROM {table} WHERE embedding IS NOT NULL "
            "ORDER BY embedding <=> %s::vector LIMIT 10",
            [str(vectors[QUESTIONS[0]])],
        )
        print("\n".join(line for (line,) in cursor.fetchall()))
    words = "any word" if match == "any" else "every word"
    print(f"\n{count:,} rows, k=10, cosine, hybrid by {words}, {requests} requests each\n")
    print("| what | p50 ms | p90 ms | p99 ms | p50 / raw |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, figures in results.items():
        base = base_hybrid if "hybrid" in name else base_vector
        ratio = "" if "WordLlama" in name else f"{figures['p50'] / base:.1f}x"
        print(
            f"| {name} | {figures['p50']:.2f} | {figures['p90']:.2f} | {figures['p99']:.2f} "
            f"| {ratio} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["backfill", "search"])
    parser.add_argument("--rows", type=int, default=0, help="0: the corpus itself")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--match", choices=["any", "all"], default="any", help="hybrid's keyword words"
    )
    args = parser.parse_args()
    if args.what == "backfill":
        backfill(args.repeat)
    else:
        search(args.rows, args.requests, args.match)


if __name__ == "__main__":
    main()
