"""The Zalo adapter end to end against the local Zalo Bot API emulator."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from bot.app import App
from bot.platforms.zalo import ZaloAdapter
from bot.runner import start_adapters
from handlers.meetings.cycle import materialise
from models.attendance import Attendance
from models.member import Identity, Member, new_link_code
from models.messages import Capabilities, Outgoing
from models.org import ChatBinding, Organisation
from models.outbox import ProcessedUpdate
from models.outbox_queue import enqueue
from models.settings import TelegramSettings, ZaloSettings
from tests.helpers import QLNS, SEC, serving, tick
from tests.test_cycle import DEC_MEETING
from tests.test_telegram import until
from tests.zalo_emulator import ZaloEmulator

FAST = Capabilities(buttons=False, max_text=2000, documents=False, photos=False,
                    global_per_second=500, group_per_minute=60000, private_per_second=500)
GROUP = "zg-qlns"


@dataclass
class ZL:
    emu: ZaloEmulator
    app: App
    adapter: ZaloAdapter

    async def said(self, message_id: str) -> None:
        """Until the bot has handled ``message_id`` (and everything before), then deliver."""
        await until(lambda: self.adapter.last_message_id == message_id)
        await self.app.sender.drain()

    def code(self, purpose: str, **kw: int) -> str:
        with Session(self.app.engine) as s:
            code = new_link_code(s, purpose=purpose, now=self.app.clock(), **kw).code
            s.commit()
        return code

    def member(self, name: str) -> Member:
        with Session(self.app.engine) as s:
            return s.exec(select(Member).where(Member.full_name == name)).one()

    def cell_id(self) -> int:
        with Session(self.app.engine) as s:
            return s.exec(select(Organisation.id).where(Organisation.name == QLNS)).one()

    async def link(self, name: str, uid: str) -> None:
        code = self.code("member", member_id=self.member(name).id or 0)
        await self.said(self.emu.say(uid, name, f"/start {code}"))


async def _adapter(app: App, emu: ZaloEmulator, files_dir: Path | None = None,
                   **settings: object) -> ZaloAdapter:
    settings.setdefault("mode", "polling")
    s = ZaloSettings(token=emu.token, base_url=emu.base_url, **settings)  # type: ignore[arg-type]
    adapter = ZaloAdapter(s, app.receive, capabilities=FAST, poll_interval=0.01, poll_timeout=1,
                          files_dir=files_dir)
    await adapter.start()
    app.add_messenger(adapter)
    return adapter


@pytest.fixture
async def zl(sample: App) -> AsyncIterator[ZL]:
    emu = ZaloEmulator()
    await emu.start()
    adapter = await _adapter(sample, emu)
    async with serving(adapter, emu):
        yield ZL(emu, sample, adapter)


async def test_linking_a_member_and_a_group(zl: ZL) -> None:
    await zl.said(zl.emu.say("z-stranger", "Ai đó", "xin chào"))
    assert "chưa được liên kết" in zl.emu.to("z-stranger")[-1].text
    await zl.link(SEC, "z101")
    assert "Dương Văn Thành" in zl.emu.to("z101")[-1].text
    code = zl.code("chat", org_id=zl.cell_id())
    await zl.said(zl.emu.say("z101", SEC, f"/link {code}", group=GROUP))
    assert "đã được gắn với" in zl.emu.to(GROUP)[-1].text
    with Session(zl.app.engine) as s:
        b = s.exec(select(ChatBinding).where(ChatBinding.platform == "zalo")).one()
        assert b.chat_id == GROUP and b.org_id == zl.cell_id()


async def test_monthly_cycle_in_a_group_with_numbered_and_worded_replies(zl: ZL) -> None:
    await zl.link(SEC, "z101")
    await zl.link("Hồ Đức Thắng", "z102")
    await zl.link("Mai Thị Phương", "z103")
    await zl.said(zl.emu.say("z101", SEC, f"/link {zl.code('chat', org_id=zl.cell_id())}",
                             group=GROUP))
    with Session(zl.app.engine) as s:
        materialise(s, zl.app.settings, zl.app.clock())
        s.commit()
    zl.app.clock.set(DEC_MEETING - timedelta(hours=72))  # type: ignore[attr-defined]
    await tick(zl.app)
    post = zl.emu.to(GROUP)[-1].text
    assert post.startswith("📢 THÔNG BÁO") and post.endswith("1. ✅ Có mặt\n2. 🚫 Vắng (báo lý do)")
    posted = len(zl.emu.to(GROUP))
    await zl.said(zl.emu.say("z102", "Hồ Đức Thắng", "1", group=GROUP))
    await zl.said(zl.emu.say("z103", "Mai Thị Phương", "vang", group=GROUP))  # no diacritics
    assert "lý do vắng" in zl.emu.to("z103")[-1].text
    await zl.said(zl.emu.say("z103", "Mai Thị Phương", "viec gia dinh"))
    # Zalo cannot edit a message: no line per answer, one tally when the slot ends.
    assert len(zl.emu.to(GROUP)) == posted
    zl.app.clock.set(DEC_MEETING - timedelta(hours=72) + timedelta(minutes=10))  # type: ignore[attr-defined]
    await tick(zl.app)
    assert len(zl.emu.to(GROUP)) == posted + 1
    tally = zl.emu.to(GROUP)[-1].text
    assert "có mặt 1, vắng 1, chưa trả lời 5" in tally
    assert "✅ Có mặt: Hồ Đức Thắng" in tally and "🚫 Vắng: Mai Thị Phương" in tally \
        and "Việc gia đình" not in tally
    with Session(zl.app.engine) as s:
        rows = {a.member_id: (a.rsvp, a.rsvp_reason) for a in s.exec(select(Attendance))}
    assert rows[zl.member("Hồ Đức Thắng").id] == ("yes", None)
    assert rows[zl.member("Mai Thị Phương").id] == ("no", "Việc gia đình")
    # Private reminders carry the same numbered choices; "co mat" answers them.
    zl.app.clock.set(DEC_MEETING - timedelta(hours=24))  # type: ignore[attr-defined]
    await tick(zl.app)
    assert zl.emu.to("z101")[-1].text.endswith("2. 🚫 Vắng (báo lý do)")
    await zl.said(zl.emu.say("z101", SEC, "co mat"))
    assert "Dương Văn Thành sẽ có mặt" in zl.emu.to("z101")[-1].text


async def test_scoring_form_by_numbered_replies(zl: ZL) -> None:
    await zl.link(SEC, "z101")
    with Session(zl.app.engine) as s:
        materialise(s, zl.app.settings, zl.app.clock())
        s.commit()
    zl.app.clock.set(DEC_MEETING + timedelta(hours=2))  # type: ignore[attr-defined]
    for text in ("/diemdanh", "1", "dung gio trong lich", "09:35", "4", "* c", "dung"):
        await zl.said(zl.emu.say("z101", SEC, text))
    assert "hợp lệ" in zl.emu.to("z101")[-1].text
    for text in ("/chamdiem", "3 2 2", "5 14 2 1 1 1", "du", "1 2 1 1", "27", "2 2",
                 "Kết luận.", "xong"):
        await zl.said(zl.emu.say("z101", SEC, text))
    assert "Tổng điểm" in zl.emu.to("z101")[-1].text
    await zl.said(zl.emu.say("z101", SEC, "1"))
    assert "Đã ghi điểm" in zl.emu.to("z101")[-1].text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_secret_wrapping_and_malformed_payloads(sample: App) -> None:
    emu = ZaloEmulator()
    await emu.start()
    port = _free_port()
    adapter = await _adapter(sample, emu, mode="webhook", webhook_secret="zalo-secret-1",
                             public_base_url=f"https://bot.example.vn:{port}", port=port)
    url = f"http://127.0.0.1:{port}/zalo"
    try:
        assert emu.webhook == {"url": f"https://bot.example.vn:{port}/zalo",
                               "secret": "zalo-secret-1"}
        good = emu.update("z500", "Khách", "/start")
        assert await emu.push_webhook(url, good, secret="wrong-secret") == 403
        assert await emu.push_webhook(url, good, secret=None) == 403
        assert await emu.push_webhook(url, b"{oops", secret="zalo-secret-1") == 400
        for bad in ({"event_name": "message.text.received"},
                    {"event_name": "message.text.received", "message": {"text": "x"}},
                    {"message": good["message"]}, [1, 2, 3]):
            assert await emu.push_webhook(url, bad, secret="zalo-secret-1") == 400, bad
        # An event we do not use is well formed: 200 and ignored (Zalo retries non-2xx).
        unknown = {"event_name": "nope", "message": good["message"]}
        assert await emu.push_webhook(url, unknown, secret="zalo-secret-1") == 200
        with Session(sample.engine) as s:
            assert s.exec(select(func.count()).select_from(ProcessedUpdate)).one() == 0
        assert await emu.push_webhook(url, good, secret="zalo-secret-1") == 200
        wrapped = emu.update("z501", "Khách 2", "/start")
        assert await emu.push_webhook(url, wrapped, secret="zalo-secret-1", wrapped=True) == 200
        await sample.sender.drain()
        assert emu.to("z500") and emu.to("z501")
        # getUpdates is refused while a webhook is set.
        from bot.platforms.zalo import ZaloApiError

        with pytest.raises(ZaloApiError):
            await adapter.call("getUpdates", {"timeout": "1"})
    finally:
        await adapter.stop()
        await emu.stop()


async def test_replayed_update_is_handled_once(zl: ZL) -> None:
    zl.emu.replay = True
    mid = zl.emu.say("z600", "Khách", "/start")
    await zl.said(mid)
    polls = zl.emu.calls.count("getUpdates")
    # The replayed copy has been fetched, and the adapter has polled again after it.
    await until(lambda: zl.emu.pending() == 0 and zl.emu.calls.count("getUpdates") > polls + 1)
    await zl.app.sender.drain()
    assert len(zl.emu.to("z600")) == 1
    with Session(zl.app.engine) as s:
        assert s.exec(select(func.count()).select_from(ProcessedUpdate)).one() == 1


async def test_long_text_split_unsupported_and_quota(zl: ZL) -> None:
    await zl.link(SEC, "z101")
    text = "\n".join(f"Dòng {i}: " + "x" * 90 for i in range(60))
    zl.emu.faults.extend([429, 500])
    with Session(zl.app.engine) as s:
        enqueue(s, Outgoing(platform="zalo", chat_id="z101", text=text, key="long"),
                now=zl.app.clock())
        s.commit()
    for _ in range(5):
        await zl.app.sender.drain()
        zl.app.clock.advance(seconds=30)  # type: ignore[attr-defined]
    parts = [m.text for m in zl.emu.to("z101")][1:]
    assert all(len(p) <= 2000 for p in parts) and "\n".join(parts) == text
    mid = zl.emu.push(zl.emu.update("z101", SEC, None, event="message.sticker.received"))
    await zl.said(mid)
    assert "chưa đọc được loại tin nhắn này" in zl.emu.to("z101")[-1].text


async def test_both_platforms_one_reminder_each_on_the_preferred_one(sample: App) -> None:
    from tests.tg_emulator import TelegramEmulator

    zemu, temu = ZaloEmulator(), TelegramEmulator()
    await zemu.start()
    tbase = await temu.start()
    sample.settings.telegram = TelegramSettings(token=temu.token, base_url=tbase)
    sample.settings.zalo = ZaloSettings(token="wrong-token", base_url=zemu.base_url,
                                        mode="polling")
    from bot.runner import build_adapters

    adapters = build_adapters(sample)
    started = await start_adapters(sample, adapters)
    try:
        # A bad Zalo token does not stop Telegram.
        assert [a.platform for a in started] == ["telegram"]
    finally:
        for a in started:
            await a.stop()
    sample.settings.zalo = ZaloSettings(token=zemu.token, base_url=zemu.base_url,
                                        mode="polling")
    started = await start_adapters(sample, build_adapters(sample))
    assert sorted(a.platform for a in started) == ["telegram", "zalo"]
    try:
        with Session(sample.engine) as s:
            m = s.exec(select(Member).where(Member.full_name == "Hồ Đức Thắng")).one()
            s.add(Identity(member_id=m.id, platform="telegram", platform_user_id="102",
                           private_chat_id="102"))
            s.add(Identity(member_id=m.id, platform="zalo", platform_user_id="z102",
                           private_chat_id="z102"))
            m.preferred_platform = "zalo"
            s.add(m)
            materialise(s, sample.settings, sample.clock())
            s.commit()
        sample.clock.set(DEC_MEETING - timedelta(hours=24))  # type: ignore[attr-defined]
        await tick(sample)
        got = [m.text.split("\n")[0] for m in zemu.to("z102")]
        # The cell has no group here: the notice and the reminder come privately, once
        # each, on Zalo only.
        assert got == ["📢 THÔNG BÁO SINH HOẠT CHI BỘ",
                       "🔔 Nhắc lịch: chi bộ sinh hoạt ngày mai lúc 07:30."]
        assert temu.to(102) == []
    finally:
        for a in started:
            await a.stop()
        await zemu.stop()
        await temu.stop()
