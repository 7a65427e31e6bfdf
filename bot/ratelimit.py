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
    burst is 2% of the rate, so rate + burst stays within any one-second window. A private
    chat may take ``private_burst`` messages at once, then one per ``1/private_per_second``
    (a token bucket, kept as each chat's theoretical arrival time): a reply to someone who
    wrote twice in a second goes out at once, not a second later.
    """

    def __init__(self, caps: Capabilities, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self._global_gap = 1.0 / caps.global_per_second
        self._burst = max(int(caps.global_per_second * 0.02), 0)
        self.group_per_minute = caps.group_per_minute
        self._group_gap = 60.0 / caps.group_per_minute
        self._private_gap = 1.0 / caps.private_per_second
        self._private_slack = (max(caps.private_burst, 1) - 1) * self._private_gap
        self._clock = clock
        self._next_global = 0.0
        self._chat_ready: dict[str, float] = {}
        self._private_tat: dict[str, float] = {}  # when a private chat's bucket is full again
        self._lock = asyncio.Lock()

    def chat_ready(self, chat_id: str) -> bool:
        return self.wait_for(chat_id) <= 0

    def wait_for(self, chat_id: str) -> float:
        return self._chat_ready.get(chat_id, 0.0) - self._clock()

    def delay_chat(self, chat_id: str, seconds: float) -> None:
        self._chat_ready[chat_id] = max(self._chat_ready.get(chat_id, 0.0),
                                        self._clock() + seconds)

    async def acquire(self, chat_id: str, is_group: bool, chat_paced: bool = True) -> None:
        """Wait for this chat's turn and a global slot; ``chat_paced=False`` (a setting of
        the chat such as its menu, not a message in it) takes only the global slot."""
        wait_chat = self._chat_ready.get(chat_id, 0.0) - self._clock() if chat_paced else 0
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
        if not chat_paced:
            return
        now = self._clock()
        if is_group:
            self._chat_ready[chat_id] = now + self._group_gap
        else:
            tat = max(self._private_tat.get(chat_id, 0.0), now) + self._private_gap
            self._private_tat[chat_id] = tat
            self._chat_ready[chat_id] = tat - self._private_slack
        if len(self._chat_ready) > 50_000:  # forget chats that are long ready
            self._chat_ready = {k: v for k, v in self._chat_ready.items() if v > now}
            self._private_tat = {k: v for k, v in self._private_tat.items() if v > now}
