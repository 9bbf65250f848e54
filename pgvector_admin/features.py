"""Which optional parts are installed. The package's core (search, find similar, the
map, the pictures, the index page) needs none of them; each extra turns one on:

    imports  django-import-export   the Import and Export buttons
    toolbar  django-debug-toolbar   the "Vector search" panel
    tasks    django-tasks-db        big imports, index builds, recall curves and
                                    exports in the background, with progress pages
"""

from __future__ import annotations

from importlib.util import find_spec

from django.apps import apps

IMPORTS_EXTRA = 'pip install "django-pgvector-admin[imports]"'
TASKS_EXTRA = 'pip install "django-pgvector-admin[tasks]"'

# Decided once, at import: what is installed does not change while the process runs
# (django-import-export's mixins are the admin's bases when it is there).
IMPORTS_INSTALLED = find_spec("import_export") is not None
# Django's tasks API: built in (Django 6.0+) or the django-tasks backport.
TASKS_FRAMEWORK_INSTALLED = find_spec("django.tasks") is not None or (
    find_spec("django_tasks") is not None
)


def background_tasks_available() -> bool:
    """Tasks can be queued and followed: the tasks API and django-tasks-db, whose
    queue rows the progress pages read, are installed and in INSTALLED_APPS."""
    return TASKS_FRAMEWORK_INSTALLED and apps.is_installed("django_tasks_db")
