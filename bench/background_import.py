"""The admin's import through the task queue against ``import_vectors --replace``, in
the same run, on the same file:

    uv run python bench/background_import.py [--rows 1000000] [--rounds 3]

Admin path: upload (POST to the import page, through Django's request handling) ->
the worker checks the file (the preview of a file over
VECTOR_IMPORT_PREVIEW_MAX_BYTES) -> confirm (POST) -> the worker imports it,
replacing the table's rows. A ``manage.py db_worker`` process runs beside, on the
benchmark database. Command path: ``import_vectors FILE --replace``, in process.
Rounds alternate the two; prints each round, then the medians and their ratio, and
how long the confirm request itself took.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from common import BASE_DIR, setup_django
from imports import write_csv


def database_url(params: dict) -> str:
    host = urllib.parse.quote(str(params.get("host") or "localhost"), safe="")
    user = urllib.parse.quote(str(params.get("user") or ""), safe="")
    password = urllib.parse.quote(str(params.get("password") or ""), safe="")
    return f"postgres://{user}:{password}@{host}:{params.get('port') or 5432}/{params['dbname']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    setup_django()
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from catalog.models import Item
    from pgvector_admin.models import TaskProgress

    folder = Path(tempfile.mkdtemp(prefix="vector-bench-"))
    data = folder / "vectors.csv"
    write_csv(data, args.rows, seed=7)
    print(f"{args.rows:,} rows, {data.stat().st_size / 1e6:,.1f} MB", flush=True)

    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(SERVER_NAME="localhost")
    client.force_login(admin)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.get_connection_params()),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PYTEST_VERSION", None)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.1"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def wait(progress: TaskProgress, phase: str) -> None:
        while True:
            progress.refresh_from_db()
            if progress.phase == phase:
                return
            if progress.phase in {"failed", "refused", "cancelled"}:
                raise SystemExit(f"{progress.title}: {progress.phase} {progress.report}")
            time.sleep(0.05)

    def through_the_admin() -> tuple[float, float, float]:
        """Total seconds, the upload request's and the confirm request's."""
        started = time.perf_counter()
        with open(data, "rb") as upload:
            response = client.post(
                "/admin/catalog/item/import/",
                {
                    "format": "0",
                    "resource": "0",
                    "replace": "on",
                    "import_file": SimpleUploadedFile("vectors.csv", upload.read()),
                },
            )
        uploaded = time.perf_counter() - started
        assert response.status_code == 302, response.status_code
        check = TaskProgress.objects.latest("created")
        wait(check, "checked")
        confirm_started = time.perf_counter()
        response = client.post(f"/admin/pgvector_admin/taskprogress/{check.pk}/import/")
        confirm = time.perf_counter() - confirm_started
        assert response.status_code == 302, response.status_code
        imported = TaskProgress.objects.filter(kind="import").latest("created")
        wait(imported, "done")
        total = time.perf_counter() - started
        assert Item.objects.count() == args.rows
        return total, uploaded, confirm

    def the_command() -> float:
        started = time.perf_counter()
        call_command(
            "import_vectors",
            "--model",
            "catalog.Item",
            str(data),
            "--replace",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
        assert Item.objects.count() == args.rows
        return time.perf_counter() - started

    admin_totals, commands, uploads, confirms = [], [], [], []
    try:
        for number in range(1, args.rounds + 1):
            command = the_command()
            total, uploaded, confirm = through_the_admin()
            commands.append(command)
            admin_totals.append(total)
            uploads.append(uploaded)
            confirms.append(confirm)
            print(
                f"round {number}: command {command:.1f} s; admin {total:.1f} s "
                f"(upload request {uploaded:.2f} s, confirm request {confirm:.3f} s)",
                flush=True,
            )
    finally:
        worker.terminate()
        worker.wait(timeout=60)

    command, admin_total = statistics.median(commands), statistics.median(admin_totals)
    print(f"\n| {args.rows:,} rows, medians of {args.rounds} | seconds |\n| --- | ---: |")
    print(f"| `import_vectors --replace` | {command:.1f} |")
    print(
        f"| admin: upload -> check -> confirm -> done | {admin_total:.1f} "
        f"({admin_total / command:.2f}x the command) |"
    )
    print(f"| the upload request | {statistics.median(uploads):.2f} |")
    print(f"| the confirm request | {statistics.median(confirms):.3f} |")


if __name__ == "__main__":
    main()
