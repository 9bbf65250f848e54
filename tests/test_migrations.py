import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_models_and_migrations_agree() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_migration_0001_enables_the_extension_then_builds_the_seeds_index() -> None:
    out = io.StringIO()
    call_command("sqlmigrate", "catalog", "0001", stdout=out)
    sql = out.getvalue()
    # The operation prints "(no-op)" instead of CREATE EXTENSION once the extension exists.
    assert "-- Creates extension vector" in sql
    assert sql.index("Creates extension vector") < sql.index('CREATE TABLE "catalog_item"')
    assert (
        'CREATE INDEX "item_embedding_hnsw_idx" ON "catalog_item" USING hnsw '
        '("embedding" vector_cosine_ops) WITH (m = 16, ef_construction = 64)'
    ) in sql
