"""The production install, served for real: a virtual environment made with
``uv sync --locked --no-dev`` only (what the Dockerfile runs), ``check --deploy``, then
``manage.py serve`` (gunicorn, DEBUG off). Its pages answer, long query vectors work,
and Chromium opens every page the app adds with no Content-Security-Policy violation."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import BASE_DIR, admin_login
from tests.servers import (
    HttpSession,
    free_port,
    keep_reading,
    read_until,
    wait_until_no_postgres,
)
from tests.test_settings import PRODUCTION_ENV

PASSWORD = "served-admin-password"


@dataclass(frozen=True)
class Served:
    url: str
    port: int
    python: Path
    env: dict[str, str]


def production_python(folder: Path) -> Path:
    """A virtual environment with the locked runtime dependencies only."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is needed to make the production environment (pip install uv)")
    venv = folder / "venv"
    result = subprocess.run(
        [uv, "sync", "--locked", "--no-dev", "--quiet"],
        cwd=BASE_DIR,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return venv / "bin" / "python"


def run(python: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=600
    )


# The data the pages are opened on: the seed's items, a 768-d vector model and a
# 1,536-d halfvec one, and the superuser.
FILL = textwrap.dedent(
    f"""
    import django
    django.setup()
    from django.contrib.auth.models import User
    from catalog.samples import load_seed_items
    import numpy as np
    from tests.vector_models.models import Document, HalfDocument
    load_seed_items()
    User.objects.create_superuser("admin", "", "{PASSWORD}")
    for model, dimensions in ((Document, 768), (HalfDocument, 1536)):
        vectors = np.random.default_rng(1).normal(size=(50, dimensions)).round(4)
        model.objects.bulk_create(
            [model(title=f"row {{i}}", embedding=list(v)) for i, v in enumerate(vectors)]
        )
    """
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("serves on an embedded server of its own")
    folder = tmp_path_factory.mktemp("production")
    python = production_python(folder)
    port = free_port()
    hidden = {
        "PYTEST_VERSION",
        "DJANGO_DEBUG",
        "DJANGO_SECRET_KEY",
        "VIRTUAL_ENV",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    env |= {
        **PRODUCTION_ENV,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SETTINGS_MODULE": "tests.served_settings",
        "EMBEDDED_PGDATA": str(folder / "pgdata"),
        "DJANGO_MEDIA_ROOT": str(folder / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    # As deployed behind TLS (SECURE_SSL_REDIRECT on): not a warning.
    deployed = {**env, "DJANGO_SECURE_SSL_REDIRECT": "1"}
    check = run(python, deployed, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert check.returncode == 0, check.stdout + check.stderr
    migrated = run(python, env, "manage.py", "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    filled = run(python, env, "-c", FILL)
    assert filled.returncode == 0, filled.stderr
    process = subprocess.Popen(
        [str(python), "manage.py", "serve", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        read_until(process, r"Booting worker", timeout=180)
        keep_reading(process)  # gunicorn logs every request: its pipe must not fill
        yield Served(url=f"http://127.0.0.1:{port}", port=port, python=python, env=env)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    assert wait_until_no_postgres(folder / "pgdata")


def session(served: Served) -> HttpSession:
    client = HttpSession(served.port)
    client.log_in("admin", PASSWORD)
    return client


def test_the_production_install_has_no_development_packages(served: Served) -> None:
    for module in ("pytest", "playwright", "hypothesis"):
        found = run(served.python, served.env, "-c", f"import {module}")
        assert found.returncode != 0, f"{module} is installed in the production environment"
    assert run(served.python, served.env, "-c", "import numpy, csp").returncode == 0


def test_search_similar_and_the_pictures_data_answer_under_serve(served: Served) -> None:
    client = session(served)
    status, page = client.get("/admin/catalog/item/search/?vector=3,1,2&k=4")
    assert status == 200, page[:2000]
    assert b"seed 3-1-2" in page
    status, page = client.get("/admin/catalog/item/1/similar/")
    assert status == 200
    status, points = client.get("/admin/catalog/item/1/similar/points/")
    assert status == 200
    assert b'"neighbours"' in points
    status, points = client.get("/admin/catalog/item/map/points/")
    assert status == 200
    assert b'"sample"' in points


def post_search(client: HttpSession, path: str, vector: str) -> tuple[int, str]:
    """Post the search form as the browser does, with the CSRF token of its page."""
    status, page = client.get(path)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    status, _ = client.request(
        "POST", path, {"vector": vector, "k": "5", "csrfmiddlewaretoken": token.group(1).decode()}
    )
    return status, client.last_location


@pytest.mark.parametrize(
    ("model", "dimensions"), [("document", 768), ("halfdocument", 1536)], ids=["768-d", "1536-d"]
)
def test_a_long_query_vector_is_searched_under_serve(served: Served, model, dimensions) -> None:
    client = session(served)
    vector = ",".join(["0.012345"] * dimensions)
    path = f"/admin/vector_models/{model}/search/"
    # In the address it would be refused by gunicorn (414: request line too long)...
    status, _ = client.get(f"{path}?vector={vector}")
    assert status == 414
    # ...posted, it is kept and referred to: the results page loads and reloads.
    status, location = post_search(client, path, vector)
    assert status == 303
    target = urlsplit(location)
    assert "vector_ref=" in target.query
    for _ in range(2):
        status, page = client.get(f"{target.path}?{target.query}")
        assert status == 200
        assert b'id="neighbours"' in page


# Every page the app adds, and the admin's own for a vector model.
PAGES = [
    "/admin/catalog/item/",
    "/admin/catalog/item/search/?vector=3,1,2&k=5",
    "/admin/catalog/item/1/similar/",
    "/admin/catalog/item/1/change/",
    "/admin/catalog/item/map/",
    "/admin/catalog/item/indexes/",
    "/admin/catalog/item/import/",
    "/admin/catalog/item/export/",
    "/admin/pgvector_admin/taskprogress/",
    "/admin/catalog/digit/",
]

WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(
    e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber
  );
});
"""


def test_no_page_breaks_the_content_security_policy(served: Served, page: Page) -> None:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.add_init_script(WATCH_VIOLATIONS)
    response = page.goto(f"{served.url}/admin/login/")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    admin_login(page, served.url, username="admin", password=PASSWORD)

    def visit(path: str) -> None:
        page.goto(served.url + path)
        page.wait_for_load_state("networkidle")
        found = page.evaluate("window.__violations")
        assert found == [], f"{path}: {found}"

    for path in PAGES:
        visit(path)
    # The pictures are drawn (plotly under the policy): search and map.
    page.goto(f"{served.url}/admin/catalog/item/search/?vector=3,1,2&k=5")
    expect(page.locator(".point-cloud")).to_have_attribute("data-drawn", "yes", timeout=30_000)
    page.goto(f"{served.url}/admin/catalog/item/map/")
    expect(page.locator(".point-cloud")).to_have_attribute("data-drawn", "yes", timeout=30_000)
    # The export page's "Select all" works without its inline handler.
    page.goto(f"{served.url}/admin/catalog/item/export/")
    toggle = page.locator(".select-toggle")
    toggle.uncheck()
    assert page.locator(".selectable-field-export-row input[type=checkbox]:checked").count() == 0
    # An import, through its task page (the worker serve started runs it).
    page.goto(f"{served.url}/admin/catalog/item/import/")
    page.set_input_files(
        "#id_import_file",
        files=[
            {"name": "v.csv", "mimeType": "text/csv", "buffer": b'label,embedding\ns,"[1,2,3]"\n'}
        ],
    )
    page.select_option("#id_format", label="csv")
    page.click("input[type=submit]")
    page.get_by_role("button", name="Confirm import").click()
    expect(page.locator(".task-finished")).to_contain_text("Import finished", timeout=60_000)
    task_page = urlsplit(page.url).path
    visit(task_page)
    visit("/admin/pgvector_admin/taskprogress/")
    # The vector search from the changelist, posted.
    page.goto(f"{served.url}/admin/catalog/item/")
    page.fill("#vs_vector", "3,1,2")
    page.click("text=Find nearest")
    expect(page.locator("#neighbours tbody tr").first).to_be_visible()
    assert page.evaluate("window.__violations") == []
    assert refused == []
