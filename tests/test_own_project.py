"""The README's "Use it in your own project", followed in a fresh Django project:
``startproject``, an app with a model of its own, the vector admin registered as the
README shows, migrated on a database of its own, then its pages."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from psycopg import sql

DATABASE = "own_project_test"

MODELS = """
from django.db import models
from pgvector.django import HnswIndex, VectorField


class Document(models.Model):
    title = models.CharField(max_length=200)
    embedding = VectorField(dimensions=3)

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

from catalog.vector_admin import VectorModelAdmin

from .models import Document


@admin.register(Document)
class DocumentAdmin(VectorModelAdmin):
    pass  # the model's vector field is found; vector_fields = ["embedding"] to choose
"""

VECTOR_MIGRATION = """
from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    operations = [VectorExtension()]
"""

SETTINGS = """

INSTALLED_APPS += ["import_export", "catalog", "shop"]
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

PAGES = """
import django
django.setup()
from django.contrib.auth.models import User
from django.test import Client
from django.test.utils import setup_test_environment
from shop.models import Document

setup_test_environment()
Document.objects.bulk_create(
    [Document(title=f"doc {i}", embedding=[i % 5 + 1, i % 7 + 1, i % 3 + 1]) for i in range(40)]
)
client = Client()
client.force_login(User.objects.create_superuser("me", "", "pw"))
changelist = client.get("/admin/shop/document/")
print("changelist", changelist.status_code, b'class="vector-search"' in changelist.content)
search = client.get("/admin/shop/document/search/", {"vector": "3,1,2", "k": 5})
print("search", search.status_code, search.content.count(b'class="similar-row"'))
first = Document.objects.first()
similar = client.get(f"/admin/shop/document/{first.pk}/similar/", {"k": 4})
print("similar", similar.status_code, similar.content.count(b'class="similar-row"'))
imports = client.get("/admin/shop/document/import/")
print("import page", imports.status_code, b"<code>title</code>" in imports.content)
"""


def run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture
def database() -> dict[str, str]:
    """A database of its own on the server the tests use."""
    params = connection.get_connection_params()
    admin = {key: params[key] for key in ("host", "port", "user", "password") if params.get(key)}
    with psycopg.connect(**admin, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DATABASE)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    yield {key: str(value) for key, value in admin.items()}
    with psycopg.connect(**admin, dbname="postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )


def test_the_vector_admin_in_a_fresh_django_project(
    tmp_path: Path, database: dict[str, str]
) -> None:
    hidden = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "PYTEST_VERSION"}
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    # The catalog app comes from this repository, as from a checkout or a package.
    env["PYTHONPATH"] = str(settings.BASE_DIR)
    site = tmp_path / "site"
    site.mkdir()
    run(["-m", "django", "startproject", "mysite", str(site)], tmp_path, env)
    run(["manage.py", "startapp", "shop"], site, env)
    (site / "shop" / "models.py").write_text(textwrap.dedent(MODELS))
    (site / "shop" / "admin.py").write_text(textwrap.dedent(ADMIN))
    with open(site / "mysite" / "settings.py", "a") as conf:
        conf.write(
            SETTINGS.format(
                name=DATABASE,
                host=database.get("host", ""),
                port=database.get("port", ""),
                user=database.get("user", ""),
                password=database.get("password", ""),
            )
        )
    # As pgvector's docs say: the extension in a migration of its own, first.
    run(["manage.py", "makemigrations", "shop", "--empty", "--name", "vector"], site, env)
    (site / "shop" / "migrations" / "0001_vector.py").write_text(textwrap.dedent(VECTOR_MIGRATION))
    run(["manage.py", "makemigrations", "shop"], site, env)
    run(["manage.py", "migrate"], site, env)
    run(["manage.py", "check"], site, env)

    out = run(["-c", PAGES], site, {**env, "DJANGO_SETTINGS_MODULE": "mysite.settings"})
    assert out.split("\n")[:4] == [
        "changelist 200 True",
        "search 200 5",
        "similar 200 4",
        "import page 200 True",
    ]
    # The commands take the model: its rows out, and a file of new ones in.
    run(["manage.py", "export_vectors", "rows.csv", "--model", "shop.Document"], site, env)
    assert (site / "rows.csv").read_text().startswith("id,title,embedding\n")
    (site / "new.csv").write_text('title,embedding\nnew one,"[1,2,3]"\n')
    out = run(["manage.py", "import_vectors", "new.csv", "--model", "shop.Document"], site, env)
    assert "Imported 1 rows (1 new, 0 updated)" in out
