"""Search throughput with the primary alone and with a streaming read replica, on this
machine:

    uv run python bench/replicas.py [--rows 200000] [--workers 4] [--seconds 10]

Starts a primary and a hot standby from the wheel's binaries (as tests/test_replicas.py
does: initdb, pg_basebackup -R, streaming replication on loopback), loads ``--rows``
random 3-d vectors into the seed's Item table on the primary with the app's importer
(COPY, then the HNSW index), waits for the standby to replay them, then runs
``--workers`` processes of the app, each calling ``pgvector_admin.search.searches.nearest`` (k=10,
cosine, through the index) in a loop for ``--seconds``, three ways:

  primary alone     DATABASE_REPLICA_URLS unset: every search on the primary
  the router        with the replica: each search chosen as a page chooses it
                    (pgvector_admin.replicas.choose: a check of the standby, then the search)
  half each         searches alternate between the two servers (capacity of both)

Both servers and every worker share this machine's cores, so a replica cannot add
capacity here: the figures show its cost, not the gain on separate machines. Both
servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from tests.servers import manage, primary_and_standby  # noqa: E402

WORKER = """
import json, os, random, sys, time
import django
django.setup()
from pgvector_admin.vectors.metrics import COSINE
from catalog.models import Item
from pgvector_admin.replicas import choose, reading
from pgvector_admin.search.searches import nearest
from pgvector_admin.vectors.fields import vector_columns

mode, seconds = sys.argv[1], float(sys.argv[2])
column = vector_columns(Item)[0]
rng = random.Random(os.getpid())
done, turn = 0, 0
deadline = time.perf_counter() + seconds
while time.perf_counter() < deadline:
    vector = [rng.uniform(-1, 1) for _ in range(3)]
    if mode == "router":
        alias = choose().alias
    elif mode == "half":
        alias = ("default", "replica_1")[turn % 2]
        turn += 1
    else:
        alias = "default"
    with reading(alias):
        assert len(nearest(column=column, vector=vector, k=10, metric=COSINE).neighbours) == 10
    done += 1
print(json.dumps({"searches": done, "seconds": seconds}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with primary_and_standby("vector-catalog-bench-replicas-") as (primary, standby):
        base = {k: v for k, v in os.environ.items() if k not in {"DJANGO_DEBUG", "EMBEDDED_PGDATA"}}
        base |= {
            "DATABASE_URL": primary.url,
            "DJANGO_SECRET_KEY": "bench-only-" + "b" * 50,
            "DJANGO_SECURE_SSL_REDIRECT": "0",
        }
        with_replica = base | {"DATABASE_REPLICA_URLS": standby.url}
        result = manage(base, "migrate", "-v", "0")
        assert result.returncode == 0, result.stderr[-2000:]
        load(base, primary.pgdata.parent, args.rows)
        started = time.perf_counter()
        standby.wait_for_rows("catalog_item", args.rows, timeout=600)
        print(f"standby caught up {time.perf_counter() - started:.1f} s after the import")
        print(
            f"\n| {args.workers} workers x {args.seconds:g} s, {args.rows:,} 3-d rows, k=10 | "
            "searches/s | vs primary alone |\n| --- | ---: | ---: |"
        )
        alone = None
        for mode, env, label in (
            ("primary", base, "primary alone"),
            ("router", with_replica, "with the replica, as the pages choose"),
            ("half", with_replica, "half on each server"),
        ):
            rate = throughput(env, mode, args.workers, args.seconds)
            alone = alone or rate
            print(f"| {label} | {rate:,.0f} | {rate / alone:.2f}x |", flush=True)
        replayed = standby.superuser_sql(
            "postgres", "SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
        )
        print(f"\nstandby replayed all it received at the end: {replayed[0][0]}")


def load(env: dict[str, str], folder: Path, rows: int) -> None:
    """``rows`` random 3-d vectors through the app's importer (COPY, then the index)."""
    rng = random.Random(5)
    path = folder / "rows.csv"
    with path.open("w") as out:
        out.write("embedding,label\n")
        for number in range(rows):
            x, y, z = (rng.uniform(-1, 1) for _ in range(3))
            out.write(f'"[{x:.6f},{y:.6f},{z:.6f}]",row {number}\n')
    started = time.perf_counter()
    result = manage(env, "import_vectors", "--model", "catalog.Item", "--replace", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    print(f"imported {rows:,} rows on the primary in {time.perf_counter() - started:.1f} s")


def throughput(env: dict[str, str], mode: str, workers: int, seconds: float) -> float:
    """Searches a second, all ``workers`` processes together."""
    code = textwrap.dedent(WORKER)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, mode, str(seconds)],
            cwd=BASE_DIR,
            env={**env, "DJANGO_SETTINGS_MODULE": "project.settings"},
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    total = 0
    for process in processes:
        out, _ = process.communicate(timeout=seconds + 120)
        assert process.returncode == 0, out
        total += json.loads(out.strip().splitlines()[-1])["searches"]
    return total / seconds


if __name__ == "__main__":
    main()
