"""Reads on streaming read replicas, writes on the primary.

The databases ``replica_1``, ``replica_2``… of ``DATABASES`` (the prefix is the
``REPLICA_PREFIX`` setting) are hot standbys of ``default`` fed by streaming
replication. The vector admin's reading pages (search, similar, the pictures' points,
the changelist) run inside ``reading_from_replica``: ``ReplicaRouter`` sends their
queries to the replica chosen for the request, and everything else — writes, imports,
index builds, the admin's own writes, the task pages — to the primary.

A replica is chosen when it answers, is a standby, is not too far behind
(``PGVECTOR_ADMIN["REPLICA_MAX_LAG"]`` seconds, default 30), and has replayed this session's
last write (the primary's WAL position after it, kept in the session): a user reads
their own writes. One that fails is skipped for ``DOWN_SECONDS`` and then tried again;
a failure in the middle of a page runs the page again on the next server.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from pgvector_admin.conf import app_settings
from pgvector_admin.numbers import grouped

PRIMARY = "default"
# The primary's WAL position after this session's last write.
SESSION_KEY = "pgvector_admin.replicas.wrote_at"
# A replica that failed is left alone this long, then tried again.
DOWN_SECONDS = 5.0

# The database the current request reads from (None: the primary).
_reading: ContextVar[str | None] = ContextVar("pgvector_admin_replica_reading", default=None)
# Which server answered, for the page to say.
_answered: ContextVar[Answer | None] = ContextVar("pgvector_admin_replica_answered", default=None)
_down_until: dict[str, float] = {}
_turn = itertools.count()
_lock = threading.Lock()


@dataclass
class Answer:
    """The server a request read from, and the replicas passed over on the way."""

    alias: str
    skipped: list[str] = field(default_factory=list)
    # What the check that chose a replica read of it: the page names it without asking
    # again.
    facts: ServerFacts | None = None


class ReplicaRouter:
    """Reads inside ``reading_from_replica`` go to its replica; all else to the primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return _reading.get()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # a replica holds the primary's rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return not db.startswith(app_settings.REPLICA_PREFIX)


def replica_aliases() -> list[str]:
    """The replicas configured (``DATABASE_REPLICA_URLS``), in order."""
    return [alias for alias in settings.DATABASES if alias.startswith(app_settings.REPLICA_PREFIX)]


def max_lag_seconds() -> float:
    return float(app_settings.REPLICA_MAX_LAG)


def answered_by() -> Answer | None:
    """Which server this request's reads went to (inside ``reading_from_replica``)."""
    return _answered.get()


def remember_write(request: HttpRequest) -> None:
    """Keep the primary's WAL position in the session: this user's next pages read
    from the primary or from a replica that has replayed past it."""
    if not replica_aliases() or not hasattr(request, "session"):
        return
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        request.session[SESSION_KEY] = cursor.fetchone()[0]


class ReadYourWritesMiddleware:
    """After a request that may have written (any method but GET, HEAD, OPTIONS), keep
    the primary's WAL position in the session (``remember_write``). Nothing without
    replicas."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD", "OPTIONS") and replica_aliases():
            with contextlib.suppress(DatabaseError):
                remember_write(request)
        return response


def choose(request: HttpRequest | None = None, *, avoid: set[str] | None = None) -> Answer:
    """The server to read from: the next replica in turn that is up, a standby, not too
    far behind and past this session's last write; else the primary."""
    replicas = [alias for alias in replica_aliases() if alias not in (avoid or set())]
    wrote_at = None
    if request is not None and hasattr(request, "session"):
        wrote_at = request.session.get(SESSION_KEY)
    skipped: list[str] = []
    if not replicas:
        return Answer(PRIMARY, skipped)
    start = next(_turn) % len(replicas)
    for alias in replicas[start:] + replicas[:start]:
        reason, facts = _unfit(alias, wrote_at)
        if reason is None:
            return Answer(alias, skipped, facts)
        skipped.append(f"{alias}: {reason}")
    return Answer(PRIMARY, skipped)


def _unfit(alias: str, wrote_at: str | None) -> tuple[str | None, ServerFacts | None]:
    """Why ``alias`` cannot serve this read now (None when it can), and what was read
    of it."""
    with _lock:
        until = _down_until.get(alias, 0.0)
    if until > time.monotonic():
        failed = DOWN_SECONDS - (until - time.monotonic())
        return _("failed %(seconds)s s ago; tried again soon") % {"seconds": f"{failed:.0f}"}, None
    try:
        facts = server_facts(alias, past=wrote_at)
    except DatabaseError as error:
        mark_down(alias)
        return _("unreachable (%(reason)s)") % {"reason": _first_line(error)}, None
    lag = facts.lag_seconds
    if not facts.in_recovery:
        reason = _("not a standby (pg_is_in_recovery() is false): it may have been promoted")
    elif lag is not None and lag > max_lag_seconds():
        reason = _("%(lag)s s behind the primary (at most %(most)s)") % {
            "lag": f"{lag:.1f}",
            "most": f"{max_lag_seconds():g}",
        }
    elif not facts.replayed_past:
        reason = _("has not yet replayed this session's last write")
    else:
        reason = None
    return reason, facts


# The seconds a standby is behind: 0 when it has replayed all it received, else the age
# of the last transaction it replayed (on an idle primary that age grows, which is why
# an up-to-date standby counts as 0).
LAG_SQL = (
    "CASE WHEN NOT pg_is_in_recovery() THEN NULL "
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0 "
    "ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float END"
)


def mark_down(alias: str) -> None:
    """Leave ``alias`` alone for ``DOWN_SECONDS``, and drop its broken connection."""
    with _lock:
        _down_until[alias] = time.monotonic() + DOWN_SECONDS
    with contextlib.suppress(DatabaseError):
        connections[alias].close()


@contextmanager
def reading(alias: str) -> Iterator[None]:
    """Route this thread's reads to ``alias`` inside the block."""
    token = _reading.set(None if alias == PRIMARY else alias)
    try:
        yield
    finally:
        _reading.reset(token)


def reading_from_replica(request: HttpRequest, view: Callable[[], HttpResponse]) -> HttpResponse:
    """Run ``view`` (and render its response) with its reads on a replica chosen for
    ``request``. Should the replica fail in the middle, the page runs again on the next
    server (another replica or the primary): the user gets an answer, not an error."""
    if not replica_aliases():
        return view()
    failed: set[str] = set()
    while True:
        answer = choose(request, avoid=failed)
        answer.skipped[:0] = [
            _("%(server)s: failed during this request") % {"server": alias}
            for alias in sorted(failed)
        ]
        token = _answered.set(answer)
        try:
            with reading(answer.alias):
                response = view()
                # A TemplateResponse renders after the view returns: render it here, so
                # that the template's reads (a changelist's rows) go where the view's did.
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
            return response
        except DatabaseError:
            if answer.alias == PRIMARY:
                raise
            mark_down(answer.alias)
            failed.add(answer.alias)
        finally:
            _answered.reset(token)


@dataclass(frozen=True)
class ServerFacts:
    """The server a query ran on, as the search page and the toolbar panel name it."""

    alias: str
    host: str
    in_recovery: bool
    # How far a standby is behind the primary (None on the primary).
    lag_seconds: float | None = None
    lag_bytes: int | None = None
    # Whether it has replayed the WAL position asked about (true when none was).
    replayed_past: bool = True

    def describe(self) -> str:
        """E.g. "replica_1 (127.0.0.1:5433), a standby (pg_is_in_recovery() = true),
        0 bytes and 0.00 s behind the primary"."""
        recovery = "true" if self.in_recovery else "false"
        values = {"server": self.alias, "host": self.host, "recovery": recovery}
        if not self.in_recovery:
            return _("the primary, %(server)s (%(host)s, pg_is_in_recovery() = %(recovery)s)") % (
                values
            )
        standby = _("%(server)s (%(host)s), a standby (pg_is_in_recovery() = %(recovery)s)") % (
            values
        )
        if self.lag_bytes is None and self.lag_seconds is None:
            return standby
        lag = {
            "bytes": grouped(self.lag_bytes or 0),
            "seconds": f"{self.lag_seconds or 0:.2f}",
        }
        if self.lag_seconds is None:
            behind = _("%(bytes)s bytes behind the primary") % lag
        elif self.lag_bytes is None:
            behind = _("%(seconds)s s behind the primary") % lag
        else:
            behind = _("%(bytes)s bytes and %(seconds)s s behind the primary") % lag
        return f"{standby}, {behind}"


def server_facts(alias: str, *, past: str | None = None) -> ServerFacts:
    """Which server ``alias`` is: its address, whether it is a standby, its lag, and
    whether it has replayed the WAL position ``past`` (a session's last write)."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT pg_is_in_recovery(), inet_server_addr()::text, inet_server_port(), "
            "pg_last_wal_replay_lsn()::text, "
            "%s::pg_lsn IS NULL OR pg_last_wal_replay_lsn() >= %s::pg_lsn, " + LAG_SQL,
            [past, past],
        )
        in_recovery, address, port, replayed, replayed_past, lag = cursor.fetchone()
    if address is None:  # a Unix socket
        folder = settings.DATABASES[alias].get("HOST") or _("in its data folder")
        host = _("Unix socket %(folder)s") % {"folder": folder}
    else:
        host = f"{address.split('/')[0]}:{port}"
    lag_bytes = None
    if in_recovery and replayed is not None and alias != PRIMARY:
        try:
            with connections[PRIMARY].cursor() as cursor:
                cursor.execute(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)::bigint", [replayed]
                )
                lag_bytes = max(0, int(cursor.fetchone()[0]))
        except DatabaseError:
            lag_bytes = None  # the primary unreachable: the lag in seconds still says
    return ServerFacts(
        alias=alias,
        host=host,
        in_recovery=bool(in_recovery),
        lag_seconds=lag,
        lag_bytes=lag_bytes,
        replayed_past=bool(replayed_past),
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
