"""Read replicas for real (pgvector_admin.replicas): a primary and a hot standby started from
the wheel's binaries (initdb, ``pg_basebackup -R``, streaming replication on loopback),
the app pointed at both (DATABASE_URL, DATABASE_REPLICA_URLS). Searches, the pictures'
points and the changelist read from the standby and say so; an import on the primary
shows on the standby after catch-up; a user reads their own writes; a standby that
stops, even in the middle of a run of searches, is skipped without an error, and is
used again once it is back. Both servers are stopped at the end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import (
    PostgresOnTcp,
    Standby,
    manage,
    postgres_processes,
    primary_and_standby,
    run_python,
)

ADMIN_PASSWORD = "a long admin password for the replica test"

# Run before each script: Django, a logged-in client, and how a page names its server.
PRELUDE = """
import html, json, re, time
import django
django.setup()
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

def logged_in():
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="admin"))
    return client

def answered(page):
    found = re.search(r'class="answered-by">Answered by <strong>(.*?)</strong>\\.(.*?)</p>', page)
    return (html.unescape(found.group(1)), html.unescape(found.group(2))) if found else (None, None)

def search(client, vector="3,1,2", k="4", **more):
    response = client.get("/admin/catalog/item/search/", {"vector": vector, "k": k, **more})
    page = response.content.decode()
    server, passed_over = answered(page)
    return {"status": response.status_code, "server": server, "passed_over": passed_over,
            "html": page}
"""


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[PostgresOnTcp, Standby]]:
    with primary_and_standby("vector-catalog-replicas-") as (primary, standby):
        yield primary, standby
    assert postgres_processes(primary.pgdata) == []
    assert postgres_processes(standby.pgdata) == []


@pytest.fixture(scope="module")
def app_env(servers: tuple[PostgresOnTcp, Standby]) -> dict[str, str]:
    """A deployment with one replica, migrated, with the seed's vectors and an admin."""
    primary, standby = servers
    hidden = {"PYTEST_VERSION", "DJANGO_DEBUG", "EMBEDDED_PGDATA"}
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    env |= {
        "DATABASE_URL": primary.url,
        "DATABASE_REPLICA_URLS": standby.url,
        "DJANGO_SECRET_KEY": "test-only-" + "r" * 50,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
    }
    result = manage(env, "quickstart", "--no-serve")
    assert result.returncode == 0, result.stderr[-3000:]
    standby.wait_for_rows("catalog_item", 27)
    return env


def standby_sql(standby: Standby, statement: str) -> list:
    return standby.superuser_sql(standby.primary.database, statement)


def script(env: dict[str, str], code: str) -> dict:
    """Run ``code`` after the prelude in a process of the app; its last line, as JSON."""
    result = run_python(env, PRELUDE + textwrap.dedent(code))
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_searches_the_pictures_and_the_changelist_read_from_the_standby(
    app_env: dict[str, str], servers: tuple[PostgresOnTcp, Standby]
) -> None:
    _, standby = servers
    found = script(
        app_env,
        """
        client = logged_in()
        with CaptureQueriesContext(connections["replica_1"]) as on_replica:
            with CaptureQueriesContext(connections["default"]) as on_primary:
                page = search(client)
        # Read now: the next request clears the connections' query logs.
        on_replica = [q["sql"] for q in on_replica.captured_queries]
        on_primary = [q["sql"] for q in on_primary.captured_queries]
        points = client.get("/admin/catalog/item/search/points/", {"vector": "3,1,2", "k": "4"})
        with CaptureQueriesContext(connections["replica_1"]) as listed:
            changelist = client.get("/admin/catalog/item/")
        print(json.dumps({
            "page": {key: value for key, value in page.items() if key != "html"},
            "first": "seed 3-1-2" in page["html"],
            "replica_vector_queries": sum("<=>" in sql for sql in on_replica),
            "primary_vector_queries": sum("<=>" in sql for sql in on_primary),
            "points": points.status_code,
            "sample": len(points.json()["sample"]["ids"]),
            "points_read_from": points.json()["read_from"],
            "changelist": changelist.status_code,
            "changelist_on_replica": sum(
                "catalog_item" in q["sql"] for q in listed.captured_queries
            ),
        }))
        """,
    )
    assert found["page"]["status"] == 200
    assert found["page"]["server"].startswith(
        f"replica_1 (127.0.0.1:{standby.port}), a standby (pg_is_in_recovery() = true), "
    )
    assert "behind the primary" in found["page"]["server"]
    assert found["first"]
    # The search and its plan: both on the standby.
    assert found["replica_vector_queries"] >= 2, found
    assert found["primary_vector_queries"] == 0
    assert found["points"] == 200
    assert found["sample"] == 27 - 4
    assert found["points_read_from"] == "replica_1"
    assert found["changelist"] == 200
    assert found["changelist_on_replica"] >= 1


def test_the_toolbar_panel_names_the_standby_that_ran_each_vector_query(
    app_env: dict[str, str], servers: tuple[PostgresOnTcp, Standby]
) -> None:
    _, standby = servers
    found = script(
        app_env,
        """
        from django.test import override_settings
        from tests.test_panels import TOOLBAR_SETTINGS, panel_text
        with override_settings(**TOOLBAR_SETTINGS):
            client = logged_in()
            response = client.get("/admin/catalog/item/search/", {"vector": "3,1,2", "k": "4"})
            text = panel_text(client, response)
        servers = re.findall(r'class="djdt-vector-server"><strong>Server:</strong> (.*?)</p>', text)
        print(json.dumps({"servers": [html.unescape(server) for server in servers],
                          "verdict": "uses index item_embedding_hnsw_idx" in text}))
        """,
    )
    # The search, on the standby, with its lag.
    assert len(found["servers"]) >= 1
    assert all(
        server.startswith(f"replica_1 (127.0.0.1:{standby.port}), a standby")
        for server in found["servers"]
    )
    assert all("behind the primary" in server for server in found["servers"])
    assert found["verdict"]


def test_an_import_on_the_primary_is_searched_on_the_standby_after_catch_up(
    app_env: dict[str, str], servers: tuple[PostgresOnTcp, Standby], tmp_path: Path
) -> None:
    _, standby = servers
    rows = tmp_path / "new.csv"
    rows.write_text("embedding,label\n" + "".join(f'"[9,{n},1]",new {n}\n' for n in range(1, 6)))
    result = manage(app_env, "import_vectors", "--model", "catalog.Item", str(rows))
    assert result.returncode == 0, result.stderr[-3000:]
    standby.wait_for_rows("catalog_item", 27 + 5)
    found = script(
        app_env,
        """
        page = search(logged_in(), vector="9,3,1", k="1")
        print(json.dumps({"server": page["server"], "new": "new 3" in page["html"]}))
        """,
    )
    assert found["server"].startswith("replica_1")
    assert found["new"]


def test_a_user_reads_their_own_writes_and_a_lagging_standby_is_passed_over(
    app_env: dict[str, str], servers: tuple[PostgresOnTcp, Standby]
) -> None:
    _, standby = servers
    before = script(app_env, 'print(json.dumps({"server": search(logged_in())["server"]}))')
    assert before["server"].startswith("replica_1")
    standby_sql(standby, "SELECT pg_wal_replay_pause()")
    try:
        found = script(
            app_env,
            """
            from catalog.models import Item
            writer, reader = logged_in(), logged_in()
            doomed = Item.objects.using("default").get(label="seed 3-1-2")
            # The admin's own delete action: a POST, a write on the primary.
            deleted = writer.post("/admin/catalog/item/", {
                "action": "delete_selected", "_selected_action": [doomed.pk], "post": "yes",
            })
            after = search(writer)
            stale = search(reader)
            print(json.dumps({
                "deleted": deleted.status_code,
                "after": [after["server"], after["passed_over"], "seed 3-1-2" in after["html"]],
                "stale": [stale["server"], "seed 3-1-2" in stale["html"]],
            }))
            """,
        )
        time.sleep(2.5)  # replay is paused: the standby falls further behind
        late = script(
            {**app_env, "DATABASE_REPLICA_MAX_LAG": "2"},
            """
            page = search(logged_in())
            print(json.dumps({"server": page["server"], "passed_over": page["passed_over"]}))
            """,
        )
    finally:
        standby_sql(standby, "SELECT pg_wal_replay_resume()")
    assert found["deleted"] == 302
    server, passed_over, still_there = found["after"]
    # The writer's next page reads from the primary: the standby has not replayed the
    # delete, and the deleted row is gone from the answer.
    assert server.startswith("the primary, default")
    assert "replica_1: has not yet replayed this session's last write" in passed_over
    assert not still_there
    # Another user may read from the standby, a little behind: the row is still there.
    stale_server, stale_row = found["stale"]
    assert stale_server.startswith("replica_1")
    assert stale_row
    # Once it is further behind than DATABASE_REPLICA_MAX_LAG, nobody reads from it.
    assert late["server"].startswith("the primary")
    assert "s behind the primary (at most 2)" in late["passed_over"]
    standby.wait_for_rows("catalog_item", 27 + 5 - 1)
    again = script(app_env, 'print(json.dumps({"server": search(logged_in())["server"]}))')
    assert again["server"].startswith("replica_1")


def test_a_standby_stopped_in_the_middle_of_a_run_is_skipped_then_used_again(
    app_env: dict[str, str], servers: tuple[PostgresOnTcp, Standby], tmp_path: Path
) -> None:
    _, standby = servers
    restarted = tmp_path / "restarted"
    code = PRELUDE + textwrap.dedent(
        f"""
        import os
        client = logged_in()
        for number in range(40):
            page = search(client, vector=f"3,1,{{1 + number % 3}}")
            print(json.dumps({{"status": page["status"], "server": page["server"],
                               "passed_over": page["passed_over"]}}), flush=True)
            time.sleep(0.1)
        while not os.path.exists({str(restarted)!r}):
            time.sleep(0.1)
        # The same process, so the same memory of the failure: once DOWN_SECONDS have
        # passed, the standby is tried again and used.
        deadline = time.monotonic() + 30
        while True:
            page = search(client)
            if page["server"].startswith("replica_1") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        print(json.dumps({{"status": page["status"], "server": page["server"]}}), flush=True)
        """
    )
    run = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],
        env={**app_env, "DJANGO_SETTINGS_MODULE": "project.settings"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert run.stdout is not None
        seen = [json.loads(run.stdout.readline()) for _ in range(8)]
        standby.stop()  # while the run goes on
        seen += [json.loads(run.stdout.readline()) for _ in range(32)]
        standby.start()
        restarted.touch()
        back = json.loads(run.stdout.readline())
        assert run.wait(timeout=120) == 0, run.stderr.read() if run.stderr else ""
    finally:
        if run.poll() is None:
            run.kill()
        if not postgres_processes(standby.pgdata):
            standby.start()
    assert all(page["status"] == 200 for page in seen)  # no 500, not one
    assert all(page["server"].startswith("replica_1") for page in seen[:8])
    # Once it is down, the primary answers and the page says why.
    assert all(page["server"].startswith("the primary") for page in seen[-20:])
    assert all("replica_1:" in page["passed_over"] for page in seen[-20:])
    assert back == {"status": 200, "server": back["server"]}
    assert back["server"].startswith("replica_1")
