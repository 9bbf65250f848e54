"""The package as a Django developer gets it: the wheel built by ``uv build``, installed
into a fresh virtual environment holding nothing else of this repository (with every
extra, and with none), in a project made by ``django-admin startproject`` with a model
of vector and halfvec fields, migrated on a real PostgreSQL, then used in Chromium:
search, find similar, an import run by the task worker, the index page and the map.
The README's "Installation" steps are exactly what this test does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from playwright.sync_api import Page, expect
from psycopg import sql

from tests.e2e.conftest import admin_login
from tests.servers import free_port, keep_reading, read_until

BASE_DIR = Path(__file__).resolve().parents[2]

MODELS = """
from django.db import models
from pgvector.django import HalfVectorField, HnswIndex, VectorField


class Document(models.Model):
    title = models.CharField(max_length=200)
    embedding = VectorField(dimensions=3)
    summary = HalfVectorField(dimensions=4, null=True, blank=True)

    class Meta:
        indexes = [
            HnswIndex(
                name="document_embedding_idx",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            )
        ]

    def __str__(self):
        return self.title
"""

ADMIN = """
from django.contrib import admin

from pgvector_admin.admin import VectorModelAdmin

from .models import Document


@admin.register(Document)
class DocumentAdmin(VectorModelAdmin):
    list_display = ["id", "title"]
    search_fields = ["title"]
"""

VECTOR_MIGRATION = """
from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    operations = [VectorExtension()]
"""

SETTINGS = """

# django-pgvector-admin, as its README installs it.
INSTALLED_APPS += ["django.contrib.postgres", "pgvector_admin", "shop"]
if {extras!r}:
    import django

    INSTALLED_APPS += ["import_export", "django_tasks_db"]
    if django.VERSION < (6, 0):  # the backport of Django 6's tasks API
        INSTALLED_APPS += ["django_tasks"]
    TASKS = {{"default": {{"BACKEND": "django_tasks_db.DatabaseBackend"}}}}
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": {name!r},
        "HOST": {host!r},
        "PORT": {port!r},
        "USER": {user!r},
        "PASSWORD": {password!r},
    }}
}}
"""

ROWS = """
from django.contrib.auth.models import User
from shop.models import Document

Document.objects.bulk_create(
    [
        Document(
            title=f"doc {i}", embedding=[i % 5 + 1, i % 7 + 1, i % 3 + 1], summary=[1, i, 2, 3]
        )
        for i in range(40)
    ]
)
User.objects.create_superuser("me", "", "a password of mine")
"""


def run(python: Path, args: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        ["uv", "build", "--wheel", "--out-dir", str(out)],
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
    )
    return next(out.glob("*.whl"))


def test_the_wheel_holds_the_package_and_nothing_of_the_demo(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {
        "pgvector_admin",
        wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info",
    }
    for forbidden in ("catalog/", "project/", "tests/", "bench/", "manage.py"):
        assert not any(name.startswith(forbidden) for name in names), forbidden
    assert "pgvector_admin/py.typed" in names
    assert "pgvector_admin/migrations/0001_initial.py" in names
    assert "pgvector_admin/templates/pgvector_admin/neighbours.html" in names
    assert "pgvector_admin/static/pgvector_admin/point_cloud.js" in names
    # The Korean catalogue, compiled: Django reads the .mo.
    assert "pgvector_admin/locale/ko/LC_MESSAGES/django.mo" in names
    metadata = (
        zipfile.ZipFile(wheel)
        .read(next(name for name in names if name.endswith("METADATA")))
        .decode()
    )
    assert "Name: django-pgvector-admin" in metadata
    assert "Provides-Extra: imports" in metadata
    assert "Classifier: Framework :: Django :: 6.1" in metadata


def virtual_env(root: Path, wheel: Path, extras: str) -> Path:
    """A fresh venv with the wheel (and ``extras``) installed from PyPI's packages."""
    venv = root / "venv"
    subprocess.run(
        ["uv", "venv", "--quiet", "--python", sys.executable, str(venv)],
        check=True,
        capture_output=True,
    )
    python = venv / "bin" / "python"
    spec = f"django-pgvector-admin[{extras}] @ {wheel.as_uri()}" if extras else str(wheel)
    subprocess.run(
        ["uv", "pip", "install", "--quiet", "--python", str(python), spec, "psycopg[binary]"],
        check=True,
        capture_output=True,
    )
    return python


@pytest.fixture
def database(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """A database of its own on the tests' server, dropped afterwards."""
    name = f"wheel_{request.node.callspec.id.replace('-', '_')}"
    params = connection.get_connection_params()
    admin = {key: params[key] for key in ("host", "port", "user", "password") if params.get(key)}
    with psycopg.connect(**admin, dbname="postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield {"name": name, **{key: str(value) for key, value in admin.items()}}
    with psycopg.connect(**admin, dbname="postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def new_project(
    root: Path, python: Path, database: dict[str, str], *, extras: bool
) -> tuple[Path, dict[str, str]]:
    """``startproject`` + an app with a vector model, set up as the README says, migrated."""
    hidden = {
        "DJANGO_SETTINGS_MODULE",
        "DATABASE_URL",
        "PYTEST_VERSION",
        "PYTHONPATH",
        "VIRTUAL_ENV",
    }
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    site = root / "site"
    site.mkdir()
    run(python, ["-m", "django", "startproject", "mysite", str(site)], root, env)
    run(python, ["manage.py", "startapp", "shop"], site, env)
    (site / "shop" / "models.py").write_text(textwrap.dedent(MODELS))
    (site / "shop" / "admin.py").write_text(textwrap.dedent(ADMIN))
    with open(site / "mysite" / "settings.py", "a") as conf:
        conf.write(
            SETTINGS.format(
                extras=extras,
                name=database["name"],
                host=database.get("host", ""),
                port=database.get("port", ""),
                user=database.get("user", ""),
                password=database.get("password", ""),
            )
        )
    # The extension in a migration of its own, first (pgvector's docs, the README).
    run(python, ["manage.py", "makemigrations", "shop", "--empty", "--name", "vector"], site, env)
    (site / "shop" / "migrations" / "0001_vector.py").write_text(textwrap.dedent(VECTOR_MIGRATION))
    run(python, ["manage.py", "makemigrations", "shop"], site, env)
    run(python, ["manage.py", "migrate"], site, env)
    checked = run(python, ["manage.py", "check", "--database", "default"], site, env)
    assert "pgvector_admin." not in checked
    run(python, ["manage.py", "shell", "-c", ROWS], site, env)
    return site, env


def nothing_of_this_repository(python: Path, site: Path, env: dict[str, str]) -> None:
    out = run(
        python,
        [
            "-c",
            "import importlib.util, pgvector_admin; print(pgvector_admin.__file__); "
            "print(importlib.util.find_spec('catalog'), importlib.util.find_spec('project'))",
        ],
        site,
        env,
    )
    installed, missing = out.strip().split("\n")[:2]
    assert "/venv/lib/" in installed
    assert str(BASE_DIR) not in installed
    assert missing == "None None"


def serve(python: Path, site: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(python), "manage.py", *args],
        cwd=site,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("extras", ["all", "core"])
def test_install_the_wheel_in_a_new_project_and_use_it_in_chromium(
    extras: str, wheel: Path, database: dict[str, str], tmp_path: Path, page: Page
) -> None:
    python = virtual_env(tmp_path, wheel, "all" if extras == "all" else "")
    site, env = new_project(tmp_path, python, database, extras=extras == "all")
    nothing_of_this_repository(python, site, env)
    port = free_port()
    processes = [serve(python, site, env, "runserver", "--noreload", f"127.0.0.1:{port}")]
    if extras == "all":
        processes.append(serve(python, site, env, "db_worker", "--interval", "0.2"))
    try:
        read_until(processes[0], r"Quit the server with", timeout=60)
        for process in processes:
            keep_reading(process)
        base = f"http://127.0.0.1:{port}"
        admin_login(page, base, username="me", password="a password of mine")
        use_the_vector_admin(page, base, extras=extras, tmp_path=tmp_path)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)
    # The commands need no extra: a model's rows out, and a file of new ones in.
    run(python, ["manage.py", "export_vectors", "rows.csv", "--model", "shop.Document"], site, env)
    assert (site / "rows.csv").read_text().startswith("id,title,embedding,summary\n")
    (site / "new.csv").write_text('title,embedding\nby command,"[1,2,3]"\n')
    out = run(
        python, ["manage.py", "import_vectors", "new.csv", "--model", "shop.Document"], site, env
    )
    assert "Imported 1 rows (1 new, 0 updated)" in out


def use_the_vector_admin(page: Page, base: str, *, extras: str, tmp_path: Path) -> None:
    # Search by vector from the changelist's form.
    page.goto(f"{base}/admin/shop/document/")
    page.fill("#vs_vector", "[3, 1, 2]")
    page.fill("#vs_k", "5")
    page.click("text=Find nearest")
    expect(page).to_have_url(re.compile(r"/admin/shop/document/search/\?vector="))
    expect(page.locator("#neighbours tbody tr")).to_have_count(5)
    expect(page.locator(".index-verdict")).to_contain_text("document_embedding_idx")
    # Find similar from a row.
    page.goto(f"{base}/admin/shop/document/")
    page.locator("#result_list tbody tr").first.locator("input.action-select").check()
    page.select_option("select[name=action]", "find_similar")
    page.click("button[name=index]")
    expect(page).to_have_url(re.compile(r"/admin/shop/document/\d+/similar/"))
    expect(page.locator("#neighbours tbody tr")).to_have_count(10)
    # The halfvec field is searched too.
    page.goto(f"{base}/admin/shop/document/search/?field=summary&vector=1,3,2,3&k=3")
    expect(page.locator("#neighbours tbody tr")).to_have_count(3)
    # The map of the table.
    page.goto(f"{base}/admin/shop/document/")
    page.click("text=Map")
    expect(page.locator(".point-cloud")).to_have_attribute("data-drawn", "yes", timeout=30_000)
    # The index page.
    page.goto(f"{base}/admin/shop/document/")
    page.click("text=Vector indexes")
    expect(page.locator("table.vector-indexes")).to_contain_text("document_embedding_idx")
    # Import: through the task worker with the extras; without, the page says what to install.
    page.goto(f"{base}/admin/shop/document/")
    page.click("a.import_link")
    if extras != "all":
        expect(page.locator("#content-main")).to_contain_text(
            'pip install "django-pgvector-admin[imports]"'
        )
        page.goto(f"{base}/admin/shop/document/indexes/")
        expect(page.locator("p.tasks-missing")).to_contain_text("django-pgvector-admin[tasks]")
        return
    rows = tmp_path / "new.csv"
    rows.write_text('title,embedding\nimported one,"[1,2,3]"\nimported two,"[3,2,1]"\n')
    page.set_input_files("#id_import_file", str(rows))
    page.select_option("#id_format", label="csv")
    page.click("input[type=submit][value='Submit']")
    expect(page.locator(".import-summary")).to_contain_text("2 rows checked")
    page.click("input[name=confirm]")
    expect(page).to_have_url(re.compile(r"/admin/pgvector_admin/taskprogress/\d+/change/$"))
    # The worker, a process of its own, runs it; the page follows its progress.
    expect(page.locator(".task-finished")).to_contain_text(
        "Import finished: 2 new, 0 updated documents", timeout=60_000
    )
    page.goto(f"{base}/admin/shop/document/?q=imported")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
