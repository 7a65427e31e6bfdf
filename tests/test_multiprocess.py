"""Two `chibot run` processes in webhook mode behind one address, sharing one PostgreSQL.

The test plays the load balancer: it delivers a month's updates from the Telegram and
Zalo emulators to one process or the other, alternately (and a few twice, as Telegram
does when a webhook answer is late), while both processes sweep the cycle and drain the
one outbox. Every update must be handled once, every reminder sent once, and a form
continued across the two processes must lose no step.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from bot.app import App
from handlers.meetings.cycle import materialise
from models.attendance import Attendance
from models.base import utcnow
from models.meeting import Meeting
from models.member import Identity, Member
from models.org import ChatBinding, Organisation
from models.outbox import OutboxMessage, ProcessedUpdate
from models.schedule import ScheduledStep
from tests.conftest import PG_URL
from tests.helpers import QLNS, SEC
from tests.test_cycle import DEC_MEETING
from tests.test_telegram import until
from tests.tg_emulator import TelegramEmulator
from tests.zalo_emulator import ZaloEmulator

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="several processes need PostgreSQL "
                       "(set CHIBOT_TEST_DATABASE_URL)"),
    pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals"),
]

TG_SECRET = "multi-process-secret-1"
ZL_SECRET = "zalo-multi-secret"
GROUP = -1001
TG_MEMBERS = {SEC: 101, "Hồ Đức Thắng": 102, "Lý Thị Kim Oanh": 103, "Phan Thị Thúy": 105,
              "Châu Minh Tuấn": 106, "Tạ Thị Hạnh": 107}
ZL_MEMBER = ("Mai Thị Phương", "z104")
BEFORE_START = ("committee", "agenda_request", "agenda_post", "remind_24h", "remind_2h")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Proc:
    env: dict[str, str]
    tg_url: str
    zl_url: str
    proc: asyncio.subprocess.Process | None = None
    statuses: list[int] = field(default_factory=list)

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout=15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def _proc(app: App, temu: TelegramEmulator, tbase: str, zemu: ZaloEmulator) -> Proc:
    tport, zport = _free_port(), _free_port()
    env = {**os.environ,
           "CHIBOT_DATABASE__URL": app.settings.database_url,
           "CHIBOT_TELEGRAM__TOKEN": temu.token, "CHIBOT_TELEGRAM__BASE_URL": tbase,
           "CHIBOT_TELEGRAM__MODE": "webhook",
           "CHIBOT_TELEGRAM__WEBHOOK_URL": "https://bot.example.vn/telegram",
           "CHIBOT_TELEGRAM__WEBHOOK_SECRET": TG_SECRET,
           "CHIBOT_TELEGRAM__PORT": str(tport),
           "CHIBOT_ZALO__TOKEN": zemu.token, "CHIBOT_ZALO__BASE_URL": zemu.base_url,
           "CHIBOT_ZALO__WEBHOOK_SECRET": ZL_SECRET,
           "CHIBOT_ZALO__PUBLIC_BASE_URL": "https://bot.example.vn",
           "CHIBOT_ZALO__PORT": str(zport),
           "CHIBOT_CYCLE__SWEEP_SECONDS": "1",
           "CHIBOT_LOG_LEVEL": "WARNING"}
    return Proc(env, f"http://127.0.0.1:{tport}/telegram", f"http://127.0.0.1:{zport}/zalo")


@dataclass
class Farm:
    app: App
    temu: TelegramEmulator
    zemu: ZaloEmulator
    procs: list[Proc]
    turn: int = 0
    tg_updates: int = 0
    zl_updates: int = 0

    def next(self) -> Proc:
        self.turn += 1
        return self.procs[self.turn % 2]

    async def tg(self, update_id: int, *, twice: bool = False) -> None:
        """Deliver to the next process; ``twice``: Telegram retries on the other one."""
        self.tg_updates += 1
        targets = [self.next()] + ([self.procs[(self.turn + 1) % 2]] if twice else [])
        for p in targets:
            status = await self.temu.post_update(p.tg_url, update_id, TG_SECRET)
            p.statuses.append(status)
            assert status == 200

    async def zl(self, user: str, name: str, text: str) -> None:
        self.zl_updates += 1
        p = self.next()
        status = await self.zemu.push_webhook(p.zl_url, self.zemu.update(user, name, text),
                                              secret=ZL_SECRET)
        p.statuses.append(status)
        assert status == 200

    async def reply_to(self, chat_id: int, contains: str, timeout: float = 30) -> str:
        """Wait for the bot's next message to ``chat_id`` containing ``contains``."""
        await until(lambda: any(contains in m.text for m in self.temu.to(chat_id)), timeout)
        return next(m.text for m in reversed(self.temu.to(chat_id)) if contains in m.text)


def _prepare(app: App) -> int:
    """Link the cell's members, bind its group, and make its December steps due now."""
    with Session(app.engine) as s:
        cell = s.exec(select(Organisation).where(Organisation.name == QLNS)).one()
        for name, uid in TG_MEMBERS.items():
            m = s.exec(select(Member).where(Member.full_name == name)).one()
            s.add(Identity(member_id=m.id or 0, platform="telegram",
                           platform_user_id=str(uid), private_chat_id=str(uid)))
            m.preferred_platform = "telegram"
            s.add(m)
        m = s.exec(select(Member).where(Member.full_name == ZL_MEMBER[0])).one()
        s.add(Identity(member_id=m.id or 0, platform="zalo", platform_user_id=ZL_MEMBER[1],
                       private_chat_id=ZL_MEMBER[1]))
        m.preferred_platform = "zalo"
        s.add(m)
        s.add(ChatBinding(platform="telegram", chat_id=str(GROUP), org_id=cell.id or 0,
                          title="Chi bộ QLNS"))
        materialise(s, app.settings, app.clock())
        meeting = s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                               Meeting.scheduled_at == DEC_MEETING)).one()
        now = utcnow()
        # The processes run on the real clock: the meeting a few hours ahead of it, so that
        # RSVPs are still open whatever the day the test runs.
        meeting.scheduled_at = now + timedelta(hours=3)
        steps = sorted(s.exec(select(ScheduledStep).where(
            ScheduledStep.meeting_id == meeting.id,
            ScheduledStep.step.in_(BEFORE_START))), key=lambda st: st.due_at)
        for i, st in enumerate(steps):  # due now, in their order, and still of use
            st.due_at = now - timedelta(seconds=len(steps) - i)
            st.useful_until = meeting.scheduled_at
            s.add(st)
        s.commit()
        return meeting.id or 0


@pytest.fixture
async def farm(sample: App) -> AsyncIterator[Farm]:
    temu, zemu = TelegramEmulator(enforce_limits=False), ZaloEmulator()
    temu.add_group(GROUP, "Chi bộ QLNS")
    tbase = await temu.start()
    await zemu.start()
    procs = [_proc(sample, temu, tbase, zemu) for _ in range(2)]
    try:
        yield Farm(sample, temu, zemu, procs)
    finally:
        for p in procs:
            await p.stop()
        await temu.stop()
        await zemu.stop()


def _steps_done(app: App, meeting_id: int) -> bool:
    with Session(app.engine) as s:
        return all(st.status == "done" for st in s.exec(select(ScheduledStep).where(
            ScheduledStep.meeting_id == meeting_id, ScheduledStep.step.in_(BEFORE_START))))


def _outbox_settled(app: App) -> bool:
    with Session(app.engine) as s:
        return s.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status.in_(["pending", "sending"]))).one() == 0


async def test_two_processes_one_database_every_update_once_every_reminder_once(
        farm: Farm) -> None:
    app, temu, zemu = farm.app, farm.temu, farm.zemu
    meeting_id = _prepare(app)
    for p in farm.procs:
        await p.start()
    await until(lambda: [m for m, _p in temu.calls].count("setWebhook") == 2
                and zemu.calls.count("setWebhook") == 2, timeout=60)
    # Both processes sweep every second; each due step is claimed by one of them.
    await until(lambda: _steps_done(app, meeting_id), timeout=60)
    await until(lambda: _outbox_settled(app), timeout=60)
    post = next(m for m in temu.to(GROUP) if m.text.startswith("📢 THÔNG BÁO"))

    # RSVPs by button in the group, one process or the other (some delivered twice).
    users = {name: temu.user(uid, name) for name, uid in TG_MEMBERS.items()}
    for i, (name, user) in enumerate(users.items()):
        label = "Vắng" if name == "Phan Thị Thúy" else "Có mặt"
        await farm.tg(temu.press(user, post, label=label), twice=i % 3 == 0)
    await farm.reply_to(105, "lý do vắng")
    reason_prompt = next(m for m in reversed(temu.to(105)) if "lý do vắng" in m.text)
    await farm.tg(temu.press(users["Phan Thị Thúy"], reason_prompt, label="Đi công tác"))
    await farm.zl(ZL_MEMBER[1], ZL_MEMBER[0], "co mat")
    # Everyone asks for the schedule.
    for i, user in enumerate(users.values()):
        await farm.tg(temu.user_message(user, "/lichhop"), twice=i == 1)
    for uid in TG_MEMBERS.values():
        await farm.reply_to(uid, "Lịch sinh hoạt")
    # The secretary's exemption form, each step answered by the other process. Each step's
    # reply is looked for among the messages that came after it was sent (a reply queued
    # earlier may still arrive in between).
    sec = users[SEC]
    steps = [("/mien", "(1/3)"), ("3", "(2/3)"), ("2", "(3/3)"), ("-", "Hồ Đức Thắng"),
             ("1", "được miễn sinh hoạt")]
    for text, expect in steps:
        before = len(temu.to(101))
        await farm.tg(temu.user_message(sec, text))
        await until(lambda b=before, e=expect: any(  # type: ignore[misc]
            e in m.text for m in temu.to(101)[b:]), timeout=30)
    await until(lambda: _outbox_settled(app), timeout=60)

    # Both processes served updates (each POST answered 200 by the process it went to).
    assert all(p.statuses and set(p.statuses) == {200} for p in farm.procs)
    with Session(app.engine) as s:
        handled = Counter(s.exec(select(ProcessedUpdate.platform)).all())
        assert handled == {"telegram": farm.tg_updates, "zalo": farm.zl_updates}
        rsvp = {s.get(Member, a.member_id).full_name: (a.rsvp, a.rsvp_reason)  # type: ignore[union-attr]
                for a in s.exec(select(Attendance).where(Attendance.meeting_id == meeting_id))}
        thang = s.exec(select(Member).where(Member.full_name == "Hồ Đức Thắng")).one()
        failed = s.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "failed")).one()
    assert rsvp == {**{n: ("yes", None) for n in TG_MEMBERS if n != "Phan Thị Thúy"},
                    "Phan Thị Thúy": ("no", "Đi công tác"), ZL_MEMBER[0]: ("yes", None)}
    assert thang.exempted and thang.exempt_reason == "Sức khỏe yếu"
    assert failed == 0
    # Every button press answered once; every message sent once.
    answered = Counter(p["callback_query_id"] for m, p in temu.calls
                       if m == "answerCallbackQuery")
    assert answered and set(answered.values()) == {1}
    # (The two reminders made due at once here both say the time left then, alike: they
    # are counted below, two per member, not here.)
    tg_sent = Counter((m.chat_id, m.text) for m in temu.sent
                      if not m.text.startswith("🔔 Nhắc lịch"))
    zl_sent = Counter((m.chat_id, m.text) for m in zemu.sent
                      if not m.text.startswith("🔔 Nhắc lịch"))
    assert max(tg_sent.values()) == 1 and max(zl_sent.values()) == 1
    # One notice in the group; two reminders (a day and two hours before) per member.
    assert sum(1 for m in temu.to(GROUP) if m.text.startswith("📢 THÔNG BÁO")) == 1
    for uid in TG_MEMBERS.values():
        assert sum(1 for m in temu.to(uid) if m.text.startswith("🔔 Nhắc lịch")) == 2, uid
    assert sum(1 for m in zemu.to(ZL_MEMBER[1]) if m.text.startswith("🔔 Nhắc lịch")) == 2
