"""Every ratio of "as fast as the Django admin itself", in one run: each vector page
against Django's own pages of the same table, the selector against raw SQL, and
throughput under the production server.

    uv run python bench/ratios.py [--quick]

Runs, one after another on the benchmark database (each loads its rows once and keeps
them), and prints each one's table:

  bench/pages.py            1,000,000 3-d rows: every vector page and the histogram's
                            request against Django's change page, with statements
  bench/similar_page.py     similar_to() and the similar page against raw SQL
  bench/high_dimensions.py  100,000 768-d rows: raw SQL, nearest(), the search and
                            similar pages and Django's change page, interleaved
  bench/changelist.py       the changelist at 1,000,000 and 10,000,000 rows against
                            Django's change page and Django's changelist
  bench/load.py             8 clients under gunicorn: search and similar against
                            Django's change page, requests a second

--quick runs fewer requests (for a look, not for docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    few = args.quick
    runs = [
        ["pages.py", "--rows", "1000000", "--requests", "10" if few else "30"],
        ["similar_page.py", "--requests", "50" if few else "200"],
        ["high_dimensions.py", "--types", "vector", "--keep", "--requests", "20" if few else "60"],
        [
            "changelist.py",
            "--rows",
            "1000000",
            "--requests",
            "10" if few else "40",
            "--exact-requests",
            "2" if few else "8",
        ],
        [
            "changelist.py",
            "--rows",
            "10000000",
            "--requests",
            "10" if few else "30",
            "--exact-requests",
            "1" if few else "3",
        ],
        ["load.py", "--rows", "1000000", "--gunicorn-only", "--seconds", "10" if few else "20"],
    ]
    for command in runs:
        print(f"\n### bench/{' '.join(command)}\n", flush=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / command[0]), *command[1:]], check=True)
        print(f"\n({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
