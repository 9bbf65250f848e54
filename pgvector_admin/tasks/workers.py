"""Whether a task queue worker is running: each ``manage.py db_worker`` connects to
the database under one application name (set by ``mark_worker_connections`` when the
command starts), which PostgreSQL lists in ``pg_stat_activity`` while it is connected.

A waiting task's page says so when none has been connected for a while: queued work
would otherwise wait silently for a worker that is not there.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from django.db import DatabaseError, connections

WORKER_APPLICATION_NAME = "vector task worker"
# A worker that died is restarted within seconds (quickstart, serve): only a longer
# wait is worth a word.
QUIET_SECONDS = 15.0


def mark_worker_connections(argv: Sequence[str] = ()) -> None:
    """In a ``db_worker`` process, name its database connections as a worker's."""
    if "db_worker" not in (argv or sys.argv)[1:2]:
        return
    for alias in connections:
        options = connections.settings[alias].setdefault("OPTIONS", {})
        options["application_name"] = WORKER_APPLICATION_NAME


def workers_connected(using: str = "default") -> int:
    """How many worker connections the database has now (0 when it cannot say)."""
    try:
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = %s AND datname = current_database()",
                [WORKER_APPLICATION_NAME],
            )
            return int(cursor.fetchone()[0])
    except DatabaseError:
        return 0
