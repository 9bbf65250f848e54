from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from catalog.services import load_seed_items
from tests.e2e.conftest import admin_login


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_until(process: subprocess.Popen[str], pattern: str, *, timeout: float) -> list[str]:
    """Read the process's output lines until one matches ``pattern``."""
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(lines)}")


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="runs quickstart on its own embedded server"
)
def test_quickstart_serves_the_admin_with_the_27_seed_items(page: Page, tmp_path: Path) -> None:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SUPERUSER_PASSWORD", "PYTEST_VERSION"}
    }
    env |= {"EMBEDDED_PGDATA": str(tmp_path / "pgdata"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "quickstart", f"127.0.0.1:{port}"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = read_until(process, r"Quit the server with", timeout=180)
        password = re.search(r"with password: (\S+)", "".join(lines)).group(1)
        base_url = f"http://127.0.0.1:{port}"
        admin_login(page, base_url, username="admin", password=password)
        page.goto(f"{base_url}/admin/catalog/item/")
        expect(page.locator("#result_list tbody tr")).to_have_count(27)
        expect(page.locator("#result_list")).to_contain_text("seed 3-1-2")
        expect(page.locator("#result_list")).to_contain_text("[3, 1, 2]")
        # quickstart serves with DEBUG on: the debug toolbar is on the page.
        expect(page.locator("#djDebug")).to_be_attached()
    finally:
        # Ctrl-C, as a person would stop it: the embedded server stops with it.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.django_db(transaction=True)
def test_admin_changelist_lists_the_items(page: Page, live_server, admin_user) -> None:
    load_seed_items()
    admin_login(page, live_server.url, username="admin", password="password")
    page.click("text=Items")
    expect(page).to_have_url(re.compile(r"/admin/catalog/item/$"))
    expect(page.locator("#result_list tbody tr")).to_have_count(27)
    expect(page.locator(".paginator")).to_contain_text("27 items")
