"""One APScheduler interval job sweeps due cycle steps; the database holds what is due.

APScheduler's persistent job stores are not used: in 3.x they are single-process and
at-most-once. The job only calls ``tick``, which is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from handlers.meetings.cycle import SweepResult, materialise, sweep
from models.dberrors import DbHealth, is_transient
from models.settings import Settings

log = logging.getLogger(__name__)


class CycleRunner:
    def __init__(self, engine: Engine, settings: Settings,
                 clock: Callable[[], datetime], health: DbHealth | None = None) -> None:
        self.engine = engine
        self.health = health or DbHealth()
        self.settings = settings
        self.clock = clock
        self._last_materialise: datetime | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._busy = False
        self._running: asyncio.Task[None] | None = None  # the tick in progress

    def tick(self) -> SweepResult:
        """Materialise coming meetings (hourly), then sweep due steps into the outbox."""
        now = self.clock()
        if self._last_materialise is None or now - self._last_materialise >= timedelta(hours=1):
            try:
                with Session(self.engine) as s:
                    created = materialise(s, self.settings, now)
                    s.commit()
            except IntegrityError:
                # A member's /lichhop materialised the same meeting meanwhile (updates are
                # handled in parallel with this tick): the next tick sees it and goes on.
                log.info("meetings materialised concurrently; again at the next tick")
            else:
                if created:
                    log.info("materialised %d meetings", created)
                self._last_materialise = now
        result = sweep(self.engine, self.settings, now)
        if result.done or result.missed:
            log.info("cycle sweep: %d sent, %d missed", result.done, result.missed)
        return result

    async def _job(self) -> None:
        if self._busy:  # a tick waiting for a locked database: this one is not needed
            return
        self._busy = True
        self._running = asyncio.current_task()  # type: ignore[assignment]
        try:
            await self._tick_logged()
        except asyncio.CancelledError:
            # Stopping: the loop cancels a sweep still waiting on its thread. The sweep's
            # transaction commits or rolls back whole, so there is nothing to report (and
            # APScheduler would log the cancellation as a job error with a traceback).
            log.debug("cycle sweep cancelled at shutdown")
        finally:
            self._busy = False
            self._running = None
        self._running: asyncio.Task[None] | None = None  # the tick in progress

    async def _tick_logged(self) -> None:
        """The tick runs in a worker thread; a database error never ends the process: a
        transient one is logged once per outage (the next interval retries), any other
        with its traceback."""
        try:
            result = await asyncio.to_thread(self.tick)
        except Exception as exc:
            if is_transient(exc):
                self.health.failed("cycle sweep", exc)
            else:
                log.exception("cycle tick failed")
            return
        if result.done or result.missed or result.cancelled:  # it wrote: writes work
            self.health.ok()

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(self._job, IntervalTrigger(seconds=self.settings.cycle
                                                           .sweep_seconds),
                                # 2: an overlapping run returns at once (``_busy``) instead
                                # of APScheduler logging a warning per skipped run.
                                max_instances=2, coalesce=True, next_run_time=self.clock())
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)

    async def stop(self, timeout: float = 2.0) -> None:
        """No more ticks; the one in progress may finish (at most ``timeout`` s, so that
        a stop stays quick), instead of being cancelled mid-way at the loop's end."""
        self.shutdown()
        task = self._running
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=timeout)
