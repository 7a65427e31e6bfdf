"""Send pacing the outbox owns (not PTB's AIORateLimiter, which has known bugs)."""

from __future__ import annotations

import asyncio
import time

from models.messages import Capabilities


class PlatformPacer:
    """Spaces sends: one global interval, and one interval per chat (wider for groups).

    Spacing instead of bursting keeps us under Telegram's per-group window without ever
    needing its 429 to learn the limit. The global schedule may run up to ``burst`` slots
    behind and catch up, so slots missed while the event loop was busy are not lost; the
    burst is 2% of the rate, so rate + burst stays within any one-second window.
    """

    def __init__(self, caps: Capabilities, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self._global_gap = 1.0 / caps.global_per_second
        self._burst = max(int(caps.global_per_second * 0.02), 0)
        self.group_per_minute = caps.group_per_minute
        self._group_gap = 60.0 / caps.group_per_minute
        self._private_gap = 1.0 / caps.private_per_second
        self._clock = clock
        self._next_global = 0.0
        self._chat_ready: dict[str, float] = {}
        self._lock = asyncio.Lock()

    def chat_ready(self, chat_id: str) -> bool:
        return self.wait_for(chat_id) <= 0

    def wait_for(self, chat_id: str) -> float:
        return self._chat_ready.get(chat_id, 0.0) - self._clock()

    def delay_chat(self, chat_id: str, seconds: float) -> None:
        self._chat_ready[chat_id] = max(self._chat_ready.get(chat_id, 0.0),
                                        self._clock() + seconds)

    async def acquire(self, chat_id: str, is_group: bool) -> None:
        wait_chat = self._chat_ready.get(chat_id, 0.0) - self._clock()
        if wait_chat > 0:
            await asyncio.sleep(wait_chat)
        async with self._lock:
            now = self._clock()
            wait = self._next_global - now
            if wait > 0:
                await asyncio.sleep(wait)
                now = self._clock()
            floor = now - self._burst * self._global_gap  # at most ``burst`` slots of debt
            self._next_global = max(floor, self._next_global) + self._global_gap
        gap = self._group_gap if is_group else self._private_gap
        self._chat_ready[chat_id] = self._clock() + gap
        if len(self._chat_ready) > 50_000:  # forget chats that are long ready
            cutoff = self._clock()
            self._chat_ready = {k: v for k, v in self._chat_ready.items() if v > cutoff}
