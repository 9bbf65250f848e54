"""A bounded load run on loopback: the production server (gunicorn, `manage.py serve`)
against the development server (`manage.py runserver`), with raw SQL as the ceiling.

    uv run python bench/load.py [--rows 100000 1000000] [--clients 8] [--seconds 30]
                                [--workers N]

For each table size, on the benchmark database and in the same run:
  raw SQL    the page's database work alone, from `--clients` threads with a psycopg
             connection each: a search is the k-NN query with the page's SET LOCAL
             settings; "similar" also fetches the row's embedding first. The ceiling.
  runserver  `manage.py runserver --noreload`: one process, a thread per request.
  gunicorn   `manage.py serve --workers N`: N processes, DEBUG off.
The pages: search, similar, and Django's own change page of a row of the same table
(a plain ModelAdmin at /stock/, bench/changelist_urls.py): the floor an admin page
has. `--gunicorn-only` leaves runserver out.
Both servers run production settings over plain HTTP (as behind a proxy that ends
TLS). Each of `--clients` client threads requests the page (k=10, random vector or
random row, a logged-in staff session) as fast as it is answered, for `--seconds`,
first the search page, then the similar page. Prints requests/s, p50/p99, every
error, and the most PostgreSQL connections seen. Only 127.0.0.1 is ever contacted;
the run stops by itself, and so does every server it started.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from common import BASE_DIR, BENCH_DATABASE, ensure_rows, setup_django

PAGES = ("search", "similar", "stock change page")
# Raw SQL stands for the vector pages' own queries; the stock page has none of ours.
RAW_PAGES = ("search", "similar")
K = 10


@dataclass
class Phase:
    """What one server (or raw SQL) did for one page."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_connections: int = 0

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[int(fraction * (len(ordered) - 1))] if ordered else float("nan")


def main() -> None:
    from project.serving import default_workers

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument(
        "--gunicorn-only", action="store_true", help="leave runserver out (the pages' ratios)"
    )
    args = parser.parse_args()

    setup_django()
    for rows in args.rows:
        figures = measure(rows, args.clients, args.seconds, args.workers, args.gunicorn_only)
        report(rows, figures, args)


def measure(
    rows: int, clients: int, seconds: float, workers: int, gunicorn_only: bool = False
) -> dict[str, dict[str, Phase]]:
    """Raw SQL, runserver and gunicorn, each on both pages, at ``rows`` rows."""
    from django.contrib.auth.models import User
    from django.test import Client

    from catalog.models import Item

    ensure_rows(rows)
    ids = list(Item.objects.values_list("id", flat=True)[:50_000])
    User.objects.filter(username="load").delete()
    maker = Client(HTTP_HOST="127.0.0.1")
    maker.force_login(User.objects.create_superuser("load", "", "load"))
    session = maker.cookies["sessionid"].value

    results: dict[str, dict[str, Phase]] = {"raw SQL": {}, "runserver": {}, "gunicorn": {}}
    for page in RAW_PAGES:
        with raw_sql_client(page, ids) as request:
            results["raw SQL"][page] = run_clients(
                request, clients, seconds, application=application_name("raw")
            )
    servers = {
        "runserver": ["runserver", "--noreload"],
        "gunicorn": ["serve", "--no-migrate", "--workers", str(workers)],
    }
    if gunicorn_only:
        del servers["runserver"], results["runserver"]
    for name, command in servers.items():
        with served(command, log_name=name) as port:
            for page in PAGES:
                results[name][page] = run_clients(
                    http_client(page, port, session, ids),
                    clients,
                    seconds,
                    application=application_name(name),
                )
    return results


def report(rows: int, results: dict[str, dict[str, Phase]], args: argparse.Namespace) -> None:
    print(
        f"\n{rows:,} rows, {args.clients} clients, {args.seconds:.0f} s a page, "
        f"gunicorn with {args.workers} workers\n"
    )
    print("| server | page | requests | errors | p50 ms | p99 ms | requests/s | connections |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, pages in results.items():
        for page, phase in pages.items():
            print(
                f"| {name} | {page} | {len(phase.latencies) + len(phase.errors)} | "
                f"{len(phase.errors)} | {statistics.median(phase.latencies):.1f} | "
                f"{phase.percentile(0.99):.1f} | {phase.per_second:.1f} | "
                f"{phase.peak_connections} |"
            )
            for error in phase.errors[:10]:
                print(f"  error: {error}")
    print()
    served = results["gunicorn"]
    for page in RAW_PAGES:
        gunicorn = served[page].per_second
        raw = results["raw SQL"][page].per_second
        against = f"gunicorn / raw SQL = {gunicorn / raw:.2f} of the ceiling ({raw:.0f} queries/s)"
        if "runserver" in results:
            runserver = results["runserver"][page].per_second
            against = f"gunicorn / runserver = {gunicorn / runserver:.2f}x; {against}"
        stock = served["stock change page"].per_second
        print(f"{page}: {against}; against the stock change page {gunicorn / stock:.2f}x")


def run_clients(
    request: Callable[[random.Random], str | None],
    clients: int,
    seconds: float,
    *,
    application: str,
) -> Phase:
    """``clients`` threads calling ``request`` (which returns an error or None) for
    ``seconds``; the most connections of ``application`` seen meanwhile."""
    from django.db import connection

    phase = Phase(seconds=seconds)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                error = request(rng)
            except OSError as exc:
                error = f"{type(exc).__name__}: {exc}"
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                (phase.errors.append(error) if error else phase.latencies.append(elapsed))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    with connection.cursor() as cursor:
        while any(thread.is_alive() for thread in threads):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                [application],
            )
            phase.peak_connections = max(phase.peak_connections, cursor.fetchone()[0])
            time.sleep(0.5)
    for thread in threads:
        thread.join()
    return phase


def random_vector(rng: random.Random) -> str:
    return ",".join(f"{rng.uniform(-1, 1):.4f}" for _ in range(3))


def http_client(
    page: str, port: int, session: str, ids: list[int]
) -> Callable[[random.Random], str | None]:
    """One request to the page on the server at ``port``; an error, or None."""

    def request(rng: random.Random) -> str | None:
        if page == "search":
            path = f"/admin/catalog/item/search/?vector={random_vector(rng)}&k={K}"
        elif page == "stock change page":
            path = f"/stock/catalog/item/{rng.choice(ids)}/change/"
        else:
            path = f"/admin/catalog/item/{rng.choice(ids)}/similar/?k={K}"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", path, headers={"Cookie": f"sessionid={session}"})
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        rows = body.count(b'class="similar-row"')
        if response.status != 200 or (page in RAW_PAGES and rows != K):
            return f"{page} {path}: HTTP {response.status}"
        return None

    return request


@contextmanager
def raw_sql_client(page: str, ids: list[int]) -> Iterator[Callable[[random.Random], str | None]]:
    """The page's queries with psycopg alone, one connection per client thread (all
    closed when the block ends)."""
    import psycopg
    from django.db import connection

    from catalog.models import Item
    from pgvector_admin.search.index_choice import index_for
    from pgvector_admin.search.scan_settings import search_settings
    from pgvector_admin.vectors.fields import VectorColumn
    from pgvector_admin.vectors.metrics import COSINE

    column = VectorColumn.of(Item, "embedding")

    settings = search_settings(k=K, exact=False, index=index_for(column, COSINE))
    params = connection.get_connection_params()
    local = threading.local()
    knn = (
        "SELECT id, label, embedding::text, embedding <=> %(q)s::vector AS cosine, "
        "embedding <-> %(q)s::vector, embedding <#> %(q)s::vector, "
        "embedding <+> %(q)s::vector FROM catalog_item WHERE id <> %(pk)s "
        "ORDER BY cosine LIMIT %(k)s"
    )

    opened: list[psycopg.Connection] = []

    def request(rng: random.Random) -> str | None:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(
                **params, autocommit=True, application_name=application_name("raw")
            )
            opened.append(local.conn)
        with local.conn.transaction(), local.conn.cursor() as cursor:
            for name, value in settings.items():
                cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
            pk = 0
            vector = f"[{random_vector(rng)}]"
            if page == "similar":
                pk = rng.choice(ids)
                cursor.execute("SELECT embedding::text FROM catalog_item WHERE id = %s", [pk])
                (vector,) = cursor.fetchone()
            cursor.execute(knn, {"q": vector, "pk": pk, "k": K})
            found = len(cursor.fetchall())
        return None if found == K else f"raw {page}: {found} rows"

    try:
        yield request
    finally:
        for conn in opened:
            conn.close()


@contextmanager
def served(command: list[str], *, log_name: str) -> Iterator[int]:
    """``manage.py <command> 127.0.0.1:<port>`` on the benchmark database, until the
    block ends; then stopped with SIGTERM (and waited for)."""
    from django.db import connection

    port = free_port()
    socket_dir = connection.get_connection_params()["host"]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_DEBUG", "PYTEST_VERSION", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env |= {
        # Named, so that its connections can be counted apart from everyone else's.
        "DATABASE_URL": f"postgres://postgres@{urllib.parse.quote(socket_dir, safe='')}/"
        f"{BENCH_DATABASE}?application_name={application_name(log_name)}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        # The demo's URLs and a stock admin of the same table at /stock/.
        "DJANGO_ROOT_URLCONF": "bench.changelist_urls",
    }
    log_path = BASE_DIR / "bench" / f"load-{log_name}.log"
    with open(log_path, "w") as log:
        # Its log goes to a file: an unread pipe would fill up and stall the server.
        server = subprocess.Popen(
            [sys.executable, "manage.py", *command, f"127.0.0.1:{port}"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(port)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=60)


def application_name(who: str) -> str:
    return f"bench-load-{who}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, *, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


if __name__ == "__main__":
    sys.path.insert(0, str(BASE_DIR))
    main()
