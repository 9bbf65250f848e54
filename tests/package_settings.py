"""Settings for the package's own tests, without the demo site: a project with
pgvector_admin (every extra), the tests' models of every vector type, and a
PostgreSQL named by the environment. The nox matrix (noxfile.py) runs the tests listed
in ``PACKAGE_TESTS`` with these settings against the built wheel, on each supported
Django and Python.

PGVECTOR_ADMIN_TEST_HOST  the server's host or socket folder (required)
PGVECTOR_ADMIN_TEST_PORT, PGVECTOR_ADMIN_TEST_USER, PGVECTOR_ADMIN_TEST_PASSWORD
"""

from __future__ import annotations

import os

import django

from pgvector_admin.tasks.framework import PROVIDER

# The test files that need nothing of the demo (no catalog, no project).
PACKAGE_TESTS = [
    "tests/test_checks.py",
    "tests/test_distance_histogram.py",
    "tests/test_embedders.py",
    "tests/test_filtered_search.py",
    "tests/test_index_shapes.py",
    "tests/test_list_rows.py",
    "tests/test_list_vectors.py",
    "tests/test_metrics.py",
    "tests/test_recorded.py",
    "tests/test_row_scoping.py",
    "tests/test_row_urls.py",
    "tests/test_table_state.py",
    "tests/test_task_runs.py",
    "tests/test_text_search.py",
    "tests/test_translations.py",
    "tests/test_vector_admin.py",
    "tests/test_vectors.py",
]

SECRET_KEY = "the package's tests"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "import_export",
    "django_tasks_db",
    "pgvector_admin",
    "tests.vector_models",
]
if django.VERSION < (6, 0):
    INSTALLED_APPS.insert(INSTALLED_APPS.index("django_tasks_db"), "django_tasks")
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.package_urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "pgvector_admin_package",
        "HOST": os.environ.get("PGVECTOR_ADMIN_TEST_HOST", ""),
        "PORT": os.environ.get("PGVECTOR_ADMIN_TEST_PORT", ""),
        "USER": os.environ.get("PGVECTOR_ADMIN_TEST_USER", "postgres"),
        "PASSWORD": os.environ.get("PGVECTOR_ADMIN_TEST_PASSWORD", ""),
    }
}
# As the demo's tests: a task runs when it is queued; "queue" is the real queue.
_BACKENDS = "django.tasks.backends" if PROVIDER == "django.tasks" else "django_tasks.backends"
TASKS = {
    "default": {"BACKEND": f"{_BACKENDS}.immediate.ImmediateBackend"},
    "queue": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]},
}
SILENCED_SYSTEM_CHECKS = ["pgvector_admin.W005"]
STATIC_URL = "static/"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
