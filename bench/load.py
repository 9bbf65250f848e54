"""A bounded load run on loopback: concurrent clients against the search and similar
pages of a running server, for a fixed time, at 100,000 rows.

    uv run python bench/load.py [--rows 100000] [--clients 8] [--seconds 60]

Starts `manage.py runserver` (DEBUG off, production settings but plain HTTP) on a free
127.0.0.1 port against the benchmark database, logs a staff session in, then each
client thread requests the two pages in turn until the time is up. Prints p50/p99 per
page, requests/s, every error, and the most PostgreSQL connections seen (the pool
bounds them). Only 127.0.0.1 is ever contacted; the run stops by itself.
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

from common import BASE_DIR, BENCH_DATABASE, ensure_rows, setup_django


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    setup_django()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from catalog.models import Item

    ensure_rows(args.rows)
    ids = list(Item.objects.values_list("id", flat=True)[:50_000])
    User.objects.filter(username="load").delete()
    user = User.objects.create_superuser("load", "", "load")
    maker = Client(HTTP_HOST="127.0.0.1")
    maker.force_login(user)
    session = maker.cookies["sessionid"].value

    socket_dir = connection.get_connection_params()["host"]
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_DEBUG", "PYTEST_VERSION", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    host = urllib.parse.quote(socket_dir, safe="")
    env |= {
        "DATABASE_URL": f"postgres://postgres@{host}/{BENCH_DATABASE}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
    }
    log_path = BASE_DIR / "bench" / "load-server.log"
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        # Its request log goes to a file: an unread pipe would fill up and stall it.
        stdout=subprocess.DEVNULL,
        stderr=open(log_path, "w"),  # noqa: SIM115 - closed with the process
    )
    try:
        _wait_for(port)
        results = _run_load(port, session, ids, clients=args.clients, seconds=args.seconds)
        peak_connections = results.pop("peak_connections")
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"\n{args.rows:,} rows, {args.clients} clients, {args.seconds:.0f} s\n")
    print("| page | requests | errors | p50 ms | p99 ms | requests/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for page, (latencies, errors) in results.items():
        ordered = sorted(latencies)
        p99 = ordered[int(0.99 * (len(ordered) - 1))] if ordered else float("nan")
        print(
            f"| {page} | {len(latencies) + len(errors)} | {len(errors)} | "
            f"{statistics.median(ordered):.1f} | {p99:.1f} | {len(latencies) / args.seconds:.1f} |"
        )
        for error in errors[:10]:
            print(f"  error: {error}")
    print(
        f"\nMost PostgreSQL connections to {BENCH_DATABASE} seen during the run: {peak_connections}"
    )


def _wait_for(port: int, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def _run_load(port: int, session: str, ids: list[int], *, clients: int, seconds: float) -> dict:
    from django.db import connection

    results: dict[str, tuple[list[float], list[str]]] = {"search": ([], []), "similar": ([], [])}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)
        while time.monotonic() < stop_at:
            for page in ("search", "similar"):
                if page == "search":
                    vector = ",".join(f"{rng.uniform(-1, 1):.4f}" for _ in range(3))
                    path = f"/admin/catalog/item/search/?vector={vector}&k=10"
                else:
                    path = f"/admin/catalog/item/{rng.choice(ids)}/similar/?k=10"
                started = time.perf_counter()
                error = None
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    conn.request("GET", path, headers={"Cookie": f"sessionid={session}"})
                    response = conn.getresponse()
                    body = response.read()
                    conn.close()
                    if response.status != 200 or b'class="similar-row"' not in body:
                        error = f"{page} {path}: HTTP {response.status}"
                except OSError as exc:
                    error = f"{page} {path}: {exc}"
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies, errors = results[page]
                    (errors.append(error) if error else latencies.append(elapsed))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    peak = 0
    with connection.cursor() as cursor:
        while any(thread.is_alive() for thread in threads):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
            peak = max(peak, cursor.fetchone()[0] - 1)  # not this connection
            time.sleep(0.5)
    for thread in threads:
        thread.join()
    return {**results, "peak_connections": peak}


if __name__ == "__main__":
    main()
