"""DATABASE_URL for real: the app against a second PostgreSQL started from the wheel's
binaries, listening on loopback TCP with password authentication, as a role that is not
a superuser (the extension created for it, as a managed service does). Served by
``manage.py serve`` (gunicorn, DEBUG off), as in production."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import (
    HttpSession,
    PostgresOnTcp,
    free_port,
    manage,
    postgres_processes,
    read_until,
    run_python,
    start_manage,
)

SEED_TOP4_DISTANCES = [0.0, 0.0180194939380343, 0.0189770568240547, 0.0200421129877772]
ADMIN_PASSWORD = "a long admin password for the test"


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresOnTcp]:
    # Not under pytest's own temporary folder: each pytest run makes that one private
    # to its user again (mode 700), which would lock the server's own user out of its
    # data while another run starts.
    folder = Path(tempfile.mkdtemp(prefix="vector-catalog-postgres-"))
    postgres = PostgresOnTcp(folder / "pgdata")
    postgres.init()
    try:
        yield postgres
    finally:
        if postgres_processes(postgres.pgdata):
            postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
    assert postgres_processes(postgres.pgdata) == []


@pytest.fixture(scope="module")
def app_env(server: PostgresOnTcp) -> dict[str, str]:
    """The environment of a production deployment pointed at ``server``."""
    hidden = {"PYTEST_VERSION", "DJANGO_DEBUG", "EMBEDDED_PGDATA"}
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    return env | {
        "DATABASE_URL": server.url,
        "DJANGO_SECRET_KEY": "test-only-" + "k" * 50,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
    }


@pytest.fixture(scope="module")
def prepared(app_env: dict[str, str]) -> dict[str, str]:
    """Migrations, the admin user and the seed's 27 vectors, as a non-superuser."""
    result = manage(app_env, "quickstart", "--no-serve")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Loaded 27 example vectors" in result.stdout
    return app_env


@pytest.fixture(scope="module")
def served(prepared: dict[str, str]) -> Iterator[int]:
    """``manage.py serve`` with two gunicorn workers; stopped with SIGTERM at the end."""
    port = free_port()
    process = start_manage("serve", f"127.0.0.1:{port}", "--workers", "2", env=prepared)
    try:
        read_until(process, r"Booting worker", timeout=120)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0


def test_the_role_is_not_a_superuser_and_connects_with_a_password(
    server: PostgresOnTcp, prepared: dict[str, str]
) -> None:
    result = run_python(
        prepared,
        """
        import django
        django.setup()
        from django.db import connection
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            print(cursor.fetchone()[0], connection.settings_dict["HOST"])
        """,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["False", "127.0.0.1"]


def test_the_seed_worked_example_through_database_url(prepared: dict[str, str]) -> None:
    result = run_python(
        prepared,
        """
        import json, django
        django.setup()
        from pgvector.django import CosineDistance
        from catalog.models import Item
        query = Item.objects.annotate(
            distance=CosineDistance("embedding", [3, 1, 2])
        ).order_by("distance")[:4]
        print(json.dumps({
            "distances": [row.distance for row in query],
            "plan": query.explain(),
        }))
        """,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout)
    assert answer["distances"] == pytest.approx(SEED_TOP4_DISTANCES, abs=1e-12)
    assert "Index Scan using item_embedding_hnsw_idx" in answer["plan"]


def test_a_csv_import_through_database_url(prepared: dict[str, str], tmp_path: Path) -> None:
    upload = tmp_path / "more.csv"
    upload.write_text('label,embedding\nimported one,"[9,9,1]"\nimported two,"[1,9,9]"\n')
    result = manage(prepared, "import_vectors", "--model", "catalog.Item", str(upload))
    assert result.returncode == 0, result.stderr[-3000:]
    count = run_python(
        prepared,
        """
        import django
        django.setup()
        from catalog.models import Item
        print(Item.objects.filter(label__startswith="imported").count())
        """,
    )
    assert count.stdout.strip() == "2", count.stderr[-3000:]


def test_the_production_server_serves_search_pages_and_static_files(served: int) -> None:
    session = HttpSession(served)
    session.log_in("admin", ADMIN_PASSWORD)
    status, page = session.get("/admin/catalog/item/search/?vector=3,1,2&k=4&metric=cosine")
    assert status == 200
    assert b'class="similar-row"' in page
    status, table = session.get("/admin/catalog/item/search/?vector=3,1,2&k=4&format=csv")
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(table.decode())))
    distances = [float(row["cosine_distance"]) for row in rows]
    assert distances == pytest.approx(SEED_TOP4_DISTANCES, abs=1e-12)
    status, css = session.get("/static/admin/css/base.css")
    assert status == 200
    assert b"body" in css


def test_a_restart_of_the_database_is_a_503_then_a_200_without_restarting_the_app(
    server: PostgresOnTcp, served: int
) -> None:
    session = HttpSession(served)
    session.log_in("admin", ADMIN_PASSWORD)
    page = "/admin/catalog/item/search/?vector=3,1,2&k=4"
    assert session.get(page)[0] == 200
    server.stop()
    try:
        # Both workers: each finds its pooled connections dead.
        for _ in range(4):
            status, body = session.get(page)
            assert status == 503
            assert b"The database is not reachable" in body
    finally:
        server.start()
    for _ in range(4):
        assert session.get(page)[0] == 200
