"""Story hooks on what a failed send meant (a ``Failure``): registered by handlers,
called by ``bot.delivery`` inside the session that settles the failed row, so whatever
a hook queues (a note to the secretary) commits together with the settlement."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.messages import Failure


@dataclass(frozen=True, slots=True)
class Settled:
    """A failed send as the hooks see it."""

    platform: str
    chat_id: str
    failure: Failure
    detail: str
    created_at: datetime  # when the message was queued
    member_id: int | None = None  # BLOCKED: the member whose private chat it was
    # BLOCKED: the first failure of this episode (the member just blocked the bot, or,
    # with no member_id, the bot was just thrown out of the group chat)
    newly_blocked: bool = False


Hook = Callable[[Any, Settled, datetime], None]  # (session, settled, now)
HOOKS: dict[Failure, list[Hook]] = defaultdict(list)


def on_failure(kind: Failure) -> Callable[[Hook], Hook]:
    """Register a story's reaction to a kind of failure."""
    def deco(fn: Hook) -> Hook:
        HOOKS[kind].append(fn)
        return fn

    return deco
