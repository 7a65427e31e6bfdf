"""Stopping and losing a platform, with real `chibot run` processes: SIGTERM ends a
polling process within 3 s with what was in flight delivered; a Telegram 401 stops the
Telegram adapter only, with one plain log line, and the process exits non-zero only when
no platform is left."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from bot.app import App
from models.member import Identity, Member
from models.messages import Outgoing
from models.outbox import OutboxMessage
from models.outbox_queue import enqueue
from tests.test_telegram import until
from tests.tg_emulator import TelegramEmulator
from tests.zalo_emulator import ZaloEmulator

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")

ROOT = Path(__file__).resolve().parent.parent


def _env(app: App, **extra: str) -> dict[str, str]:
    return {**os.environ, "CHIBOT_DATABASE__URL": app.settings.database_url,
            "CHIBOT_DATA_DIR": str(app.settings.data_dir), "CHIBOT_LOG_LEVEL": "INFO",
            "CHIBOT_CYCLE__SWEEP_SECONDS": "1", **extra}


async def _start(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)


def _link(app: App, name: str, uid: int) -> None:
    with Session(app.engine) as s:
        m = s.exec(select(Member).where(Member.full_name == name)).one()
        s.add(Identity(member_id=m.id or 0, platform="telegram", platform_user_id=str(uid),
                       private_chat_id=str(uid)))
        s.commit()


async def test_sigterm_stops_a_polling_process_within_3_s(sample: App) -> None:
    """The process is in its 25-second long poll, replies queued for a member who asked
    several things at once: SIGTERM cancels the poll, the replies already being sent are
    finished and recorded, and the process exits 0 within 3 s."""
    emu = TelegramEmulator(max_poll=60)  # a poll held as long as Telegram holds it
    base = await emu.start()
    _link(sample, "Dương Văn Thành", 301)
    proc = await _start(_env(sample, CHIBOT_TELEGRAM__TOKEN=emu.token,
                             CHIBOT_TELEGRAM__BASE_URL=base))
    try:
        await until(lambda: any(m == "getUpdates" for m, _p in emu.calls), timeout=60)
        user = emu.user(301, "Thành")
        for text in ("/lichhop", "/toi", "/help"):
            emu.user_message(user, text)
        await until(lambda: len(emu.to(301)) >= 1, timeout=30)
        await until(lambda: emu.pending_updates() == 0 and emu._poller is not None
                    and not emu._poller.done(), timeout=10)  # back in a held long poll
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
        took = time.monotonic() - t0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await emu.stop()
    print(f"SIGTERM -> exit: {took:.2f} s")
    assert proc.returncode == 0, out.decode()[-2000:]
    assert took < 3.0, f"took {took:.1f} s"
    with Session(sample.engine) as s:  # nothing left half-sent, every send recorded
        status = dict(s.exec(select(OutboxMessage.status, func.count())
                             .group_by(OutboxMessage.status)).all())
        texts_sent = s.exec(select(func.count()).where(  # menus are not messages
            OutboxMessage.status == "sent", OutboxMessage.chat_id == "301",
            OutboxMessage.idempotency_key.not_like("menu:%"))).one()  # type: ignore[attr-defined]
    assert "sending" not in status
    assert texts_sent == len(emu.to(301))


def _token_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "token was refused" in line]


async def test_a_telegram_401_while_polling_stops_telegram_only(sample: App) -> None:
    """Telegram refuses the token mid-run (revoked in @BotFather): one plain log line,
    no traceback; Zalo goes on answering; the process still stops cleanly (exit 0)."""
    tg, zalo = TelegramEmulator(), ZaloEmulator()
    base = await tg.start()
    await zalo.start()
    proc = await _start(_env(sample, CHIBOT_TELEGRAM__TOKEN=tg.token,
                             CHIBOT_TELEGRAM__BASE_URL=base, CHIBOT_ZALO__TOKEN=zalo.token,
                             CHIBOT_ZALO__BASE_URL=zalo.base_url,
                             CHIBOT_ZALO__MODE="polling"))
    try:
        await until(lambda: any(m == "getUpdates" for m, _p in tg.calls)
                    and "getUpdates" in zalo.calls, timeout=60)
        tg.token = "123456:REVOKED"  # every call with the old token now answers 401
        seen: list[str] = []
        while not _token_lines("".join(seen)):  # the next poll meets the 401
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
            assert line, "".join(seen)[-2000:]
            seen.append(line.decode())
        with Session(sample.engine) as s:  # queued for Telegram after it went away
            enqueue(s, Outgoing(platform="telegram", chat_id="301", text="Nhắc lịch",
                                key="after-401"), now=sample.clock())
            s.commit()
        zalo.say("z77", "Khách", "/help")
        await until(lambda: bool(zalo.to("z77")), timeout=30)  # Zalo still served
        with Session(sample.engine) as s:  # not tried against the refused token: it waits
            row = s.exec(select(OutboxMessage).where(
                OutboxMessage.idempotency_key == "after-401")).one()
            assert (row.status, row.attempts) == ("pending", 0)
        assert proc.returncode is None
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
        out = "".join(seen).encode() + out
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await tg.stop()
        await zalo.stop()
    log = out.decode()
    assert proc.returncode == 0, log[-2000:]
    lines = _token_lines(log)
    assert len(lines) == 1 and "still serving zalo" in lines[0], log[-2000:]
    assert "Traceback" not in log, log[max(log.find("Traceback") - 300, 0):][:2500]


async def test_a_telegram_401_with_no_other_platform_ends_the_process(sample: App) -> None:
    tg = TelegramEmulator()
    base = await tg.start()
    proc = await _start(_env(sample, CHIBOT_TELEGRAM__TOKEN=tg.token,
                             CHIBOT_TELEGRAM__BASE_URL=base))
    try:
        await until(lambda: any(m == "getUpdates" for m, _p in tg.calls), timeout=60)
        tg.token = "123456:REVOKED"
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)  # ends by itself
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await tg.stop()
    log = out.decode()
    assert proc.returncode == 1, log[-2000:]
    lines = _token_lines(log)
    assert len(lines) == 1 and "no platform is left" in lines[0], log[-2000:]
    assert "Traceback" not in log, log[max(log.find("Traceback") - 300, 0):][:2500]
