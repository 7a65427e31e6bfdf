"""Two `chibot run` processes on one PostgreSQL and one busy group: one sender per
platform (bot/leader.py) keeps Telegram's 20 messages a minute per group across the
processes, and when that sender is killed (kill -9) the other process takes over: every
message arrives once, in order, with no 429 from the emulator (which enforces the limit)."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest
from sqlmodel import Session, select

from bot.app import App
from bot.leader import holder_pid
from models.messages import Outgoing
from models.org import ChatBinding, Organisation
from models.outbox import OutboxMessage
from models.outbox_queue import enqueue
from tests.conftest import PG_URL
from tests.helpers import QLNS
from tests.test_multiprocess import _proc
from tests.test_telegram import until
from tests.tg_emulator import TelegramEmulator, max_per_minute
from tests.zalo_emulator import ZaloEmulator

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="several processes need PostgreSQL "
                       "(set CHIBOT_TEST_DATABASE_URL)"),
    pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals"),
]

GROUP = -1002
MESSAGES = 24
KILL_AFTER = 7  # messages sent by the first sender before it is killed



def ours(temu: TelegramEmulator) -> list:  # type: ignore[type-arg]
    return [m for m in temu.to(GROUP) if m.text.startswith("Thông báo ")]



async def test_one_busy_group_two_processes_the_sender_killed(sample: App) -> None:
    temu, zemu = TelegramEmulator(), ZaloEmulator()  # Telegram's limits enforced
    temu.add_group(GROUP, "Chi bộ QLNS")
    tbase = await temu.start()
    await zemu.start()
    with Session(sample.engine) as s:
        cell = s.exec(select(Organisation).where(Organisation.name == QLNS)).one()
        s.add(ChatBinding(platform="telegram", chat_id=str(GROUP), org_id=cell.id or 0))
        s.commit()
    procs = [_proc(sample, temu, tbase, zemu) for _ in range(2)]
    try:
        for p in procs:
            await p.start()
        await until(lambda: [m for m, _p in temu.calls].count("setWebhook") == 2, timeout=60)
        with Session(sample.engine) as s:
            for i in range(MESSAGES):
                enqueue(s, Outgoing(platform="telegram", chat_id=str(GROUP),
                                    text=f"Thông báo {i + 1}", key=f"busy:{i}"),
                        now=sample.clock(), is_group=True)
            s.commit()
        await until(lambda: len(ours(temu)) >= KILL_AFTER, timeout=60)

        def settled() -> bool:  # nothing in flight: a kill now duplicates nothing
            with Session(sample.engine) as s:
                return not s.exec(select(OutboxMessage.id).where(
                    OutboxMessage.status == "sending")).first()

        await until(settled, timeout=10)
        pid = holder_pid(sample.engine, "telegram")
        assert pid in {p.proc.pid for p in procs if p.proc is not None}
        os.kill(pid, signal.SIGKILL)
        killed_at, before = time.monotonic(), len(temu.to(GROUP))
        await until(lambda: len(ours(temu)) >= MESSAGES, timeout=MESSAGES * 3.5 + 60)
        survivor = holder_pid(sample.engine, "telegram")
    finally:
        for p in procs:
            await p.stop()
        await temu.stop()
        await zemu.stop()
    sent = temu.to(GROUP)
    takeover = sent[before].at - killed_at if len(sent) > before else float("inf")
    times = [m.at for m in sent]
    print(f"{len(sent)} messages to one group in {times[-1] - times[0]:.0f} s, at most "
          f"{max_per_minute(times)} in any minute, {temu.status_429} x 429; sender killed "
          f"after {before}, next message {takeover:.1f} s later")
    assert survivor is not None and survivor != pid
    # (the cycle's own posts to the bound group share the limit, and are counted too)
    assert [m.text for m in ours(temu)] == [f"Thông báo {i + 1}" for i in range(MESSAGES)]
    assert len({m.text for m in sent}) == len(sent)  # no duplicate of theirs either
    assert temu.status_429 == 0
    assert max_per_minute(times) <= 20
    assert takeover < 30
