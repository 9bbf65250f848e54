"""How well search by text finds the right docstring: keyword, vector and hybrid, on
the demo's corpus (the standard library's docstrings of this interpreter).

    uv run python bench/text_quality.py [--queries 1000] [--k 10]

The query set, built from the corpus (the method, stated):
  * every object whose docstring has a first paragraph (its summary) of 4 to 40
    words, a rest of at least 20 words, and a summary no other object shares;
  * the query is the summary; the answer is the object; the table indexed holds every
    object's docstring *without its summary* (objects without a rest keep their whole
    docstring), so neither ranking can match the query against itself;
  * ``--queries`` of them, drawn with a fixed seed.
Plus hand-written questions, each with the objects that answer it.

For each query, each mode returns its 10 best rows through the same functions as the
admin's search page (WordLlama 256-d, the HNSW index, the GIN index); recall@10 is the
share of queries whose answer is among them, MRR@10 the mean of 1/rank (0 when absent).
"""

from __future__ import annotations

import argparse
import random
import re
import time

from common import setup_django

QUALITY_DATABASE = "bench_text_quality"

# (question, the objects that answer it)
QUESTIONS = [
    ("pause the program for a few seconds", {"time.sleep"}),
    ("join path components", {"posixpath.join"}),
    ("current time in seconds since the epoch", {"time.time"}),
    ("convert an object to a JSON string", {"json.dumps"}),
    ("parse a JSON document into Python objects", {"json.loads", "json.load"}),
    ("square root of a number", {"math.sqrt", "cmath.sqrt", "math.isqrt"}),
    ("sort a list of items", {"builtins.sorted", "builtins.list.sort"}),
    (
        "run a shell command and get its output",
        {"subprocess.run", "subprocess.check_output", "subprocess.getoutput"},
    ),
    ("copy a file to another place", {"shutil.copy", "shutil.copyfile", "shutil.copy2"}),
    ("create a directory and its parents", {"os.makedirs"}),
    ("random integer between two numbers", {"random.randint", "random.randrange"}),
    ("read rows of a CSV file", {"csv.reader", "csv.DictReader"}),
    ("delete a file", {"os.remove", "os.unlink"}),
    ("delete a directory tree", {"shutil.rmtree"}),
    ("list the files in a directory", {"os.listdir", "os.scandir", "glob.glob"}),
    ("count how many times each item occurs", {"collections.Counter"}),
    ("encode bytes as base64", {"base64.b64encode", "base64.standard_b64encode"}),
    ("the current date and time", {"datetime.datetime.now", "datetime.datetime.today"}),
    (
        "make a temporary file",
        {"tempfile.NamedTemporaryFile", "tempfile.TemporaryFile", "tempfile.mkstemp"},
    ),
    ("deep copy of an object", {"copy.deepcopy"}),
    ("measure how long a small piece of code takes", {"timeit", "timeit.timeit"}),
    ("download a web page from a URL", {"urllib.request.urlopen"}),
    ("compute a SHA-256 hash of data", {"hashlib.sha256"}),
    ("generate a random UUID", {"uuid.uuid4"}),
    ("all orderings of the elements of a list", {"itertools.permutations"}),
    ("average of a list of numbers", {"statistics.mean", "statistics.fmean"}),
    ("cache the results of a function", {"functools.lru_cache", "functools.cache"}),
    (
        "insert into a sorted list keeping it sorted",
        {"bisect.insort", "bisect.insort_right", "bisect.bisect_left", "bisect.bisect"},
    ),
    ("push an item onto a heap", {"heapq.heappush"}),
    ("wrap a long paragraph into lines", {"textwrap.wrap", "textwrap.fill"}),
    ("stop the program with an exit status", {"sys.exit"}),
    ("does this path exist", {"genericpath.exists", "pathlib.Path.exists"}),
]


def split_summary(text: str) -> tuple[str, str]:
    """A docstring's first paragraph and the rest."""
    parts = re.split(r"\n\s*\n", text.strip(), maxsplit=1)
    return parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args()

    setup_django(QUALITY_DATABASE)
    import sys

    from catalog.models import Docstring
    from catalog.stdlib_docs import read_corpus
    from pgvector_admin.embedders.backfill import embed_rows
    from pgvector_admin.embedders.fields import text_embedding
    from pgvector_admin.search.hybrid import text_search
    from pgvector_admin.search.keywords import ALL_WORDS, ANY_WORD, keyword_indexes
    from pgvector_admin.search.searches import nearest
    from pgvector_admin.vectors.fields import VectorColumn
    from pgvector_admin.vectors.metrics import COSINE

    corpus = read_corpus()
    summaries: dict[str, list[str]] = {}
    rows = []
    for doc in corpus:
        summary, rest = split_summary(doc.text)
        summaries.setdefault(" ".join(summary.split()), []).append(doc.qualname)
        rows.append((doc, summary, rest))
    eligible = [
        (doc.qualname, " ".join(summary.split()))
        for doc, summary, rest in rows
        if 4 <= len(summary.split()) <= 40
        and len(rest.split()) >= 20
        and len(summaries[" ".join(summary.split())]) == 1
    ]
    print(
        f"Python {sys.version.split()[0]}: {len(corpus):,} documented objects; "
        f"{len(eligible):,} eligible as queries.",
        flush=True,
    )
    if Docstring.objects.count() != len(corpus):
        Docstring.objects.all().delete()
        Docstring.objects.bulk_create(
            Docstring(
                qualname=doc.qualname,
                kind=doc.kind,
                module=doc.module,
                text=rest or doc.text,
            )
            for doc, summary, rest in rows
        )
        started = time.perf_counter()
        embed_rows(
            model=Docstring, field="embedding", embedding=text_embedding(Docstring, "embedding")
        )
        print(f"Embedded the corpus in {time.perf_counter() - started:.1f} s.", flush=True)
    rng = random.Random(args.seed)
    queries = rng.sample(eligible, min(args.queries, len(eligible)))
    known = set(Docstring.objects.values_list("qualname", flat=True))
    questions = [(text, answers & known) for text, answers in QUESTIONS if answers & known]
    missing = [text for text, answers in QUESTIONS if not answers & known]
    if missing:
        print(f"Questions without an answer in this corpus, left out: {missing}")

    column = VectorColumn.of(Docstring, "embedding")
    embedder = text_embedding(Docstring, "embedding").embedder
    (index,) = keyword_indexes(Docstring)
    names = dict(Docstring.objects.values_list("pk", "qualname"))

    def ranked(mode: str, text: str, vector: list[float]) -> list[str]:
        if mode == "vector":
            outcome = nearest(column=column, vector=vector, k=args.k, metric=COSINE)
        else:
            kind, match = mode.split(":")
            outcome = text_search(
                mode=kind,
                column=column,
                vector=vector,
                text=text,
                index=index,
                k=args.k,
                metric=COSINE,
                match=ALL_WORDS if match == "all" else ANY_WORD,
            )
        return [names[neighbour.id] for neighbour in outcome.neighbours]

    modes = {
        "keyword, every word (websearch_to_tsquery)": "keyword:all",
        "keyword, any word": "keyword:any",
        "vector (WordLlama 256-d, cosine)": "vector",
        "hybrid: every word + vector (RRF, k=60)": "hybrid:all",
        "hybrid: any word + vector (RRF, k=60)": "hybrid:any",
    }
    for title, query_set in (
        (f"{len(queries):,} summaries as queries", [(text, {name}) for name, text in queries]),
        (f"{len(questions)} hand-written questions", questions),
    ):
        vectors = embedder.embed([text for text, _ in query_set])
        print(f"\n{title}, k={args.k}\n")
        print(f"| mode | recall@{args.k} | MRR@{args.k} | ms per query |")
        print("| --- | ---: | ---: | ---: |")
        for label, mode in modes.items():
            found, reciprocal = 0, 0.0
            started = time.perf_counter()
            for (text, answers), vector in zip(query_set, vectors, strict=True):
                results = ranked(mode, text, vector)
                ranks = [rank for rank, name in enumerate(results, 1) if name in answers]
                if ranks:
                    found += 1
                    reciprocal += 1 / ranks[0]
            elapsed = (time.perf_counter() - started) * 1000 / len(query_set)
            print(
                f"| {label} | {found / len(query_set):.3f} | {reciprocal / len(query_set):.3f} "
                f"| {elapsed:.1f} |",
                flush=True,
            )
    print("\nEach hand-written question's best answer by hybrid (any word):")
    for (text, answers), vector in zip(
        questions, embedder.embed([t for t, _ in questions]), strict=True
    ):
        results = ranked("hybrid:any", text, vector)
        place = next((rank for rank, name in enumerate(results, 1) if name in answers), None)
        print(
            f"  {text!r}: {'rank ' + str(place) if place else 'not in the first ' + str(args.k)}"
            f" (first: {results[0] if results else '-'})"
        )


if __name__ == "__main__":
    main()
