"""The embedded PostgreSQL + pgvector server used when DATABASE_URL is unset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from project.embedded import TUNING

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="DATABASE_URL selects another server"
)

BASE_DIR = Path(settings.BASE_DIR)


def run_python(code: str, *, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.django_db
def test_tests_run_on_the_embedded_server_with_vector_tuning() -> None:
    assert settings.DATABASES["default"]["ENGINE"] == "project.embedded_postgres"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int / 10000")
        assert cursor.fetchone() == (18,)
        for name in ("maintenance_work_mem", "shared_buffers", "max_wal_size"):
            cursor.execute(f"SHOW {name}")
            assert cursor.fetchone() == (TUNING[name],)


@pytest.mark.django_db
def test_several_processes_share_the_running_server_at_once() -> None:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'project.settings'; "
        "django.setup(); from django.db import connection; "
        "cursor = connection.cursor(); cursor.execute('SELECT pg_postmaster_start_time()'); "
        "print(cursor.fetchone()[0].isoformat())"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_postmaster_start_time()")
        ours = cursor.fetchone()[0].isoformat()
    processes = [run_python(code) for _ in range(3)]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    assert {out.strip() for out, _ in outputs} == {ours}
    # They have exited; the server they shared with this process is still up.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_postmaster_start_time()")
        assert cursor.fetchone()[0].isoformat() == ours


def test_a_new_data_folder_is_created_and_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    code = (
        "import sys, psycopg; from pathlib import Path; "
        "from project.embedded import ensure_server; "
        "host = ensure_server(Path(sys.argv[1]), database='kept'); "
        "conn = psycopg.connect(host=host, user='postgres', dbname='kept', autocommit=True); "
        "conn.execute('CREATE EXTENSION IF NOT EXISTS vector'); "
        "conn.execute('CREATE TABLE IF NOT EXISTS t (v vector(3))'); "
        "conn.execute(\"INSERT INTO t VALUES ('[1,2,3]')\"); "
        "print(conn.execute('SELECT count(*) FROM t').fetchone()[0]); conn.close()"
    )
    counts = []
    for _ in range(2):
        process = subprocess.run(
            [sys.executable, "-c", code, str(pgdata)],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert process.returncode == 0, process.stderr
        counts.append(int(process.stdout.strip()))
        # The last process using the server stops it on exit.
        assert not (pgdata / "postmaster.pid").exists()
    assert counts == [1, 2]
