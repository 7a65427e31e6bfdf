"""Update intake for the adapters: the router's database work runs in a worker thread
(the event loop only awaits), and database outages are waited out.

- A transient database error (``models.dberrors.is_transient``) keeps the update: the
  intake backs off and tries again until the database answers, so the adapter
  acknowledges the update only once it is stored and handled. One log line when the
  database goes away and one when it is back (``DbHealth``), not a traceback per try.
- An update that fails for its own reason on a healthy database is tried
  ``Router.max_attempts`` times, then parked with one apology (``Router.park``).
- A polling batch is handled in one transaction (``handle_many``); when one of its
  updates fails for its own reason, each is handled alone as above.
- When ``stop`` is set during an outage the update is given back unacknowledged
  (``DatabaseUnavailable``), so the platform delivers it again after the restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from handlers.core.router import Router
from models.base import utcnow
from models.dberrors import DbHealth, backoff, describe, is_transient
from models.messages import Incoming

log = logging.getLogger(__name__)


class DatabaseUnavailable(RuntimeError):
    """Stopping while the database was unavailable: the update was not handled."""


class UpdateIntake:
    def __init__(self, router: Router, health: DbHealth,
                 stop: asyncio.Event | None = None) -> None:
        self.router = router
        self.health = health
        self.stop = stop
        self.last_handled_at: datetime | None = None  # wall clock, for /healthz

    async def handle(self, inc: Incoming) -> bool:
        """Handle ``inc`` once it can be stored; False for a duplicate."""
        failures = 0
        while True:
            try:
                result = await self._transiently(self.router.process, inc)
                return result
            except DatabaseUnavailable:
                raise
            except Exception as exc:
                failures += 1
                if failures >= self.router.max_attempts:
                    await self._transiently(self.router.park, inc, exc, failures)
                    return True
                log.warning("update %s:%s failed (attempt %d): %s", inc.platform,
                            inc.update_id, failures, describe(exc))

    async def handle_many(self, incs: Sequence[Incoming]) -> list[bool]:
        """Handle a polling batch, in order, in one transaction; when an update of it
        fails for its own reason, nothing of the batch was committed and each update is
        handled alone, as ``handle`` does (retried, then parked)."""
        if len(incs) == 1:
            return [await self.handle(incs[0])]
        try:
            return await self._transiently(self.router.process_batch, incs)
        except DatabaseUnavailable:
            raise
        except Exception as exc:
            log.warning("a batch of %d updates failed (%s); handling them one by one",
                        len(incs), describe(exc))
        return [await self.handle(inc) for inc in incs]

    async def _transiently(self, fn, *args):  # type: ignore[no-untyped-def]
        """Run ``fn`` in a worker thread until it does not fail for a transient reason."""
        outage = 0
        while True:
            try:
                result = await asyncio.to_thread(fn, *args)
            except Exception as exc:
                if not is_transient(exc):
                    self.health.ok()  # the database answered: the work itself failed
                    raise
                outage += 1
                self.health.failed("updates", exc)
                if await self._stopped_within(backoff(outage)):
                    raise DatabaseUnavailable(describe(exc)) from None
                continue
            self.health.ok()
            self.last_handled_at = utcnow()
            return result

    async def _stopped_within(self, seconds: float) -> bool:
        if self.stop is None:
            await asyncio.sleep(seconds)
            return False
        try:
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True
