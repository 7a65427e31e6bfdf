"""kill -9 the real `chibot run` process and restart it: nothing owed or submitted is lost.

The bot runs as a subprocess polling the Telegram emulator, which lives in the test
process and counts what it receives.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlmodel import Session, select

from bot.app import App
from models.member import Identity, Member
from models.messages import Outgoing
from models.outbox import OutboxMessage
from models.outbox_queue import enqueue
from tests.test_telegram import until
from tests.tg_emulator import TelegramEmulator

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs kill -9")


class BotProcess:
    def __init__(self, app: App, emu: TelegramEmulator, base: str) -> None:
        self.env = {**os.environ,
                    "CHIBOT_DATABASE__URL": app.settings.database_url,
                    "CHIBOT_TELEGRAM__TOKEN": emu.token,
                    "CHIBOT_TELEGRAM__BASE_URL": base,
                    "CHIBOT_OUTBOX__LEASE_SECONDS": "1",  # re-send in-flight rows soon
                    "CHIBOT_CYCLE__SWEEP_SECONDS": "3600",
                    "CHIBOT_LOG_LEVEL": "WARNING"}
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            await self.kill()


@pytest.fixture
async def tg_proc(sample: App) -> AsyncIterator[tuple[App, TelegramEmulator, BotProcess]]:
    emu = TelegramEmulator(enforce_limits=False)
    base = await emu.start()
    bot = BotProcess(sample, emu, base)
    try:
        yield sample, emu, bot
    finally:
        await bot.stop()
        await emu.stop()


def _status(app: App) -> Counter[str]:
    with Session(app.engine) as s:
        return Counter(s.exec(select(OutboxMessage.status)).all())


async def test_kill_during_fan_out_loses_nothing_and_duplicates_only_in_flight(
        tg_proc: tuple[App, TelegramEmulator, BotProcess]) -> None:
    app, emu, bot = tg_proc
    n = 400
    with Session(app.engine) as s:
        for i in range(n):
            enqueue(s, Outgoing(platform="telegram", chat_id=str(10_000 + i % 200),
                                text=f"nhắc lịch {i}", key=f"fan:{i}"), now=app.clock())
        s.commit()
    emu.send_delay = 0.01  # a real API's latency keeps sends in flight
    await bot.start()
    await until(lambda: len(emu.sent) >= 60, timeout=60)
    await bot.kill()
    received_at_kill = len(emu.sent)
    in_flight = _status(app)["sending"]
    await bot.start()
    await until(lambda: _status(app)["sent"] == n, timeout=120)
    counts = Counter(x.text for x in emu.sent)
    duplicates = sum(c - 1 for c in counts.values())
    print(f"received before kill: {received_at_kill}, in flight at kill: {in_flight}, "
          f"duplicates after restart: {duplicates}")
    assert set(counts) == {f"nhắc lịch {i}" for i in range(n)}  # every reminder, at least once
    assert duplicates <= in_flight


async def test_kill_during_scoring_form_resumes_at_the_same_step(
        tg_proc: tuple[App, TelegramEmulator, BotProcess]) -> None:
    app, emu, bot = tg_proc
    with Session(app.engine) as s:
        sec = s.exec(select(Member).where(Member.full_name == "Dương Văn Thành")).one()
        s.add(Identity(member_id=sec.id, platform="telegram", platform_user_id="101",
                       private_chat_id="101"))
        s.commit()
    user = emu.user(101, "Dương Văn Thành")
    await bot.start()
    emu.user_message(user, "/mien")
    await until(lambda: any("(1/3)" in x.text for x in emu.to(101)), timeout=60)
    emu.user_message(user, "3")
    await until(lambda: any("(2/3)" in x.text for x in emu.to(101)), timeout=30)
    await bot.kill()
    await bot.start()
    emu.user_message(user, "2")  # the reason: step 2, where the secretary left off
    await until(lambda: any("(3/3)" in x.text for x in emu.to(101)), timeout=60)
    emu.user_message(user, "-")
    await until(lambda: "Hồ Đức Thắng" in emu.to(101)[-1].text, timeout=30)
    emu.user_message(user, "1")
    await until(lambda: "được miễn sinh hoạt" in emu.to(101)[-1].text, timeout=30)
    with Session(app.engine) as s:
        thang = s.exec(select(Member).where(Member.full_name == "Hồ Đức Thắng")).one()
        assert thang.exempted and thang.exempt_reason == "Sức khỏe yếu"
