"""Database errors classified at one place, and one log line per change of health.

*Transient* errors say "the database cannot answer now" (connection refused or dropped,
the server shutting down, an SQLite lock or busy timeout, a serialization failure or
deadlock, a lock timeout, the pool exhausted): the work is kept and retried with backoff.
Every other error is the work's own fault (a bug, bad data): it is retried a few times and
then parked. Callers never decide this themselves; they ask :func:`is_transient`.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import exc as sa_exc

log = logging.getLogger("chibot.database")

# SQLSTATE codes of PostgreSQL that mean "try again": class 08 (connection exception),
# serialization failure, deadlock, lock not available, shutdown/crash/cannot connect now,
# too many connections, and "database is not accepting connections" (55000 at connect).
_PG_TRANSIENT = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300", "55000"}
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "database is busy",
                     "unable to open database file")


def _sqlstate(orig: BaseException | None) -> str | None:
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` (or an error it was raised from) says the database is unavailable
    for now rather than that the work itself is wrong."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if _transient_here(cur):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def _transient_here(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True  # the pool waited in vain, or a connection was found dead
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        state = _sqlstate(orig)
        if state is not None:
            return state[:2] == "08" or state in _PG_TRANSIENT
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            module = type(orig).__module__ if orig is not None else ""
            if module.startswith("psycopg"):
                return True  # refused, reset, closed: psycopg gives no SQLSTATE then
            msg = str(orig).lower()
            return any(m in msg for m in _SQLITE_TRANSIENT)
        return False
    state = _sqlstate(exc)  # a raw driver error (LISTEN connection, raw cursor)
    if state is not None:
        return state[:2] == "08" or state in _PG_TRANSIENT
    module = type(exc).__module__
    if module.startswith("psycopg") and type(exc).__name__ in (
            "OperationalError", "InterfaceError"):
        return True
    if module == "sqlite3" and type(exc).__name__ == "OperationalError":
        return any(m in str(exc).lower() for m in _SQLITE_TRANSIENT)
    return False


def describe(exc: BaseException) -> str:
    """One short line for the log: the driver's first line, without the SQL."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    return f"{type(orig).__name__}: {first[:200]}"


class DbHealth:
    """Shared by the update intake, the outbox sender and the cycle sweep: logs one line
    when the database becomes unavailable and one when it is back, whoever notices."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._who: str = ""

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def failed(self, who: str, exc: BaseException) -> None:
        with self._lock:
            if self._down_since is not None:
                return
            self._down_since = time.monotonic()
            self._who = who
        log.warning("database unavailable (%s, noticed by %s): work is kept and retried",
                    describe(exc), who)

    def ok(self) -> None:
        if self._down_since is None:  # the common case: no lock taken
            return
        with self._lock:
            since, self._down_since = self._down_since, None
        if since is not None:
            log.warning("database available again after %.0f s", time.monotonic() - since)


def backoff(attempt: int, *, first: float = 0.5, cap: float = 10.0) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based) of transient work."""
    return min(first * 2 ** max(attempt - 1, 0), cap)
