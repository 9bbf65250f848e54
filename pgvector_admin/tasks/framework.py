"""Django's tasks API, wherever it comes from: built in from Django 6.0
(``django.tasks``), the ``django-tasks`` backport on Django 5.2, or neither (the core
install): then ``task`` still decorates, and queueing says what to install. The
background features (imports of big files, index builds, recall curves, exports) queue
their work through it; django-tasks-db keeps the queue in PostgreSQL and its
``db_worker`` runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from typing import Any

from pgvector_admin.features import TASKS_EXTRA


class TasksUnavailable(RuntimeError):
    """Work was queued where no tasks framework is installed."""


if find_spec("django.tasks"):
    from django.tasks import default_task_backend, task, task_backends
    from django.tasks.backends.dummy import DummyBackend
    from django.tasks.backends.immediate import ImmediateBackend

    PROVIDER: str | None = "django.tasks"
elif find_spec("django_tasks"):
    from django_tasks import (  # type: ignore[no-redef]
        default_task_backend,
        task,
        task_backends,
    )
    from django_tasks.backends.dummy import DummyBackend  # type: ignore[no-redef]
    from django_tasks.backends.immediate import ImmediateBackend  # type: ignore[no-redef]

    PROVIDER = "django_tasks"
else:
    PROVIDER = None
    default_task_backend = task_backends = DummyBackend = ImmediateBackend = None  # type: ignore[assignment,misc]

    class _UnavailableTask:
        """Stands for a task where none can run: the module imports, queueing refuses."""

        def __init__(self, function: Callable[..., Any]) -> None:
            self.func = function
            self.module_path = f"{function.__module__}.{function.__qualname__}"

        def using(self, **options: Any) -> _UnavailableTask:
            return self

        def enqueue(self, *args: Any, **kwargs: Any) -> Any:
            raise TasksUnavailable(
                "Background tasks need Django's tasks API and django-tasks-db: "
                f"{TASKS_EXTRA}, then add 'django_tasks_db' to INSTALLED_APPS."
            )

    def task(*args: Any, **options: Any) -> Any:  # type: ignore[no-redef]
        """``@task()`` or ``@task``: the function, made a task that cannot be queued."""
        if len(args) == 1 and callable(args[0]) and not options:
            return _UnavailableTask(args[0])
        return _UnavailableTask


__all__ = [
    "PROVIDER",
    "DummyBackend",
    "ImmediateBackend",
    "TasksUnavailable",
    "default_task_backend",
    "task",
    "task_backends",
]
