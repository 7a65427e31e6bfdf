"""Faults: a month's cycle through 10% injected 429/5xx/timeouts loses nothing; two
senders on one queue never send the same row."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import App
from bot.platforms.telegram import TelegramAdapter
from bot.sender import OutboxSender
from handlers.meetings.cycle import materialise
from models.member import Identity, Member
from models.messages import Outgoing
from models.org import ChatBinding, Organisation
from models.outbox import OutboxMessage
from models.outbox_queue import enqueue
from models.settings import OutboxSettings, TelegramSettings
from tests.helpers import FakeClock, RecordingMessenger, tick
from tests.test_cycle import DEC_MEETING
from tests.test_telegram import FAST
from tests.tg_emulator import TelegramEmulator


async def test_a_month_through_ten_percent_faults_loses_nothing(sample: App) -> None:
    emu = TelegramEmulator(fault_rate=0.10, enforce_limits=False)
    base = await emu.start()
    adapter = TelegramAdapter(TelegramSettings(token=emu.token, base_url=base), sample.receive,
                              capabilities=FAST, read_timeout=0.5,
                              handle_many=sample.receive_many)
    await adapter.start()
    sample.add_messenger(adapter)
    sample.sender.settings = OutboxSettings(max_attempts=50)
    try:
        with Session(sample.engine) as s:
            # Every member of the bloc on Telegram; every cell with a group.
            for i, m in enumerate(s.exec(select(Member).where(Member.active == True))):  # noqa: E712
                s.add(Identity(member_id=m.id, platform="telegram",
                               platform_user_id=str(1000 + i), private_chat_id=str(1000 + i)))
            for j, cell in enumerate(s.exec(select(Organisation).where(
                    Organisation.kind == "cell"))):
                s.add(ChatBinding(platform="telegram", chat_id=str(-500 - j), org_id=cell.id))
            materialise(s, sample.settings, sample.clock())
            s.commit()
        clock: FakeClock = sample.clock  # type: ignore[assignment]
        end = DEC_MEETING + timedelta(days=4)
        clock.set(DEC_MEETING - timedelta(days=6))
        while clock() < end:
            clock.advance(hours=1)
            await tick(sample)
        for _ in range(30):  # let the retries of the last hours come due
            clock.advance(minutes=5)
            await sample.sender.drain()
        with Session(sample.engine) as s:
            rows = list(s.exec(select(OutboxMessage)))
        statuses = Counter(r.status for r in rows)
        assert statuses == {"sent": len(rows)}, statuses
        assert len(rows) > 100 and len(emu.injected) > 8
        assert set(emu.injected) == {"429", "500", "timeout"}
        # Everything arrived once: the emulator records a send only when it succeeds, and a
        # timed-out request never reached it.
        got = Counter((str(x.chat_id), x.text) for x in emu.sent)
        want = Counter((r.chat_id, r.payload["text"]) for r in rows)
        assert got == want
    finally:
        await adapter.stop()
        await emu.stop()


class SlowMessenger(RecordingMessenger):
    async def send(self, out: Outgoing):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.001)  # a real API call yields to the other sender
        return await super().send(out)


async def test_two_senders_on_one_queue_never_send_the_same_row(
        engine: Engine, clock: FakeClock) -> None:
    m = SlowMessenger()
    with Session(engine) as s:
        for i in range(400):
            enqueue(s, Outgoing(platform="console", chat_id=f"c{i % 50}", text=f"{i}",
                                key=f"k{i}"), now=clock())
        s.commit()
    a = OutboxSender(engine, {"console": m}, clock=clock, concurrency=8)
    b = OutboxSender(engine, {"console": m}, clock=clock, concurrency=8)
    sent_a, sent_b = await asyncio.gather(a.drain(), b.drain())
    keys = [o.key for o in m.sent]
    assert len(keys) == 400 and len(set(keys)) == 400
    assert sent_a > 0 and sent_b > 0  # both really worked the queue
    # Order per chat holds even with two senders.
    for c in range(50):
        texts = [int(o.text) for o in m.sent if o.chat_id == f"c{c}"]
        assert texts == sorted(texts)
