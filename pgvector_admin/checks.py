"""System checks: what would otherwise fail late (a migration, a page) or silently (a
panel that shows nothing, tasks that never run), reported by ``manage.py check``,
``runserver`` and ``migrate`` with an id and a hint.

    pgvector_admin.E001  the database lacks the vector extension and nothing creates it
    pgvector_admin.E002  the database server does not have pgvector at all
    pgvector_admin.E003  an index uses OpClass without django.contrib.postgres
    pgvector_admin.E004  the toolbar panel comes after the SQL panel (or it is missing)
    pgvector_admin.E005  background features with a task backend that never runs tasks
    pgvector_admin.W005  ... or one that runs them inside the request
    pgvector_admin.E006  the replica router without its middleware
    pgvector_admin.E007  a PGVECTOR_ADMIN key that is unknown or has a wrong value
    pgvector_admin.E008  django-import-export installed but not in INSTALLED_APPS
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError, connections
from django.db.models import Expression

from pgvector_admin import conf
from pgvector_admin.features import IMPORTS_INSTALLED, background_tasks_available

PANEL = "pgvector_admin.toolbar.panel.VectorSearchPanel"
SQL_PANEL = "debug_toolbar.panels.sql.SQLPanel"
ROUTER = "pgvector_admin.replicas.ReplicaRouter"
MIDDLEWARE = "pgvector_admin.replicas.ReadYourWritesMiddleware"
SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"


@register(Tags.database)
def check_vector_extension(
    app_configs: Any = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """E001/E002, for the databases ``check --database``, ``migrate`` name."""
    found: list[CheckMessage] = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector'),"
                    " EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')"
                )
                available, installed = cursor.fetchone()
        except DatabaseError:
            continue  # an unreachable database is Django's own error to report
        creators, pending = _extension_migrations(connection)
        found += extension_problems(alias, available, installed, creators, pending)
    return found


def extension_problems(
    alias: str, available: bool, installed: bool, creators: list[str], pending: list[str]
) -> list[CheckMessage]:
    """What to say of database ``alias`` given whether its server has pgvector
    (``available``), whether the extension is created in it (``installed``), the
    migrations that create it (``creators``) and those of them not yet applied."""
    if installed:
        return []
    if not available:
        return [
            Error(
                f"The PostgreSQL server of database {alias!r} does not have pgvector.",
                hint="Install pgvector on the server (https://github.com/pgvector/pgvector"
                "#installation), or use a server that has it.",
                id="pgvector_admin.E002",
            )
        ]
    if pending:
        return []  # migrate creates it
    if creators:
        reason = f"it was dropped after {creators[0]} created it"
    else:
        reason = "no migration creates it"
    return [
        Error(
            f"Database {alias!r} has no vector extension: {reason}.",
            hint="Add pgvector.django.VectorExtension() to the operations of your app's "
            "first migration (before the models with vector fields), then migrate.",
            id="pgvector_admin.E001",
        )
    ]


def _extension_migrations(connection: Any) -> tuple[list[str], list[str]]:
    """The migrations (``app.name``) that create the vector extension, and the ones of
    them not applied in ``connection``'s database."""
    from django.contrib.postgres.operations import CreateExtension
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    creators = sorted(
        key
        for key, migration in loader.disk_migrations.items()
        if any(
            isinstance(operation, CreateExtension) and operation.name == "vector"
            for operation in migration.operations
        )
    )
    pending = [key for key in creators if key not in loader.applied_migrations]
    return [".".join(key) for key in creators], [".".join(key) for key in pending]


@register(Tags.models)
def check_opclass_indexes(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E003: an index expression with ``OpClass`` (a vector cast to halfvec, a binary
    quantization) is only rendered by ``django.contrib.postgres``."""
    if apps.is_installed("django.contrib.postgres"):
        return []
    found: list[CheckMessage] = []
    for model in apps.get_models():
        for index in model._meta.indexes:
            if any(_has_opclass(expression) for expression in index.expressions):
                found.append(
                    Error(
                        f"{model._meta.label}'s index {index.name!r} uses OpClass, but "
                        "'django.contrib.postgres' is not in INSTALLED_APPS.",
                        hint="Add 'django.contrib.postgres' to INSTALLED_APPS.",
                        obj=model,
                        id="pgvector_admin.E003",
                    )
                )
    return found


def _has_opclass(expression: Any) -> bool:
    if type(expression).__name__ == "OpClass":
        return True
    if isinstance(expression, Expression) or hasattr(expression, "get_source_expressions"):
        return any(_has_opclass(part) for part in expression.get_source_expressions())
    return False


@register()
def check_toolbar_panel(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E004: the vector panel reads the statements the SQL panel recorded, so it must
    be listed before it (django-debug-toolbar ends the panels in reverse order)."""
    return panel_order_problems(list(getattr(settings, "DEBUG_TOOLBAR_PANELS", None) or []))


def panel_order_problems(panels: list[str]) -> list[CheckMessage]:
    """E004 for the toolbar's ``panels``, as listed in DEBUG_TOOLBAR_PANELS."""
    if PANEL not in panels:
        return []
    if SQL_PANEL not in panels:
        problem = f"{PANEL} is in DEBUG_TOOLBAR_PANELS without {SQL_PANEL}"
    elif panels.index(PANEL) > panels.index(SQL_PANEL):
        problem = f"{PANEL} is listed after {SQL_PANEL} in DEBUG_TOOLBAR_PANELS"
    else:
        return []
    return [
        Error(
            problem + ": it would show no searches.",
            hint=f"List {PANEL!r} just before {SQL_PANEL!r}.",
            id="pgvector_admin.E004",
        )
    ]


@register()
def check_task_backend(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E005/W005: the background features need a backend whose worker runs tasks.
    Without django-tasks-db they are off, and the pages say what to install."""
    if not background_tasks_available():
        return []
    from pgvector_admin.tasks.framework import DummyBackend, ImmediateBackend, task_backends

    try:
        backend = task_backends["default"]  # type: ignore[index]
    except Exception as error:  # InvalidTaskBackend, or a backend that fails to load
        return [
            Error(
                f"The background features need the 'default' task backend: {error}",
                hint=_TASKS_HINT,
                id="pgvector_admin.E005",
            )
        ]
    if isinstance(backend, DummyBackend):
        return [
            Error(
                "The 'default' task backend is DummyBackend: imports of big files, index "
                "builds, recall curves and exports would be queued and never run.",
                hint=_TASKS_HINT,
                id="pgvector_admin.E005",
            )
        ]
    if isinstance(backend, ImmediateBackend):
        return [
            Warning(
                "The 'default' task backend is ImmediateBackend: imports, index builds, "
                "recall curves and exports run inside the request that starts them, "
                "with no progress page and no way to cancel.",
                hint=_TASKS_HINT,
                id="pgvector_admin.W005",
            )
        ]
    return []


_TASKS_HINT = (
    "Install django-pgvector-admin[tasks], add 'django_tasks_db' to INSTALLED_APPS, set "
    "TASKS = {'default': {'BACKEND': 'django_tasks_db.DatabaseBackend'}} and run "
    "`manage.py db_worker`."
)


@register()
def check_replica_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E006: the replica router sends a user's reads to a replica only when the
    middleware keeps track of what that user just wrote."""
    routers = [
        router if isinstance(router, str) else f"{type(router).__module__}.{type(router).__name__}"
        for router in getattr(settings, "DATABASE_ROUTERS", [])
    ]
    if ROUTER not in routers:
        return []
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if MIDDLEWARE not in middleware:
        problem = f"{ROUTER} is in DATABASE_ROUTERS but {MIDDLEWARE} is not in MIDDLEWARE"
    elif SESSION_MIDDLEWARE in middleware and middleware.index(MIDDLEWARE) < middleware.index(
        SESSION_MIDDLEWARE
    ):
        problem = f"{MIDDLEWARE} comes before {SESSION_MIDDLEWARE}"
    else:
        return []
    return [
        Error(
            problem + ": a user could read from a replica that has not yet seen their writes.",
            hint=f"Add {MIDDLEWARE!r} to MIDDLEWARE after {SESSION_MIDDLEWARE!r}.",
            id="pgvector_admin.E006",
        )
    ]


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E007: every key of ``PGVECTOR_ADMIN`` known, with a value of the right kind."""
    return [
        Error(problem, hint="pgvector_admin/conf.py lists every setting.", id="pgvector_admin.E007")
        for problem in conf.problems()
    ]


@register()
def check_import_export_app(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E008: installed, django-import-export gives the vector admin its Import and Export
    buttons, whose pages need its templates: the app must be in INSTALLED_APPS."""
    if not IMPORTS_INSTALLED or apps.is_installed("import_export"):
        return []
    return [
        Error(
            "django-import-export is installed but 'import_export' is not in INSTALLED_APPS: "
            "the vector admin's import and export pages would fail.",
            hint="Add 'import_export' to INSTALLED_APPS.",
            id="pgvector_admin.E008",
        )
    ]
