"""PostgreSQL LISTEN in a background thread: another process's enqueue wakes our sender.

The thread holds one dedicated connection (not from the pool). When the database is
unavailable it reconnects quietly; the sender's slow poll covers the gap.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from models.outbox_queue import CHANNEL

log = logging.getLogger(__name__)



class PgListener:
    def __init__(self, url: str, on_notify: Callable[[], None]) -> None:
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
                    self.on_notify()  # anything queued while we were not listening
                    while not self._closed.is_set():
                        for _n in conn.notifies(timeout=1.0, stop_after=1):
                            self.on_notify()
            except Exception as exc:  # down or restarting: the poll covers the gap
                log.debug("outbox listener: %s; reconnecting", exc)
                self._closed.wait(5.0)


def start_pg_listener(engine: Engine, on_notify: Callable[[], None]) -> PgListener | None:
    """A started listener on PostgreSQL; None on SQLite (one process, in-process wake)."""
    if engine.dialect.name != "postgresql":
        return None
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PgListener(url, on_notify).start()
