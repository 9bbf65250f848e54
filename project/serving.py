"""The production server: gunicorn's pre-fork workers running the WSGI app.

gunicorn is run in the calling process (its documented custom-application API), so
that process is the master: it holds the embedded PostgreSQL when there is one, and
stops it when gunicorn shuts down on SIGINT or SIGTERM.
"""

from __future__ import annotations

import os


def default_workers() -> int:
    """``WEB_CONCURRENCY`` if set (the usual variable of hosting platforms), else
    gunicorn's rule of thumb, two per core plus one, at most 8: each worker keeps a
    pool of up to ``DATABASE_POOL_SIZE`` PostgreSQL connections."""
    given = os.environ.get("WEB_CONCURRENCY", "").strip()
    if given:
        if not given.isdigit():
            raise ValueError(
                f"WEB_CONCURRENCY must be a number of worker processes, not {given!r}."
            )
        return int(given)
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def serve(*, bind: str, workers: int, timeout: int = 120) -> None:
    """Serve until SIGINT or SIGTERM; gunicorn exits the process when it is done."""
    # gunicorn reads WEB_CONCURRENCY as it is imported, and fails with a bare traceback
    # on a bad value: the number of workers is given here, checked already.
    os.environ.pop("WEB_CONCURRENCY", None)
    from project.gunicorn_app import Gunicorn

    Gunicorn(
        {
            "bind": bind,
            "workers": workers,
            "worker_class": "sync",
            # A search or an import preview can take a while on a big table.
            "timeout": timeout,
            "graceful_timeout": 30,
            "accesslog": "-",
            # gunicorn's control socket has one default path per user: two servers on
            # one machine (or a test beside a running app) would fight over it.
            "control_socket_disable": True,
            "proc_name": "vector-catalog",
        }
    ).run()
