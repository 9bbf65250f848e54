"""Run a server as a child process, with companions beside it (the task worker), and
stop them all (and everything they started) with us."""

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


# How long a companion has to finish its current step once asked to stop.
COMPANION_GRACE_SECONDS = 20.0


def run_supervised(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    companions: Sequence[Sequence[str]] = (),
) -> int:
    """Run ``args`` in a process group of its own until it exits; return its exit code.

    ``companions`` (the task queue's worker, say) run beside it, each in a process group
    of its own, and are stopped after it: SIGINT, then SIGKILL if one is still running
    after COMPANION_GRACE_SECONDS. A stop signal sent to this process (or to its
    terminal) is passed on to every group, so that runserver's reloader and the server
    process under it both stop. This process then returns normally and its exit hooks
    run: the embedded PostgreSQL it started is stopped when nothing else uses it.
    """
    helpers = start_companions(companions, env=env)
    child = subprocess.Popen(list(args), env=env, process_group=0)

    def forward(signum: int, frame: FrameType | None) -> None:
        for process in (child, *helpers):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)

    previous = {signum: signal.signal(signum, forward) for signum in _FORWARDED}
    try:
        return child.wait()
    finally:
        stop_companions(helpers)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def start_companions(
    commands: Sequence[Sequence[str]], *, env: dict[str, str] | None = None
) -> list[subprocess.Popen[bytes]]:
    """Start each command in a process group of its own (a terminal's Ctrl-C does not
    reach it: ``stop_companions`` stops it, after the server)."""
    return [subprocess.Popen(list(command), env=env, process_group=0) for command in commands]


def stop_companions(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGINT to each (a task worker finishes its current step), then SIGKILL to any
    still running after COMPANION_GRACE_SECONDS."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=COMPANION_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
