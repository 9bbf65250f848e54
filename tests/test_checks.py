"""The package's system checks (pgvector_admin.checks): each fires on the mistake it
names, with its id, and the demo site has none of them."""

from __future__ import annotations

import io
import re

import pytest
from django.core.checks import Error, Warning
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings

from pgvector_admin import checks
from tests.vector_models.models import Passage

PANEL = checks.PANEL
SQL = checks.SQL_PANEL


def ids(messages: list) -> list[str]:
    return [message.id for message in messages]


def backend(path: str) -> str:
    """A tasks backend's path under the tasks API in use (built in from Django 6.0)."""
    from pgvector_admin.tasks import framework

    if framework.PROVIDER == "django.tasks":
        return path.replace("django_tasks.backends", "django.tasks.backends")
    return path


@pytest.mark.django_db
def test_the_demo_site_passes_every_check_with_its_database() -> None:
    out = io.StringIO()
    call_command("check", "--database", "default", stdout=out)
    assert "pgvector_admin" not in out.getvalue()


@pytest.mark.django_db
def test_e001_a_database_whose_vector_extension_was_dropped() -> None:
    # DDL is transactional in PostgreSQL: the extension (and every vector column with it)
    # comes back when the block rolls back.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP EXTENSION vector CASCADE")
        found = checks.check_vector_extension(databases=["default"])
        transaction.set_rollback(True)
    assert ids(found) == ["pgvector_admin.E001"]
    assert re.search(r"it was dropped after \w+\.0001_initial created it", found[0].msg)
    assert "VectorExtension()" in found[0].hint
    assert checks.check_vector_extension(databases=["default"]) == []


def test_e001_no_migration_creates_the_extension() -> None:
    found = checks.extension_problems("default", True, False, creators=[], pending=[])
    assert ids(found) == ["pgvector_admin.E001"]
    assert found[0].msg == "Database 'default' has no vector extension: no migration creates it."


def test_no_error_while_the_migration_that_creates_it_is_pending() -> None:
    assert checks.extension_problems("default", True, False, ["a.0001"], ["a.0001"]) == []


def test_e002_a_server_without_pgvector() -> None:
    found = checks.extension_problems("other", False, False, ["a.0001"], ["a.0001"])
    assert ids(found) == ["pgvector_admin.E002"]
    assert "server of database 'other' does not have pgvector" in found[0].msg


def test_e003_an_opclass_index_without_contrib_postgres(settings) -> None:
    # Passage has expression indexes: its vector cast to halfvec, with an OpClass.
    assert checks.check_opclass_indexes() == []
    apps_without = [app for app in settings.INSTALLED_APPS if app != "django.contrib.postgres"]
    with override_settings(INSTALLED_APPS=apps_without):
        found = checks.check_opclass_indexes()
    assert set(ids(found)) == {"pgvector_admin.E003"}
    assert {message.obj for message in found} == {Passage}
    assert "'django.contrib.postgres' is not in INSTALLED_APPS" in found[0].msg


@pytest.mark.parametrize(
    ("panels", "expected"),
    [
        ([PANEL, SQL], []),
        ([SQL], []),
        ([SQL, PANEL], ["pgvector_admin.E004"]),
        ([PANEL], ["pgvector_admin.E004"]),
    ],
)
def test_e004_the_panel_must_come_before_the_sql_panel(panels, expected) -> None:
    # Not through override_settings: once imported, django-debug-toolbar reacts to a
    # changed DEBUG_TOOLBAR_PANELS, and it is not an installed app in the tests.
    assert ids(checks.panel_order_problems(panels)) == expected


def test_e004_reads_the_sites_panels() -> None:
    # The demo lists the panel just before the SQL panel.
    assert checks.check_toolbar_panel() == []


@pytest.mark.parametrize(
    ("path", "expected", "kind"),
    [
        ("django_tasks_db.DatabaseBackend", [], None),
        ("django_tasks.backends.dummy.DummyBackend", ["pgvector_admin.E005"], Error),
        ("django_tasks.backends.immediate.ImmediateBackend", ["pgvector_admin.W005"], Warning),
    ],
)
def test_e005_background_features_need_a_backend_that_runs_tasks(path, expected, kind) -> None:
    with override_settings(TASKS={"default": {"BACKEND": backend(path)}}):
        found = checks.check_task_backend()
    assert ids(found) == expected
    assert all(type(message) is kind for message in found)


def test_e005_a_missing_default_backend() -> None:
    with override_settings(TASKS={"other": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        assert ids(checks.check_task_backend()) == ["pgvector_admin.E005"]


@pytest.mark.parametrize(
    ("middleware", "expected"),
    [
        ([checks.SESSION_MIDDLEWARE, checks.MIDDLEWARE], []),
        ([checks.SESSION_MIDDLEWARE], ["pgvector_admin.E006"]),
        ([checks.MIDDLEWARE, checks.SESSION_MIDDLEWARE], ["pgvector_admin.E006"]),
    ],
)
def test_e006_the_replica_router_needs_its_middleware(middleware, expected) -> None:
    with override_settings(DATABASE_ROUTERS=[checks.ROUTER], MIDDLEWARE=middleware):
        assert ids(checks.check_replica_middleware()) == expected
    with override_settings(DATABASE_ROUTERS=[], MIDDLEWARE=middleware):
        assert checks.check_replica_middleware() == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"IMPORT_MAX_BYTE": 10}, "PGVECTOR_ADMIN['IMPORT_MAX_BYTE'] is not a setting"),
        ({"IMPORT_MAX_BYTES": "10MB"}, "must be a positive whole number of bytes, not '10MB'"),
        ({"REPLICA_MAX_LAG": -1}, "must be a positive number of seconds, not -1"),
        ({"EXPORT_FORMULA_GUARD": "no"}, "must be True or False"),
        ({"DEFAULT_EF_SEARCH": 5000}, "must be a whole number 1-1000"),
        ({"PIPELINE_MODE": "yes"}, "must be True or False"),
        (["IMPORT_DIR"], "PGVECTOR_ADMIN must be a dict, not list."),
    ],
)
def test_e007_unknown_or_wrong_settings(value, message) -> None:
    with override_settings(PGVECTOR_ADMIN=value):
        found = checks.check_settings()
    assert ids(found) == ["pgvector_admin.E007"]
    assert message in found[0].msg


def test_every_setting_has_a_default_that_passes_its_own_rule() -> None:
    from pgvector_admin.conf import DEFAULTS

    with override_settings(PGVECTOR_ADMIN=dict(DEFAULTS)):
        assert checks.check_settings() == []


def test_e008_import_export_installed_but_not_listed(settings) -> None:
    assert checks.check_import_export_app() == []
    apps_without = [app for app in settings.INSTALLED_APPS if app != "import_export"]
    with override_settings(INSTALLED_APPS=apps_without):
        assert ids(checks.check_import_export_app()) == ["pgvector_admin.E008"]


def test_e005_says_nothing_when_background_tasks_are_not_installed(settings) -> None:
    apps_without = [app for app in settings.INSTALLED_APPS if app != "django_tasks_db"]
    dummy = backend("django_tasks.backends.dummy.DummyBackend")
    with override_settings(INSTALLED_APPS=apps_without, TASKS={"default": {"BACKEND": dummy}}):
        assert checks.check_task_backend() == []
