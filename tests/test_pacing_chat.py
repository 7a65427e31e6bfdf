"""Per-chat pacing of the outbox: what holds a reply back in a private chat, and what not.

The pacer's clock is a fake and its sleeps are recorded instead of slept, so each test
sees exactly how long a send would have waited for its chat.
"""

from __future__ import annotations

import asyncio
import types

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot import ratelimit
from bot.ratelimit import PlatformPacer
from bot.sender import OutboxSender
from models.messages import Capabilities, MenuCommand, Outgoing
from models.outbox_queue import enqueue
from tests.helpers import FakeClock, RecordingMessenger

T0 = FakeClock().now


def _caps(private_burst: int = 1) -> Capabilities:
    """Telegram's per-chat limits, with a global rate that never holds a test back."""
    return Capabilities(buttons=True, max_text=4096, global_per_second=100_000,
                        group_per_minute=19, private_per_second=1,
                        private_burst=private_burst)


class Slept:
    """Stands in for ``asyncio`` inside bot.ratelimit: records each sleep, advances the
    pacer's clock by it, returns at once."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []
        self.Lock = asyncio.Lock

    def clock(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> Slept:
    s = Slept()
    monkeypatch.setattr(ratelimit, "asyncio", types.SimpleNamespace(sleep=s.sleep, Lock=s.Lock))
    return s


async def test_a_private_chat_takes_a_short_burst_then_one_a_second(slept: Slept) -> None:
    pacer = PlatformPacer(_caps(private_burst=3), clock=slept.clock)
    for _ in range(3):  # a person who wrote three times gets three answers at once
        await pacer.acquire("p", is_group=False)
    assert sum(slept.sleeps) < 0.01
    for _ in range(4):  # then the pace is one a second again
        await pacer.acquire("p", is_group=False)
    assert sum(slept.sleeps) == pytest.approx(4.0, abs=0.01)
    # Over any longer stretch the chat gets no more than burst + seconds x 1 messages.
    slept.t += 10
    start, sleeps0 = slept.t, sum(slept.sleeps)
    for _ in range(13):
        await pacer.acquire("p", is_group=False)
    assert slept.t - start == pytest.approx(10.0, abs=0.01)
    assert sum(slept.sleeps) - sleeps0 == pytest.approx(10.0, abs=0.01)


async def test_a_group_has_no_burst(slept: Slept) -> None:
    pacer = PlatformPacer(_caps(private_burst=3), clock=slept.clock)
    await pacer.acquire("g", is_group=True)
    assert not pacer.chat_ready("g")
    await pacer.acquire("g", is_group=True)
    assert slept.sleeps == [pytest.approx(60 / 19)]


async def test_a_reply_does_not_wait_behind_a_menu_refresh_of_its_chat(
        engine: Engine, clock: FakeClock, slept: Slept) -> None:
    """A member's command menu (setMyCommands) queued just before a reply in their chat:
    the menu is a setting of the chat, not a message in it, so it takes no turn of the
    chat's pace and the reply goes out right after it, not a second later."""
    m = RecordingMessenger(capabilities=_caps(private_burst=1))
    with Session(engine) as s:
        enqueue(s, Outgoing(platform="console", chat_id="p1", text="",
                            menu=(MenuCommand("toi", "Thông tin của tôi", True, False),),
                            key="menu:p1:x"), now=T0)
        enqueue(s, Outgoing(platform="console", chat_id="p1", text="Chào đồng chí",
                            key="r:p1:1"), now=T0)
        s.commit()
    sender = OutboxSender(engine, {"console": m}, clock=clock)
    sender.pacers["console"] = PlatformPacer(m.capabilities, clock=slept.clock)
    # The pacer's clock stands still: a reply held for its chat's turn would never be
    # claimed, so the guard below ends the drain (and fails the test) instead of hanging.
    assert await asyncio.wait_for(sender.drain(), timeout=10) == 2
    assert [o.menu is not None for o in m.sent] == [True, False]
    assert m.texts("p1")[-1] == "Chào đồng chí"
    assert max(slept.sleeps, default=0) < 0.01  # no wait for the chat's turn
    # The reply did take the chat's turn: a next message waits for it.
    assert sender.pacers["console"].wait_for("p1") == pytest.approx(1.0)
