"""Browser tests: Playwright for Python driving Debian's Chromium, never a downloaded browser."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.servers import (
    free_port,
    keep_reading,
    read_until,
    start_manage,
    wait_until_no_postgres,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BASE_DIR = Path(__file__).resolve().parents[2]
ARTIFACTS = BASE_DIR / "test-artifacts"

# Playwright's sync API runs an event loop in this thread; the ORM calls that tests
# make between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    # Keep a picture of how each browser test ended, to look at when one fails.
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()


def admin_login(page: Page, base_url: str, *, username: str, password: str) -> None:
    """Log into the Django admin through its login form."""
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


@dataclass(frozen=True)
class DevServer:
    url: str
    password: str
    output: list[str]


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """``manage.py quickstart`` exactly as the README runs it, on a new embedded server
    of its own: DEBUG and the debug toolbar on, a generated admin password."""
    if os.environ.get("DATABASE_URL"):
        pytest.skip("runs quickstart on an embedded server of its own")
    port = free_port()
    pgdata = tmp_path_factory.mktemp("quickstart") / "pgdata"
    hidden = {"DJANGO_SUPERUSER_PASSWORD", "PYTEST_VERSION", "DJANGO_DEBUG"}
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    env |= {
        "EMBEDDED_PGDATA": str(pgdata),
    }
    process = start_manage("quickstart", f"127.0.0.1:{port}", env=env)
    try:
        lines = read_until(process, r"Quit the server with", timeout=180)
        keep_reading(process)  # runserver logs every request: its pipe must not fill
        match = re.search(r"with password: (\S+)", "".join(lines))
        assert match, "".join(lines)
        yield DevServer(url=f"http://127.0.0.1:{port}", password=match.group(1), output=lines)
    finally:
        # Ctrl-C, as a person stops it: the embedded server stops with it.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    assert wait_until_no_postgres(pgdata), "quickstart left its embedded server running"
