"""``manage.py serve [addrport] [--workers N] [--task-workers N]``: the app for real,
with gunicorn, and the task queue's workers beside it."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from project.serving import default_workers, serve
from project.startup import refuse_to_serve_without_a_secret_key
from project.supervise import start_companions, stop_companions


class Command(BaseCommand):
    help = (
        "Serve the app for production: DEBUG off, gunicorn with several worker processes, "
        "static files by WhiteNoise. Applies migrations and collects static files first. "
        "Needs DJANGO_SECRET_KEY."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--workers",
            type=int,
            help="worker processes (default: WEB_CONCURRENCY, else 2 per core + 1, at most 8)",
        )
        parser.add_argument(
            "--task-workers",
            type=int,
            default=int(os.environ.get("TASK_WORKERS", 1)),
            help="task queue workers (manage.py db_worker) started beside it, each a process "
            "of its own running one task at a time (default: TASK_WORKERS, else 1; 0 when "
            "they run elsewhere)",
        )
        parser.add_argument(
            "--no-migrate", action="store_true", help="do not apply migrations first"
        )

    def handle(
        self,
        *args: Any,
        addrport: str,
        workers: int | None,
        task_workers: int,
        no_migrate: bool,
        **options: Any,
    ) -> None:
        if settings.DEBUG:
            raise CommandError(
                "serve runs with DEBUG off: unset DJANGO_DEBUG. For development, use "
                "`manage.py quickstart`."
            )
        try:
            refuse_to_serve_without_a_secret_key()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        if workers is None:
            try:
                workers = default_workers()
            except ValueError as error:
                raise CommandError(str(error)) from error
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        if task_workers < 0:
            raise CommandError("--task-workers must be 0 or more.")
        host, _, port = addrport.rpartition(":")
        if not port.isdigit():
            raise CommandError(f"{addrport!r} is not an address and port, e.g. 0.0.0.0:8000.")
        host = host or "127.0.0.1"
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
            self.stdout.write("Migrations applied.")
        call_command("collectstatic", interactive=False, verbosity=0)
        # The workers are forked from this process: none may inherit its connection
        # (or its pool's thread); each opens its own.
        for connection in connections.all(initialized_only=True):
            connection.close()
            connection.close_pool()
        manage_py = str(settings.BASE_DIR / "manage.py")
        helpers = start_companions(
            [[sys.executable, manage_py, "db_worker", "--no-reload"]] * task_workers
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Serving http://{host}:{port}/admin/ with {workers} gunicorn worker "
                f"processes and {task_workers} task worker{'s' if task_workers != 1 else ''}, "
                "DEBUG off (Ctrl-C or SIGTERM stops it)."
            )
        )
        sys.stdout.flush()
        try:
            serve(bind=f"{host}:{port}", workers=workers)
        finally:
            stop_companions(helpers)
