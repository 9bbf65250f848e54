"""Run a server as a child process, with companions beside it (the task worker), and
stop them all (and everything they started) with us."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
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
    of its own, started again if one dies (``Companions``), and are stopped after it:
    SIGINT, then SIGKILL if one is still running after COMPANION_GRACE_SECONDS. A stop
    signal sent to this process (or to its terminal) is passed on to the server's group,
    so that runserver's reloader and the server process under it both stop. This process
    then returns normally and its exit hooks run: the embedded PostgreSQL it started is
    stopped when nothing else uses it.
    """
    helpers = start_companions(companions, env=env)
    child = subprocess.Popen(list(args), env=env, process_group=0)

    def forward(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGINT)

    previous = {signum: signal.signal(signum, forward) for signum in _FORWARDED}
    try:
        return child.wait()
    finally:
        stop_companions(helpers)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# A companion that dies is started again after a delay that doubles while it keeps
# dying soon after starting (a broken setup does not spin), up to a minute.
FIRST_RESTART_DELAY = 1.0
MAX_RESTART_DELAY = 60.0
# Running this long counts as having started well: the next death waits the first delay.
STEADY_SECONDS = 60.0

logger = logging.getLogger("project.supervise")


class Companions:
    """Processes kept running beside a server: each in a process group of its own (a
    terminal's Ctrl-C does not reach it: ``stop`` stops it, after the server). One that
    exits while not asked to (killed, crashed) is started again, and the restart is
    logged."""

    def __init__(
        self, commands: Sequence[Sequence[str]], *, env: dict[str, str] | None = None
    ) -> None:
        self.commands = [list(command) for command in commands]
        self.env = env
        self.processes: list[subprocess.Popen[bytes]] = []
        self.restarts = 0
        self._started_at: list[float] = []
        self._delays: list[float] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True, name="companions")

    def start(self) -> Companions:
        with self._lock:
            for command in self.commands:
                self.processes.append(self._spawn(command))
                self._started_at.append(time.monotonic())
                self._delays.append(FIRST_RESTART_DELAY)
        if self.commands:
            self._watcher.start()
        return self

    def stop(self) -> None:
        """SIGINT to each (a task worker finishes its current step), then SIGKILL to any
        still running after COMPANION_GRACE_SECONDS; none is started again."""
        self._stopping.set()
        if self._watcher.is_alive():
            self._watcher.join()
        with self._lock:
            processes = list(self.processes)
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

    def _spawn(self, command: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, env=self.env, process_group=0)

    def _watch(self) -> None:
        due: dict[int, float] = {}  # slot: when to start it again
        while not self._stopping.wait(0.5):
            now = time.monotonic()
            for slot, process in enumerate(list(self.processes)):
                code = process.poll()
                if code is None or self._stopping.is_set():
                    continue
                if slot not in due:
                    lived = now - self._started_at[slot]
                    if lived >= STEADY_SECONDS:
                        self._delays[slot] = FIRST_RESTART_DELAY
                    delay = self._delays[slot]
                    due[slot] = now + delay
                    self._delays[slot] = min(delay * 2, MAX_RESTART_DELAY)
                    logger.warning(
                        "%s (pid %d) exited with code %s after %.0f s; starting another in %.0f s.",
                        _name(self.commands[slot]),
                        process.pid,
                        code,
                        lived,
                        delay,
                    )
                elif now >= due[slot]:
                    del due[slot]
                    with self._lock:
                        if self._stopping.is_set():
                            return
                        replacement = self._spawn(self.commands[slot])
                        self.processes[slot] = replacement
                        self._started_at[slot] = time.monotonic()
                        self.restarts += 1
                    logger.warning(
                        "Started %s again (pid %d).", _name(self.commands[slot]), replacement.pid
                    )


def _name(command: Sequence[str]) -> str:
    return "the task worker" if "db_worker" in command else " ".join(command)


def start_companions(
    commands: Sequence[Sequence[str]], *, env: dict[str, str] | None = None
) -> Companions:
    """Start ``commands`` beside a server, kept running until ``stop_companions``."""
    return Companions(commands, env=env).start()


def stop_companions(companions: Companions) -> None:
    """Stop what ``start_companions`` started (see ``Companions.stop``)."""
    companions.stop()
