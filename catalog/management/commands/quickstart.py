"""``manage.py quickstart [addrport]``: migrate, an admin user, the seed's vectors, the server."""

from __future__ import annotations

import os
import secrets
import sys
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from catalog.models import Docstring
from catalog.samples import load_digits, load_docstrings, load_seed_items
from project.supervise import run_supervised

ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "Apply migrations, make sure the superuser 'admin' exists, load the seed's 27 "
        "vectors, the 1,797 handwritten digits and the standard library's docstrings into "
        "empty tables (queueing the docstrings' embedding), then serve the admin "
        "with DEBUG and the debug toolbar on, and a task worker beside it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="Prepare the database and the admin user, but do not start the server.",
        )

    def handle(self, *args: Any, addrport: str, no_serve: bool, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Migrations applied.")
        self.ensure_admin()
        added = load_seed_items()
        if added:
            self.stdout.write(f"Loaded {added} example vectors from the seed tutorial.")
        digits = load_digits()
        if digits:
            self.stdout.write(
                f"Loaded {digits:,} handwritten digits (64-d vectors) from the UCI data set "
                "that scikit-learn ships."
            )
        docs = load_docstrings()
        if docs:
            self.stdout.write(
                f"Loaded {docs:,} docstrings of Python's standard library (this interpreter's "
                "own); their embeddings are made by the task worker (Docstrings > Embeddings "
                "shows how far it is)."
            )
            self.queue_embeddings()
        if no_serve:
            return
        host = addrport.rsplit(":", 1)[0] if ":" in addrport else "127.0.0.1"
        port = addrport.rsplit(":", 1)[-1]
        self.stdout.write(
            self.style.SUCCESS(
                f"Serving the admin at http://{host}:{port}/admin/ (Ctrl-C stops it), with a "
                "task worker beside it for imports in the background."
            )
        )
        sys.stdout.flush()
        # Settings are read once per process: runserver starts afresh with DEBUG on, so
        # the debug toolbar is installed. This process waits for it and passes Ctrl-C or
        # SIGTERM on; when it exits, so does the embedded PostgreSQL it started (unless
        # another process still uses it).
        manage_py = str(settings.BASE_DIR / "manage.py")
        connection.close()
        connection.close_pool()
        code = run_supervised(
            [sys.executable, manage_py, "runserver", addrport],
            env={**os.environ, "DJANGO_DEBUG": "1"},
            # The task queue's worker: imports confirmed in the admin run there.
            companions=[[sys.executable, manage_py, "db_worker", "--no-reload"]],
        )
        if code:
            raise SystemExit(code)

    def queue_embeddings(self) -> None:
        """Queue the docstrings' embedding for the worker: the admin is usable at once,
        and search by text finds more rows as the task goes on."""
        from pgvector_admin.tasks.jobs import start_embedding

        start_embedding(model=Docstring, field="embedding")

    def ensure_admin(self) -> None:
        """Create the superuser once; a generated password is printed then, and never again."""
        user_model = get_user_model()
        if user_model.objects.filter(username=ADMIN_USERNAME).exists():
            self.stdout.write(f"Superuser '{ADMIN_USERNAME}' exists; its password is unchanged.")
            return
        given = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        password = given or secrets.token_urlsafe(12)
        user_model.objects.create_superuser(ADMIN_USERNAME, "", password)
        if given:
            self.stdout.write(
                f"Created superuser '{ADMIN_USERNAME}' with the password from "
                "DJANGO_SUPERUSER_PASSWORD."
            )
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Created superuser '{ADMIN_USERNAME}' with password: {password}\n"
                    "It is shown only this once; keep it."
                )
            )
