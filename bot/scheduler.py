"""One APScheduler interval job sweeps due cycle steps; the database holds what is due.

APScheduler's persistent job stores are not used: in 3.x they are single-process and
at-most-once. The job only calls ``tick``, which is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import Settings
from handlers.cycle import SweepResult, materialise, sweep

log = logging.getLogger(__name__)


class CycleRunner:
    def __init__(self, engine: Engine, settings: Settings,
                 clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self._last_materialise: datetime | None = None
        self._scheduler: AsyncIOScheduler | None = None

    def tick(self) -> SweepResult:
        """Materialise coming meetings (hourly), then sweep due steps into the outbox."""
        now = self.clock()
        if self._last_materialise is None or now - self._last_materialise >= timedelta(hours=1):
            with Session(self.engine) as s:
                created = materialise(s, self.settings, now)
                s.commit()
            if created:
                log.info("materialised %d meetings", created)
            self._last_materialise = now
        result = sweep(self.engine, self.settings, now)
        if result.done or result.missed:
            log.info("cycle sweep: %d sent, %d missed", result.done, result.missed)
        return result

    async def _job(self) -> None:
        try:
            self.tick()
        except Exception:
            log.exception("cycle tick failed")

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(self._job, IntervalTrigger(seconds=self.settings.cycle
                                                           .sweep_seconds),
                                max_instances=1, coalesce=True, next_run_time=self.clock())
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
