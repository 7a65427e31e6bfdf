"""PostgreSQL LISTEN and NOTIFY in background threads: an enqueue in one process wakes
the sender in another.

Each thread holds one dedicated connection (not from the pool). When the database is
unavailable it reconnects quietly; the sender's slow poll covers the gap. The NOTIFY goes
out after the enqueue's commit, from its own connection, and many commits share one: a
NOTIFY inside a transaction makes PostgreSQL serialise its commit, WAL flush included,
with every other notifying commit (two processes handled no more updates than one).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Set

from sqlalchemy import Engine

from models.outbox_queue import CHANNEL, add_wake_listener, remove_wake_listener

log = logging.getLogger(__name__)

Chats = frozenset[tuple[str, str]]  # (platform, chat id) pairs that got rows
MAX_PAYLOAD = 7000  # bytes of chats per NOTIFY (PostgreSQL's limit is 8000); more: unnamed


def encode(chats: Iterable[tuple[str, str]]) -> str:
    """The NOTIFY payload naming these chats; '' (any chat) when it would be too long."""
    text = "\n".join(f"{p}\t{c}" for p, c in sorted(chats))
    return text if len(text.encode()) <= MAX_PAYLOAD else ""


def decode(payload: str) -> Chats | None:
    """The chats a NOTIFY names; None when it names none (rows anywhere)."""
    pairs = [line.split("\t", 1) for line in payload.split("\n") if "\t" in line]
    return frozenset((p, c) for p, c in pairs) or None


class PgListener:
    """LISTENs on a dedicated connection; calls ``on_notify`` with the chats a NOTIFY
    names (None: any, e.g. after connecting, for what was queued meanwhile)."""

    def __init__(self, url: str, on_notify: Callable[[Chats | None], None]) -> None:
        self.url = url
        self.on_notify = on_notify
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chibot-pg-listen",
                                        daemon=True)

    def start(self) -> PgListener:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()

    def _run(self) -> None:
        import psycopg

        while not self._closed.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.on_notify(None)  # anything queued while we were not listening
                    while not self._closed.is_set():
                        for n in conn.notifies(timeout=1.0, stop_after=1):
                            self.on_notify(decode(n.payload))
            except Exception as exc:  # down or restarting: the poll covers the gap
                log.debug("outbox listener: %s; reconnecting", exc)
                self._closed.wait(5.0)


class PgNotifier:
    """Sends a NOTIFY naming the chats it was asked about, coalescing: the asks made while
    one is being sent go out together in the next. An ask is made after the commit it
    announces, so a sender woken by it sees the rows."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._chats: set[tuple[str, str]] = set()
        self._mutex = threading.Lock()
        self._wanted = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chibot-pg-notify",
                                        daemon=True)

    def start(self) -> PgNotifier:
        self._thread.start()
        return self

    def request(self, chats: Iterable[tuple[str, str]]) -> None:
        with self._mutex:
            self._chats.update(chats)
        self._wanted.set()

    def close(self) -> None:
        self._closed.set()
        self._wanted.set()

    def _run(self) -> None:
        import psycopg

        while not self._closed.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    while not self._closed.is_set():
                        if not self._wanted.wait(1.0):
                            continue
                        self._wanted.clear()
                        with self._mutex:
                            chats, self._chats = self._chats, set()
                        if chats and not self._closed.is_set():
                            try:
                                conn.execute("SELECT pg_notify(%s, %s)",
                                             (CHANNEL, encode(chats)))
                            except Exception:
                                self.request(chats)  # sent after reconnecting
                                raise
            except Exception as exc:  # down or restarting
                log.debug("outbox notifier: %s; reconnecting", exc)
                self._closed.wait(5.0)


def _url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def start_pg_notifier(engine: Engine) -> PgNotifier | None:
    """A started notifier on PostgreSQL; None on SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    return PgNotifier(_url(engine)).start()


def start_pg_listener(engine: Engine,
                      on_notify: Callable[[Chats | None], None]) -> PgListener | None:
    """A started listener on PostgreSQL; None on SQLite (one process, in-process wake)."""
    if engine.dialect.name != "postgresql":
        return None
    return PgListener(_url(engine), on_notify).start()


class Wakeups:
    """How a running sender is woken: by a commit in this process that queued rows for a
    platform it sends for, and by PostgreSQL's NOTIFY from the others; a commit here that
    queued rows for a platform another process sends for NOTIFYs them (after the commit).
    ``held`` says the platforms this process sends for (None: all of them, SQLite);
    ``poke`` is called with the chats that got rows (None: unknown)."""

    def __init__(self, engine: Engine, poke: Callable[[Chats | None], None],
                 held: Callable[[], Set[str] | None]) -> None:
        self.poke = poke
        self.held = held
        self.notifier = start_pg_notifier(engine)
        add_wake_listener(self.queued, relays=self.notifier is not None)
        self.listener = start_pg_listener(engine, self.notified)

    def notified(self, chats: Chats | None) -> None:
        """Another process queued rows: wake this sender only for those it sends for (a
        process without the lease tries for it on its own timer)."""
        held = self.held()
        if held is not None and chats is not None:
            chats = frozenset(c for c in chats if c[0] in held)
            if not chats:
                return
        if held is None or held:
            self.poke(chats)

    def queued(self, chats: Chats) -> None:
        held = self.held()
        mine = chats if held is None else frozenset(c for c in chats if c[0] in held)
        if mine:
            self.poke(mine)
        if self.notifier is not None and len(mine) < len(chats):
            self.notifier.request(chats - mine)

    def close(self) -> None:
        remove_wake_listener(self.queued)
        if self.listener is not None:
            self.listener.close()
        if self.notifier is not None:
            self.notifier.close()
