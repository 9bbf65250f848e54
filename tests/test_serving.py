"""``manage.py serve``: gunicorn with several workers, DEBUG off, static files by
WhiteNoise, and nothing left running after SIGTERM or Ctrl-C."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest
from django.conf import settings

from project.serving import default_workers
from tests.servers import (
    HttpSession,
    free_port,
    postgres_processes,
    read_until,
    start_manage,
    wait_until_no_postgres,
)
from tests.test_settings import PRODUCTION_ENV, run


def test_serve_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = run(["manage.py", "serve", "--no-migrate"], env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_serve_refuses_to_start_with_debug_on() -> None:
    result = run(["manage.py", "serve", "--no-migrate"], {**PRODUCTION_ENV, "DJANGO_DEBUG": "1"})
    assert result.returncode != 0
    assert "serve runs with DEBUG off" in result.stderr


def test_serve_refuses_a_bad_address_or_worker_count() -> None:
    result = run(["manage.py", "serve", "nowhere"], PRODUCTION_ENV)
    assert "not an address and port" in result.stderr
    result = run(["manage.py", "serve", "--workers", "0"], PRODUCTION_ENV)
    assert "--workers must be at least 1" in result.stderr
    result = run(["manage.py", "serve"], {**PRODUCTION_ENV, "WEB_CONCURRENCY": "many"})
    assert "WEB_CONCURRENCY must be a number of worker processes, not 'many'" in result.stderr


def test_workers_come_from_web_concurrency_else_two_per_core_plus_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert default_workers() == 3
    monkeypatch.delenv("WEB_CONCURRENCY")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert default_workers() == 5


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="an embedded server of its own")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_serve_on_the_embedded_server_then_stop_leaves_nothing_running(
    tmp_path: Path, stop: signal.Signals
) -> None:
    pgdata = tmp_path / "pgdata"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DJANGO_DEBUG"}}
    env |= {
        **PRODUCTION_ENV,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "EMBEDDED_PGDATA": str(pgdata),
    }
    process = start_manage("serve", f"127.0.0.1:{port}", "--workers", "3", env=env)
    try:
        lines = read_until(process, r"Booting worker", timeout=180)
        assert "with 3 gunicorn worker processes and 1 task worker, DEBUG off" in "".join(lines)
        workers = psutil.Process(process.pid).children()
        assert any("db_worker" in " ".join(worker.cmdline()) for worker in workers)
        assert postgres_processes(pgdata)
        client = HttpSession(port)
        status, login = client.get("/admin/login/")
        assert status == 200
        assert b'name="csrfmiddlewaretoken"' in login
        status, css = client.get("/static/pgvector_admin/pgvector_admin.css")
        assert status == 200
        assert (
            css
            == (
                settings.BASE_DIR / "pgvector_admin/static/pgvector_admin/pgvector_admin.css"
            ).read_bytes()
        )
        process.send_signal(stop)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert wait_until_no_postgres(pgdata)
    assert not any(worker.is_running() for worker in workers)
