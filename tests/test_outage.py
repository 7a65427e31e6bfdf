"""Database outages while members send commands and the outbox has work (issue 14, 1–2).

The real `chibot run` runs as a subprocess polling the Telegram emulator (as in
test_crash). PostgreSQL refuses connections for 70 s (ALTER DATABASE … ALLOW_CONNECTIONS
false, on this test run's own database only), or another process holds the SQLite write
lock for 40 s. Afterwards: the process is alive, no update and no reply is lost, every
command is answered exactly once, and the log says "unavailable" and "back" instead of a
traceback per attempt.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlmodel import Session, select

from bot.app import App
from models.member import Identity, Member
from models.messages import Outgoing
from models.outbox import OutboxMessage
from models.outbox_queue import enqueue
from tests.conftest import PG_URL
from tests.test_telegram import until
from tests.tg_emulator import TelegramEmulator

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")

MEMBERS = 8
FAN_OUT = 120
ANSWER = "Lịch sinh hoạt"  # the reply to /lichhop


class BotProcess:
    def __init__(self, app: App, emu: TelegramEmulator, base: str, log_path: Path) -> None:
        self.env = {**os.environ,
                    "CHIBOT_DATABASE__URL": app.settings.database_url,
                    "CHIBOT_TELEGRAM__TOKEN": emu.token,
                    "CHIBOT_TELEGRAM__BASE_URL": base,
                    "CHIBOT_CYCLE__SWEEP_SECONDS": "5",  # the sweep meets the outage too
                    "CHIBOT_LOG_LEVEL": "WARNING"}
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=self.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=log)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode


@pytest.fixture
async def bot(sample: App, tmp_path: Path) -> AsyncIterator[tuple[App, TelegramEmulator,
                                                                  BotProcess]]:
    emu = TelegramEmulator(enforce_limits=False)
    base = await emu.start()
    proc = BotProcess(sample, emu, base, tmp_path / "bot.log")
    try:
        yield sample, emu, proc
    finally:
        await proc.stop()
        await emu.stop()


def _link_members(app: App) -> list[tuple[int, str]]:
    with Session(app.engine) as s:
        members = s.exec(select(Member).where(Member.active == True)  # noqa: E712
                         .order_by(Member.id).limit(MEMBERS)).all()
        users = []
        for i, m in enumerate(members):
            uid = 300 + i
            s.add(Identity(member_id=m.id, platform="telegram", platform_user_id=str(uid),
                           private_chat_id=str(uid)))
            users.append((uid, m.full_name))
        s.commit()
    return users


def _queue_fan_out(app: App) -> None:
    with Session(app.engine) as s:
        for i in range(FAN_OUT):
            enqueue(s, Outgoing(platform="telegram", chat_id=str(20_000 + i % 60),
                                text=f"nhắc lịch {i}", key=f"outage:{i}"), now=app.clock())
        s.commit()


async def _through_an_outage(app: App, emu: TelegramEmulator, bot: BotProcess,
                             outage: Callable[[], Awaitable[None]]) -> None:
    users = _link_members(app)
    await bot.start()
    for uid, name in users:  # a healthy round first: the bot is up and answering
        emu.user_message(emu.user(uid, name), "/lichhop")
    await until(lambda: all(any(ANSWER in x.text for x in emu.to(uid)) for uid, _ in users),
                timeout=90)
    _queue_fan_out(app)  # the outbox has work when the database goes away
    emu.send_delay = 0.02
    commands = Counter({uid: 1 for uid, _ in users})

    async def members_keep_asking() -> None:
        for rnd in range(2):
            if rnd:
                await asyncio.sleep(5)  # members write again later in the outage
            for uid, name in users:
                emu.user_message(emu.user(uid, name), "/lichhop")
                commands[uid] += 1

    await asyncio.gather(outage(), members_keep_asking())

    def settled() -> bool:
        answered = all(sum(ANSWER in x.text for x in emu.to(uid)) >= commands[uid]
                       for uid, _ in users)
        return answered and sum("nhắc lịch" in x.text for x in emu.sent) >= FAN_OUT

    def written() -> bool:  # a send's outcome is written just after the emulator has it
        with Session(app.engine) as s:
            return s.exec(select(OutboxMessage.id)
                          .where(OutboxMessage.status != "sent")).first() is None

    await until(settled, timeout=180)
    await until(written, timeout=60)
    assert bot.alive, "the bot process exited during the outage"
    for uid, _ in users:  # every command answered exactly once
        assert sum(ANSWER in x.text for x in emu.to(uid)) == commands[uid], uid
    fan = Counter(x.text for x in emu.sent if x.text.startswith("nhắc lịch"))
    assert set(fan) == {f"nhắc lịch {i}" for i in range(FAN_OUT)}
    assert max(fan.values()) == 1  # none sent twice
    assert await bot.stop() == 0  # and it still stops cleanly
    log = bot.log_path.read_text(encoding="utf-8", errors="replace")
    print(log)
    assert "Traceback" not in log
    assert log.count("database unavailable") == 1
    assert log.count("database available again") == 1
    assert len(log.splitlines()) < 12


@pytest.mark.skipif(not PG_URL, reason="needs CHIBOT_TEST_DATABASE_URL (PostgreSQL)")
async def test_postgres_refusing_connections_for_70_s_loses_nothing(
        bot: tuple[App, TelegramEmulator, BotProcess]) -> None:
    app, emu, proc = bot
    url = make_url(app.settings.database_url)
    dbname = url.database
    assert dbname and dbname not in ("postgres", "test"), "only this run's own database"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def refuse(allow: bool) -> None:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{dbname}" WITH ALLOW_CONNECTIONS '
                              f'{"true" if allow else "false"}'))
            if not allow:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :d AND pid <> pg_backend_pid()"),
                             {"d": dbname})

    async def outage() -> None:
        await asyncio.to_thread(refuse, False)
        try:
            await asyncio.sleep(70)  # the outage itself
        finally:
            await asyncio.to_thread(refuse, True)

    try:
        await _through_an_outage(app, emu, proc, outage)
    finally:
        refuse(True)
        admin.dispose()
        app.engine.dispose()  # its connections were terminated


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite case")
async def test_sqlite_write_lock_held_40_s_by_another_process_loses_nothing(
        bot: tuple[App, TelegramEmulator, BotProcess]) -> None:
    app, emu, proc = bot
    path = make_url(app.settings.database_url).database

    async def outage() -> None:
        holder = await asyncio.create_subprocess_exec(
            sys.executable, "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(40)\n"
            "c.execute('COMMIT')\n", str(path), stdout=asyncio.subprocess.PIPE)
        assert holder.stdout is not None
        assert (await holder.stdout.readline()).strip() == b"locked"
        assert await holder.wait() == 0

    await _through_an_outage(app, emu, proc, outage)
