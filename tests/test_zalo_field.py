"""The real Zalo adapter against the documented failure shapes (issue 13): webhook by
default, errors as bot.zapps.me/docs/error-code/ lists them, quota backoff with a notice
to the secretary, mentions by display name, no empty text or caption."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from sqlmodel import Session, select

from bot import delivery
from bot.app import App
from bot.platforms.zalo import ZaloAdapter
from models.messages import Attachment, Capabilities, Outgoing
from models.org import ChatBinding
from models.outbox import OutboxMessage
from models.outbox_queue import enqueue
from models.settings import ZaloSettings
from tests.helpers import SEC, serving
from tests.test_zalo import GROUP, ZL, _adapter
from tests.zalo_emulator import ACCOUNT, DISPLAY, ZaloEmulator


@pytest.fixture
async def zl(sample: App) -> AsyncIterator[ZL]:
    emu = ZaloEmulator()
    await emu.start()
    adapter = await _adapter(sample, emu, display_name=DISPLAY)
    async with serving(adapter, emu):
        yield ZL(emu, sample, adapter)


def _queue(zl: ZL, chat: str, text: str, key: str, **kw: object) -> None:
    with Session(zl.app.engine) as s:
        enqueue(s, Outgoing(platform="zalo", chat_id=chat, text=text, key=key, **kw),  # type: ignore[arg-type]
                now=zl.app.clock())
        s.commit()


def _row(zl: ZL, key: str) -> OutboxMessage:
    with Session(zl.app.engine) as s:
        return s.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()


async def test_webhook_is_the_default_and_says_what_it_needs(sample: App) -> None:
    assert ZaloSettings().mode == "webhook"
    emu = ZaloEmulator()
    await emu.start()
    adapter = ZaloAdapter(ZaloSettings(token=emu.token, base_url=emu.base_url), sample.receive)
    try:
        with pytest.raises(RuntimeError, match=r"public_base_url.*webhook_secret"):
            await adapter.start()
        assert emu.webhook is None
    finally:
        await emu.stop()


async def test_errors_are_mapped_as_the_docs_list_them(zl: ZL) -> None:
    # 403 is listed as "Internal server error": retried, delivered.
    zl.emu.faults.extend([403, 408])
    _queue(zl, "z101", "thử lại", "e403")
    for _ in range(3):
        await zl.app.sender.drain()
        zl.app.clock.advance(seconds=10)  # type: ignore[attr-defined]
    assert [m.text for m in zl.emu.to("z101")] == ["thử lại"]
    assert _row(zl, "e403").status == "sent"
    # 400 Bad request and 404 Not found: the call itself is wrong; never retried.
    for code in (400, 404):
        zl.emu.faults.append(code)
        _queue(zl, "z102", f"lỗi {code}", f"e{code}")
        await zl.app.sender.drain()
        row = _row(zl, f"e{code}")
        assert row.status == "failed" and row.attempts == 1, code
    assert zl.emu.to("z102") == []


async def test_quota_backs_off_exponentially_to_a_ceiling_and_the_secretary_is_told(
        zl: ZL) -> None:
    await zl.link(SEC, "z101")
    await zl.link("Hồ Đức Thắng", "z102")
    zl.emu.faults.extend([429] * 10)  # "Quota exceeded", no retry hint
    _queue(zl, "z102", "nhắc lịch", "quota")
    waits = []
    while _row(zl, "quota").status != "sent":
        await zl.app.sender.drain()
        row = _row(zl, "quota")
        if row.status == "sent":
            break
        assert row.status == "pending"
        due = row.next_attempt_at.replace(tzinfo=zl.app.clock().tzinfo)
        waits.append((due - zl.app.clock()).total_seconds())
        zl.app.clock.set(due)  # type: ignore[attr-defined]
    assert waits == [5, 10, 20, 40, 80, 160, 320, 640, delivery.QUOTA_CEILING,
                     delivery.QUOTA_CEILING]
    assert [m.text for m in zl.emu.to("z102")].count("nhắc lịch") == 1  # delivered, once
    notices = [m.text for m in zl.emu.to("z101") if "hết hạn mức" in m.text]
    # Told once, when the message had waited 30 minutes (the 10th answer, after 36 min).
    assert notices == ["Tin nhắn của bot qua Zalo đang bị chậm (36 phút) vì Zalo báo đã hết "
                       "hạn mức gửi tin. Bot vẫn tự gửi lại; nếu việc gấp, đồng chí thông "
                       "báo trực tiếp cho các đồng chí trong chi bộ."]


async def test_mentions_by_display_name_and_account_name_are_stripped(zl: ZL) -> None:
    await zl.link(SEC, "z101")
    code = zl.code("chat", org_id=zl.cell_id())
    await zl.said(zl.emu.say("z101", SEC, f"/link {code}", group=GROUP, mention=DISPLAY))
    assert "đã được gắn với" in zl.emu.to(GROUP)[-1].text
    with Session(zl.app.engine) as s:
        assert s.exec(select(ChatBinding)).one().chat_id == GROUP
    await zl.said(zl.emu.say("z101", SEC, "/lichhop", group=GROUP, mention=ACCOUNT))
    assert "Lịch sinh hoạt" in zl.emu.to(GROUP)[-1].text
    # Picked from the mention list the name may come decomposed (NFD) or mid-sentence.
    import unicodedata

    nfd = unicodedata.normalize("NFD", f"/lichhop @{DISPLAY}")
    await zl.said(zl.emu.push(zl.emu.update("z101", SEC, nfd, group=GROUP)))
    assert "Lịch sinh hoạt" in zl.emu.to(GROUP)[-1].text
    assert zl.adapter._strip_mention(f"@{DISPLAY} 1") == ("1", True)
    assert zl.adapter._strip_mention("@Nguyễn Văn An 1") == ("@Nguyễn Văn An 1", False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_no_empty_text_or_caption_is_ever_sent(sample: App) -> None:
    emu = ZaloEmulator()
    await emu.start()
    port = _free_port()
    adapter = await _adapter(sample, emu, public_base_url=f"http://127.0.0.1:{port}",
                             port=port)
    adapter.capabilities = Capabilities(buttons=False, max_text=2000, documents=False,
                                        photos=True, global_per_second=500,
                                        group_per_minute=60000, private_per_second=500)
    sample.add_messenger(adapter)
    try:
        with Session(sample.engine) as s:
            for key, text, att in (("blank", "  \n ", None), ("empty", "", None),
                                   ("photo", "", Attachment("bieu-do.png", b"png", "photo"))):
                enqueue(s, Outgoing(platform="zalo", chat_id="z101", text=text, key=key,
                                    attachment=att), now=sample.clock())
            s.commit()
        await sample.sender.drain()
        with Session(sample.engine) as s:
            assert {r.idempotency_key: r.status for r in s.exec(select(OutboxMessage))} == {
                "blank": "sent", "empty": "sent", "photo": "sent"}
        assert [(m.method, m.text) for m in emu.to("z101")] == [("sendPhoto", "")]
        assert "sendMessage" not in emu.calls
    finally:
        await adapter.stop()
        await emu.stop()
