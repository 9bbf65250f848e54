"""Run a server as a child process, and stop it (and everything it started) with us."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from types import FrameType

# Ctrl-C, `kill`, a closed terminal: each becomes SIGINT for the child's process group,
# which Django's runserver and gunicorn both take as "stop now, cleanly".
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_supervised(args: Sequence[str], *, env: dict[str, str] | None = None) -> int:
    """Run ``args`` in a process group of its own until it exits; return its exit code.

    A stop signal sent to this process (or to its terminal) is passed on to the whole
    group, so that runserver's reloader and the server process under it both stop. This
    process then returns normally and its exit hooks run: the embedded PostgreSQL it
    started is stopped when nothing else uses it.
    """
    child = subprocess.Popen(list(args), env=env, process_group=0)

    def forward(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGINT)

    previous = {signum: signal.signal(signum, forward) for signum in _FORWARDED}
    try:
        return child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
