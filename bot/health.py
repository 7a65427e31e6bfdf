"""``GET /healthz`` for monitoring: is the database answering, when was the last update
handled, how deep is the outbox.

The answer is JSON::

    {"status": "ok" | "degraded", "database": "ok" | "down",
     "last_update_at": "2026-12-02T16:40:00Z" | null,
     "outbox_pending": 3, "outbox_oldest_pending_s": 12.5 | null}

HTTP 200 when the database answers, 503 when it does not (then ``outbox_pending`` is null:
nobody could count). ``degraded`` with 200: the database answers but a message has waited
in the outbox longer than ``STALE_OUTBOX_S`` (the sender or a platform is stuck).

The probe runs in a worker thread on an engine of its own (no pool, short connect and
statement timeouts), so a dead database or an exhausted pool of the bot's engine never
holds the event loop, and one probe at a time is in flight however often it is polled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.pool import NullPool

from models.base import utcnow
from models.dberrors import describe
from models.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 3.0  # seconds the database has to answer
STALE_OUTBOX_S = 900.0  # a message waiting longer than this makes the status "degraded"
_WAITING = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)


def probe_engine(url: str, timeout: float = PROBE_TIMEOUT) -> Engine:
    """A connection per probe, bounded in time: what a monitor needs to know is whether a
    new connection can be made and answer now."""
    if url.startswith("postgresql"):
        ms = int(timeout * 1000)
        args: dict[str, Any] = {"connect_timeout": max(1, int(timeout)),
                                "options": f"-c statement_timeout={ms}"}
    else:
        args = {"timeout": timeout, "check_same_thread": False}
    return create_engine(url, poolclass=NullPool, connect_args=args)


def _iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    if at.tzinfo is None:  # stored UTC without a zone (SQLite)
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class HealthProbe:
    """What ``/healthz`` reports. ``last_update`` returns when this process last handled
    an update (None: not yet since start)."""

    def __init__(self, engine: Engine, last_update: Callable[[], datetime | None],
                 timeout: float = PROBE_TIMEOUT) -> None:
        self.engine = engine
        self.last_update = last_update
        self.timeout = timeout
        self._inflight: asyncio.Future[tuple[int, float | None]] | None = None

    def _outbox(self) -> tuple[int, float | None]:
        """Runs in a worker thread: the outbox's depth and the age of its oldest row."""
        ob = OutboxMessage.__table__  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            waiting = ob.c.status.in_(_WAITING)
            pending = conn.execute(select(func.count()).select_from(ob).where(waiting))
            count = int(pending.scalar_one())
            oldest = conn.execute(select(ob.c.created_at).where(waiting)
                                  .order_by(ob.c.id).limit(1)).scalar()
        if oldest is None:
            return count, None
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return count, max(0.0, round((utcnow() - oldest).total_seconds(), 1))

    async def report(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body); never raises."""
        body: dict[str, Any] = {"status": "ok", "database": "ok",
                                "last_update_at": _iso(self.last_update()),
                                "outbox_pending": None, "outbox_oldest_pending_s": None}
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.ensure_future(asyncio.to_thread(self._outbox))
            # Its error is read here, also when the caller stopped waiting for it.
            self._inflight.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            count, oldest = await asyncio.wait_for(asyncio.shield(self._inflight),
                                                   self.timeout)
        except Exception as exc:  # a timeout or any database error: the database is down
            reason = (f"no answer in {self.timeout:.0f} s" if isinstance(exc, TimeoutError)
                      else describe(exc))
            log.warning("healthz: database down (%s)", reason)
            body.update(status="degraded", database="down")
            return 503, body
        body.update(outbox_pending=count, outbox_oldest_pending_s=oldest)
        if oldest is not None and oldest > STALE_OUTBOX_S:
            body["status"] = "degraded"
        return 200, body


def add_health_routes(app: web.Application, probe: HealthProbe) -> None:
    """Mount ``GET /healthz`` on ``app`` (the server `chibot run` serves)."""

    async def healthz(_request: web.Request) -> web.Response:
        status, body = await probe.report()
        return web.json_response(body, status=status,
                                 headers={"Cache-Control": "no-store"})

    app.router.add_get("/healthz", healthz)
