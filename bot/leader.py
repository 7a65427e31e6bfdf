"""One outbox sender per platform per deployment, elected with PostgreSQL advisory locks.

Several `chibot run` processes share one PostgreSQL: all of them take updates and sweep
the cycle, but a platform's rate limits (Telegram: 20 messages a minute per group, about
30 a second overall) are kept by pacing in one place. Each process tries to take a
session-level advisory lock per platform on a dedicated connection; the holder sends that
platform's outbox, the others wait. When the holder dies, PostgreSQL ends its session and
frees the lock; another process takes it at its next try (every ``TRY_EVERY_S``) and
re-queues what the dead one left in ``sending``. A holder checks its connection at least
every ``CHECK_EVERY_S`` before it claims rows: a holder that lost its session stops
claiming. SQLite has no lease (one process by design).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select, text, update
from sqlmodel import Session

from models.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

TRY_EVERY_S = 2.0  # how often a process without the lock tries to take it
CHECK_EVERY_S = 1.0  # how often the holder checks that its session is alive


APP_NAME = "chibot-sender-"  # + pid: the lock connection's name in pg_stat_activity


def lock_key(platform: str) -> int:
    """A stable signed 64-bit key per platform (pg_try_advisory_lock(bigint))."""
    digest = hashlib.sha256(f"chibot.outbox.sender:{platform}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class SenderLease:
    """The platforms this process sends for. Blocking methods: call them in a thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.held: set[str] = set()
        self._conn = None  # type: ignore[var-annotated]
        self._mutex = threading.Lock()
        self._checked = -float("inf")
        self._tried = -float("inf")

    def maintain(self, wanted: set[str], force: bool = False) -> tuple[set[str], set[str]]:
        """Check the session (at most every CHECK_EVERY_S) and try for the wanted
        platforms not held (at most every TRY_EVERY_S, or now with ``force``); returns
        (lost, gained)."""
        with self._mutex:
            now = time.monotonic()
            lost: set[str] = set()
            if self.held and now - self._checked >= CHECK_EVERY_S:
                if not self._alive():
                    lost = set(self.held)
                    self._drop()
                self._checked = now
            gained: set[str] = set()
            todo = wanted - self.held
            if todo and (force or now - self._tried >= TRY_EVERY_S):
                self._tried = now
                gained = self._try(todo)
            return lost, gained

    def release(self, platform: str) -> None:
        """Give a platform up (its adapter is gone), so that another process may send."""
        with self._mutex:
            if platform not in self.held or self._conn is None:
                return
            self.held.discard(platform)
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(platform),))
            except Exception as exc:
                log.warning("outbox: could not release the %s lease: %s", platform, exc)

    def close(self) -> None:
        with self._mutex:
            self._drop()

    # -- internals (under the mutex) ------------------------------------------------
    def _alive(self) -> bool:
        try:
            self._conn.execute("SELECT 1")  # type: ignore[union-attr]
            return True
        except Exception as exc:
            # info: a database outage is reported once by DbHealth
            log.info("outbox: the sender's lease connection is gone (%s); this process "
                     "stops sending until it holds the lease again", exc)
            return False

    def _try(self, platforms: set[str]) -> set[str]:
        import psycopg

        try:
            if self._conn is None:
                self._conn = psycopg.connect(
                    self.url, autocommit=True, connect_timeout=5,
                    application_name=f"{APP_NAME}{os.getpid()}")
                self._checked = time.monotonic()
            got = set()
            for p in sorted(platforms):
                row = self._conn.execute("SELECT pg_try_advisory_lock(%s)",
                                         (lock_key(p),)).fetchone()
                if row and row[0]:
                    got.add(p)
            self.held |= got
            return got
        except Exception as exc:  # down or restarting: try again later
            log.debug("outbox: lease not taken (%s)", exc)
            self._drop()
            return set()

    def _drop(self) -> None:
        self.held.clear()
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def holder_pid(engine: Engine, platform: str) -> int | None:
    """The OS process holding ``platform``'s sender lease in this database (its lock
    connection is named after it), or None: for benches, tests and an operator's look.
    (Advisory locks are per database: other deployments on the server hold the same key.)"""
    with engine.connect() as conn:
        name = conn.execute(text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
            "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = "
            "current_database()) "
            "AND ((l.classid::bigint << 32) | l.objid::bigint) = :k"),
            {"k": lock_key(platform)}).scalar()
    return int(name.removeprefix(APP_NAME)) if name else None


def lease_for(engine: Engine) -> SenderLease | None:
    """A lease on PostgreSQL; None on SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    return SenderLease(engine.url.set(drivername="postgresql")
                       .render_as_string(hide_password=False))


def inherit(engine: Engine, platforms: set[str], now: datetime,
            horizon: float) -> tuple[int, list[tuple[str, str, float]]]:
    """What a new sender takes over (blocking). The previous one is gone (its session
    ended, which freed the lock), so its rows left in ``sending`` are queued again now,
    not after the lease; and the chats it sent to within ``horizon`` seconds are returned
    as (platform, chat, seconds ago), so that their pacing crosses the takeover."""
    with Session(engine) as s:
        requeued = s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENDING.value,
                   OutboxMessage.platform.in_(platforms))
            .values(status=OutboxStatus.PENDING.value)).rowcount
        recent = s.execute(
            select(OutboxMessage.platform, OutboxMessage.chat_id,
                   func.max(OutboxMessage.sent_at))
            .where(OutboxMessage.status == OutboxStatus.SENT.value,
                   OutboxMessage.platform.in_(platforms),
                   OutboxMessage.sent_at > now - timedelta(seconds=horizon))
            .group_by(OutboxMessage.platform, OutboxMessage.chat_id)).all()
        s.commit()
    out = []
    for platform, chat_id, last in recent:
        last = last if last.tzinfo is not None else last.replace(tzinfo=UTC)
        out.append((platform, chat_id, (now - last).total_seconds()))
    return requeued, out
