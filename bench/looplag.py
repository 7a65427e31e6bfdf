"""Event-loop lag sampler for the benches: how long the loop was kept from running.

A task sleeps ``interval`` seconds in a loop and records how much later than asked it
woke up; the largest overshoot is the longest time anything blocked the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time


class LoopLag:
    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.samples.append(max(time.perf_counter() - t0 - self.interval, 0.0))

    def start(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._sample())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def max_ms(self) -> float:
        return max(self.samples, default=0.0) * 1000

    def summary(self) -> str:
        if not self.samples:
            return "loop lag: no samples"
        p99 = (statistics.quantiles(self.samples, n=100)[98] if len(self.samples) >= 100
               else max(self.samples))
        return (f"event-loop lag: max {self.max_ms:.0f} ms, p99 {p99 * 1000:.1f} ms "
                f"({len(self.samples)} samples; target max < 50 ms)")
