"""The real Telegram adapter end to end against the local Bot API emulator."""

from __future__ import annotations

import asyncio
import html
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import pytest
from sqlmodel import Session, select

from bot.app import App
from bot.platforms.telegram import TelegramAdapter
from handlers.meetings.cycle import materialise
from models.attendance import Attendance
from models.meeting import Meeting
from models.member import Identity, Member, new_link_code
from models.messages import Attachment, Button, Capabilities, Outgoing
from models.org import ChatBinding, Organisation
from models.outbox import OutboxMessage
from models.outbox_queue import enqueue
from models.settings import TelegramSettings
from tests.helpers import QLNS, SEC, serving, tick
from tests.test_cycle import DEC_MEETING
from tests.tg_emulator import BOT_USERNAME, TelegramEmulator

FAST = Capabilities(buttons=True, max_text=4096, edit=True, global_per_second=300,
                    group_per_minute=6000, private_per_second=100)
GROUP = -1001


async def until(cond: Callable[[], bool], timeout: float = 10) -> None:
    """Wait for a condition the running bot must reach (fails after ``timeout``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


@dataclass
class TG:
    emu: TelegramEmulator
    app: App
    adapter: TelegramAdapter
    pushed: int = 0

    async def settle(self) -> None:
        """Until every pushed update is handled and the outbox has delivered."""
        await until(lambda: self.adapter.last_update_id >= self.pushed)
        await self.app.sender.drain()

    async def push(self, update_id: int) -> None:
        self.pushed = update_id
        await self.settle()

    def code(self, purpose: str, **kw: int) -> str:
        with Session(self.app.engine) as s:
            code = new_link_code(s, purpose=purpose, now=self.app.clock(), **kw).code
            s.commit()
        return code

    def member(self, name: str) -> Member:
        with Session(self.app.engine) as s:
            return s.exec(select(Member).where(Member.full_name == name)).one()

    def cell(self, name: str = QLNS) -> Organisation:
        with Session(self.app.engine) as s:
            return s.exec(select(Organisation).where(Organisation.name == name)).one()

    async def link(self, name: str, uid: int) -> dict:  # type: ignore[type-arg]
        user = self.emu.user(uid, name)
        code = self.code("member", member_id=self.member(name).id or 0)
        await self.push(self.emu.user_message(user, f"/start {code}"))
        return user


@pytest.fixture
async def tg(sample: App) -> AsyncIterator[TG]:
    emu = TelegramEmulator()
    base = await emu.start()
    settings = TelegramSettings(token=emu.token, base_url=base)
    adapter = TelegramAdapter(settings, sample.receive, capabilities=FAST, poll_timeout=1,
                              read_timeout=3, menu=sample.menu,
                              handle_many=sample.receive_many)  # as `chibot run` does
    await adapter.start()
    sample.add_messenger(adapter)
    async with serving(adapter, emu):
        yield TG(emu, sample, adapter)


# The command menus (default and per person): tests/test_help_roles.py.


async def test_linking_members_and_the_group(tg: TG) -> None:
    stranger = tg.emu.user(500, "Người lạ")
    await tg.push(tg.emu.user_message(stranger, "/lichhop"))
    assert "chưa được liên kết" in tg.emu.to(500)[-1].text
    thanh = await tg.link(SEC, 101)
    assert "Đã liên kết tài khoản với hồ sơ của đồng chí Dương Văn Thành" in tg.emu.to(101)[-1].text
    tg.emu.add_group(GROUP, "Chi bộ QLNS")
    code = tg.code("chat", org_id=tg.cell().id or 0)
    await tg.push(tg.emu.user_message(thanh, f"/link@{BOT_USERNAME} {code}", chat_id=GROUP))
    assert "đã được gắn với Chi bộ Phòng Quản lý ngân sách" in tg.emu.to(GROUP)[-1].text
    # A command addressed to another bot in the group is none of ours.
    before = len(tg.emu.sent)
    await tg.push(tg.emu.user_message(thanh, "/lichhop@other_bot", chat_id=GROUP))
    assert len(tg.emu.sent) == before
    with Session(tg.app.engine) as s:
        assert s.exec(select(ChatBinding).where(ChatBinding.platform == "telegram")).one() \
            .chat_id == str(GROUP)
        ident = s.exec(select(Identity).where(Identity.platform == "telegram")).one()
        assert ident.private_chat_id == "101"


async def _bound_group(tg: TG) -> dict:  # type: ignore[type-arg]
    thanh = await tg.link(SEC, 101)
    tg.emu.add_group(GROUP, "Chi bộ QLNS")
    await tg.push(tg.emu.user_message(thanh, f"/link {tg.code('chat', org_id=tg.cell().id)}",
                                      chat_id=GROUP))
    return thanh


async def test_join_request_approved_by_the_secretary_links_the_member(tg: TG) -> None:
    thanh = await _bound_group(tg)
    hanh = tg.emu.user(205, "Hạnh Tạ Thị")
    await tg.push(tg.emu.join_request(hanh, GROUP))
    ask = tg.emu.to(101)[-1]
    assert "“Hạnh Tạ Thị” xin vào nhóm của Chi bộ Phòng Quản lý ngân sách" in ask.text
    labels = [b["text"] for row in ask.reply_markup["inline_keyboard"] for b in row]
    # The likeliest member first; the linked secretary and the member who left are not offered.
    assert labels[0] == "Tạ Thị Hạnh" and labels[-1] == "🚫 Từ chối"
    assert SEC not in labels and "Lương Văn Khánh" not in labels
    assert (GROUP, 205) not in tg.emu.members
    polls = [p for m, p in tg.emu.calls if m == "getUpdates"]
    assert "chat_join_request" in polls[-1]["allowed_updates"]
    await tg.push(tg.emu.press(thanh, ask, label="Tạ Thị Hạnh"))
    assert (GROUP, 205) in tg.emu.members
    assert "Đã duyệt “Hạnh Tạ Thị” vào nhóm" in tg.emu.to(101)[-1].text
    assert "Chào mừng đồng chí Tạ Thị Hạnh" in tg.emu.to(GROUP)[-1].text
    with Session(tg.app.engine) as s:
        ident = s.exec(select(Identity).where(Identity.platform_user_id == "205")).one()
        assert ident.member_id == tg.member("Tạ Thị Hạnh").id and ident.private_chat_id is None
    # The same button again, or the deputy's copy: already decided, nothing changes.
    calls = len(tg.emu.calls)
    await tg.push(tg.emu.press(thanh, ask, label="Hồ Đức Thắng"))
    assert "đã được xử lý trước đó (đã duyệt: Tạ Thị Hạnh)" in tg.emu.to(101)[-1].text
    assert not [m for m, _p in tg.emu.calls[calls:] if "ChatJoinRequest" in m]
    # Once she opens the private chat, reminders can reach her there.
    await tg.push(tg.emu.user_message(hanh, "/start"))
    assert "Kính chào đồng chí Tạ Thị Hạnh" in tg.emu.to(205)[-1].text
    with Session(tg.app.engine) as s:
        assert s.exec(select(Identity).where(Identity.platform_user_id == "205")).one() \
            .private_chat_id == "205"


async def test_join_requests_declined_forged_unbound_and_already_linked(tg: TG) -> None:
    thanh = await _bound_group(tg)
    thang = await tg.link("Hồ Đức Thắng", 102)
    stranger = tg.emu.user(300, "Người lạ")
    await tg.push(tg.emu.join_request(stranger, GROUP))
    ask = tg.emu.to(101)[-1]
    phuong = next(b["callback_data"] for row in ask.reply_markup["inline_keyboard"]
                  for b in row if b["text"] == "Mai Thị Phương")
    # A plain member forging the secretary's choice is refused and nothing is linked.
    await tg.push(tg.emu.forged_press(thang, 102, phuong))
    assert "không có quyền" in tg.emu.to(102)[-1].text
    await tg.push(tg.emu.press(thanh, ask, label="Từ chối"))
    assert "Đã từ chối yêu cầu vào nhóm của “Người lạ”" in tg.emu.to(101)[-1].text
    assert [p["user_id"] for m, p in tg.emu.calls if m == "declineChatJoinRequest"] == ["300"]
    assert (GROUP, 300) not in tg.emu.members
    with Session(tg.app.engine) as s:
        assert s.exec(select(Identity).where(Identity.platform_user_id == "300")).first() is None
    # Asking again reopens the request with a fresh notice.
    await tg.push(tg.emu.join_request(stranger, GROUP))
    assert tg.emu.to(101)[-1] is not ask and "xin vào nhóm" in tg.emu.to(101)[-1].text
    # A member already linked to this cell is let in at once.
    await tg.push(tg.emu.join_request(thang, GROUP))
    assert (GROUP, 102) in tg.emu.members
    # A group that is not bound to a cell: left to its own admins.
    tg.emu.add_group(-2002, "Nhóm khác")
    sent = len(tg.emu.sent)
    await tg.push(tg.emu.join_request(tg.emu.user(301, "Ai đó"), -2002))
    assert len(tg.emu.sent) == sent and (-2002, 301) in tg.emu.join_requests


async def test_agenda_document_sent_as_a_file_is_posted_to_the_group(tg: TG) -> None:
    from tests.test_cycle import _materialise, _meeting

    thanh = await _bound_group(tg)
    _materialise(tg.app)
    mid = _meeting(tg.app, tg.cell()).id
    pdf = b"%PDF-1.4 du thao nghi quyet " * 100
    await tg.push(tg.emu.user_document(thanh, "stray.pdf", b"%PDF"))  # no form open
    assert "khi đồng chí nhập chương trình sinh hoạt (/chuongtrinh)" in tg.emu.to(101)[-1].text
    await tg.push(tg.emu.user_message(thanh, f"/chuongtrinh #{mid}"))
    await tg.push(tg.emu.user_document(thanh, "early.pdf", b"%PDF"))  # a step without files
    assert tg.emu.to(101)[-1].text.startswith("⚠️ Ở bước này bot không nhận tệp.")
    for text in ("Không", "Hội trường tầng 3"):
        await tg.push(tg.emu.user_message(thanh, text))
    await tg.push(tg.emu.user_document(thanh, "du-thao-nq.pdf", pdf,
                                       caption="Dự thảo nghị quyết | Đ/c Thành"))
    assert "Nội dung thứ 2" in tg.emu.to(101)[-1].text
    await tg.push(tg.emu.user_document(thanh, "video.mp4", b"x", size=30 * 1024 * 1024))
    assert "quá lớn: bot nhận tệp tối đa 20 MB" in tg.emu.to(101)[-1].text
    await tg.push(tg.emu.user_message(thanh, "Xong"))
    assert "1. Dự thảo nghị quyết — Đ/c Dương Văn Thành\n   📎 du-thao-nq.pdf" in \
        tg.emu.to(101)[-1].text  # a caption's presenter is named in full too
    await tg.push(tg.emu.press(thanh, tg.emu.to(101)[-1], label="Xác nhận"))
    assert "Đã lưu chương trình" in tg.emu.to(101)[-1].text
    tg.app.clock.set(DEC_MEETING - timedelta(hours=72))  # type: ignore[attr-defined]
    await tick(tg.app)
    notice, doc = tg.emu.to(GROUP)[-2:]
    assert notice.text.startswith("📢 THÔNG BÁO") and "📎 du-thao-nq.pdf" in notice.text
    assert (doc.method, doc.filename, doc.data) == ("sendDocument", "du-thao-nq.pdf", pdf)
    with Session(tg.app.engine) as s:
        assert s.get(Meeting, mid).docs_posted_at == tg.app.clock()
    await tick(tg.app)  # a second sweep posts nothing again
    assert tg.emu.to(GROUP)[-1] is doc


async def test_monthly_cycle_in_a_group_with_rsvp_by_button(tg: TG) -> None:
    await _bound_group(tg)
    thang = await tg.link("Hồ Đức Thắng", 102)
    with Session(tg.app.engine) as s:
        materialise(s, tg.app.settings, tg.app.clock())
        s.commit()
    tg.app.clock.set(DEC_MEETING - timedelta(hours=72))  # type: ignore[attr-defined]
    await tick(tg.app)
    post = tg.emu.to(GROUP)[-1]
    assert post.text.startswith("📢 THÔNG BÁO SINH HOẠT CHI BỘ") and post.parse_mode == "HTML"
    labels = [b["text"] for row in post.reply_markup["inline_keyboard"] for b in row]
    assert labels == ["✅ Có mặt", "🚫 Vắng (báo lý do)"]
    await tg.push(tg.emu.press(thang, post, label="Có mặt"))
    answers = [p for m, p in tg.emu.calls if m == "answerCallbackQuery"]
    assert answers[-1]["text"] == "Đã ghi nhận đồng chí Hồ Đức Thắng sẽ có mặt."
    # A toast to the presser; the group sees one tally message (tests/test_quiet_groups.py).
    assert tg.emu.to(GROUP)[-2] is post and "có mặt 1," in tg.emu.to(GROUP)[-1].text
    # "Vắng" asks for the reason in the member's private chat.
    await tg.push(tg.emu.press(thang, post, label="Vắng"))
    prompt = tg.emu.to(102)[-1]
    assert "lý do vắng" in prompt.text
    await tg.push(tg.emu.press(thang, prompt, label="Đi công tác"))
    with Session(tg.app.engine) as s:
        a = s.exec(select(Attendance)).one()
        assert (a.rsvp, a.rsvp_reason) == ("no", "Đi công tác")
    # The pressed private keyboard now shows the choice.
    edits = [p for m, p in tg.emu.calls if m == "editMessageReplyMarkup"]
    assert edits and edits[-1]["reply_markup"]["inline_keyboard"][0][0]["text"] == \
        "✓ Đi công tác"
    # The 24-hour reminder reaches linked members privately; the others in the group.
    tg.app.clock.set(DEC_MEETING - timedelta(hours=24))  # type: ignore[attr-defined]
    await tick(tg.app)
    assert "Nhắc lịch" in tg.emu.to(101)[-1].text
    group_reminder = tg.emu.to(GROUP)[-1].text
    assert "Kính nhắc các đồng chí" in group_reminder and "Tạ Thị Hạnh" in group_reminder


async def test_roll_call_and_scoring_form_in_private_chat(tg: TG) -> None:
    thanh = await tg.link(SEC, 101)
    with Session(tg.app.engine) as s:
        materialise(s, tg.app.settings, tg.app.clock())
        s.commit()
    tg.app.clock.set(DEC_MEETING)  # type: ignore[attr-defined]
    await tick(tg.app)
    prompt = tg.emu.to(101)[-1]
    assert "Đến giờ sinh hoạt" in prompt.text
    tg.app.clock.set(DEC_MEETING + timedelta(hours=2))  # type: ignore[attr-defined]
    await tg.push(tg.emu.press(thanh, prompt, label="Điểm danh"))
    await tg.push(tg.emu.press(thanh, tg.emu.to(101)[-1], label="Đúng giờ"))
    for text in ("09:40", "5", "* c"):
        await tg.push(tg.emu.user_message(thanh, text))
    await tg.push(tg.emu.press(thanh, tg.emu.to(101)[-1], label="Xong"))  # the tap list's
    assert "hợp lệ" in tg.emu.to(101)[-1].text
    await tg.push(tg.emu.press(thanh, tg.emu.to(101)[-1], label="Chấm điểm"))
    await tg.push(tg.emu.user_message(thanh, "9 9 9"))
    assert "⚠️" in tg.emu.to(101)[-1].text  # range-checked, asked again
    for text in ("3 2 2", "5 14 2 1 1 1", "đủ", "1 2 1 1", "27", "2 2",
                 "Kết luận tháng 12."):
        await tg.push(tg.emu.user_message(thanh, text))
    await tg.push(tg.emu.press(thanh, tg.emu.to(101)[-1], label="Xong"))
    assert "Tổng điểm: " in tg.emu.to(101)[-1].text
    confirm = tg.emu.to(101)[-1]
    # A forged button for a past step is refused and changes nothing.
    await tg.push(tg.emu.forged_press(thanh, 101, "f:1:g:g3:0"))
    answer = [p for m, p in tg.emu.calls if m == "answerCallbackQuery"][-1]
    assert answer["callback_query_id"] == "forged" and "bước đã qua" in answer["text"]
    assert tg.emu.to(101)[-1] is confirm
    await tg.push(tg.emu.press(thanh, confirm, label="Xác nhận"))
    assert "Đã ghi điểm" in tg.emu.to(101)[-1].text


async def test_outbox_rides_out_429_and_5xx_with_nothing_lost_or_doubled(tg: TG) -> None:
    tg.emu.enforce_limits = False  # only the injected faults
    tg.emu.faults.extend(["429", "500", "429", "500", "429"])
    with Session(tg.app.engine) as s:
        for i in range(40):
            enqueue(s, Outgoing(platform="telegram", chat_id=str(GROUP), text=f"tin {i}",
                                key=f"bulk:{i}"), now=tg.app.clock(), is_group=True)
        s.commit()
    tg.emu.add_group(GROUP, "G")
    for _ in range(20):
        await tg.app.sender.drain()
        tg.app.clock.advance(seconds=70)  # type: ignore[attr-defined]
        if len(tg.emu.to(GROUP)) == 40:
            break
    texts = [s.text for s in tg.emu.to(GROUP)]
    assert texts == [f"tin {i}" for i in range(40)]  # all, once each, in order
    assert tg.emu.status_429 == 3


async def test_pacing_keeps_under_the_emulators_limits(sample: App) -> None:
    emu = TelegramEmulator()
    emu.limits.group_per_minute = 1200  # 20 per second per group, scaled up for speed
    emu.limits.per_second = 300
    base = await emu.start()
    caps = Capabilities(buttons=True, max_text=4096, global_per_second=280,
                        group_per_minute=1100, private_per_second=100)
    adapter = TelegramAdapter(TelegramSettings(token=emu.token, base_url=base), sample.receive,
                              capabilities=caps)
    await adapter.start()
    sample.add_messenger(adapter)
    emu.add_group(GROUP, "G")
    try:
        with Session(sample.engine) as s:
            for i in range(25):
                enqueue(s, Outgoing(platform="telegram", chat_id=str(GROUP), text=f"{i}",
                                    key=f"p:{i}"), now=sample.clock(), is_group=True)
            s.commit()
        await sample.sender.drain()
        assert [m.text for m in emu.to(GROUP)] == [str(i) for i in range(25)]
        assert emu.status_429 == 0
    finally:
        await adapter.stop()
        await emu.stop()


async def test_long_text_is_split_and_html_escaped(tg: TG) -> None:
    text = "\n".join(f"Dòng {i} <b>&" + "x" * 80 for i in range(120))
    with Session(tg.app.engine) as s:
        enqueue(s, Outgoing(platform="telegram", chat_id="101", text=text, key="long"),
                now=tg.app.clock())
        s.commit()
    await tg.app.sender.drain()
    parts = tg.emu.to(101)
    assert len(parts) > 1 and all(len(html.unescape(p.text)) <= 4096 for p in parts)
    assert "&lt;b&gt;&amp;" in parts[0].text
    assert html.unescape("\n".join(p.text for p in parts)) == text  # nothing lost or cut


def _queue(tg: TG, out: Outgoing) -> None:
    with Session(tg.app.engine) as s:
        enqueue(s, out, now=tg.app.clock())
        s.commit()


def _row_status(tg: TG, key: str) -> str:
    with Session(tg.app.engine) as s:
        return s.exec(select(OutboxMessage.status).where(
            OutboxMessage.idempotency_key == key)).one()


async def test_length_is_counted_as_telegram_counts_it(tg: TG) -> None:
    """Telegram counts UTF-16 code units after entities parsing: 3,000 emoji (6,000
    units) go as two messages, not one refused for good; 3,500 "&" (17,500 characters
    once escaped, 3,500 once parsed) go as one message, not 21."""
    emoji = "😀" * 3000
    _queue(tg, Outgoing(platform="telegram", chat_id="101", text=emoji, key="emoji"))
    _queue(tg, Outgoing(platform="telegram", chat_id="102", text="&" * 3500, key="amp"))
    await tg.app.sender.drain()
    got = [html.unescape(m.text) for m in tg.emu.to(101)]
    assert "".join(got) == emoji and len(got) == 2
    assert all(len(t.encode("utf-16-le")) // 2 <= 4096 for t in got)
    assert [html.unescape(m.text) for m in tg.emu.to(102)] == ["&" * 3500]
    assert _row_status(tg, "emoji") == _row_status(tg, "amp") == "sent"


async def test_message_too_long_is_split_finer_never_dropped(tg: TG) -> None:
    """Should Telegram count differently from us ("Bad Request: message is too long"),
    the text is sent in smaller parts, whole and in order, the buttons on the last."""
    tg.emu.max_text = 1000
    text = "\n".join(f"Ý kiến {i}: " + "đồng ý " * 40 for i in range(20))
    _queue(tg, Outgoing(platform="telegram", chat_id="101", text=text, key="long",
                        buttons=((Button("Xong", "noop"),),)))
    await tg.app.sender.drain()
    got = tg.emu.to(101)
    assert len(got) >= 5 and _row_status(tg, "long") == "sent"
    assert html.unescape("\n".join(m.text for m in got)).replace("\n", "") == \
        text.replace("\n", "")
    assert [bool(m.reply_markup) for m in got] == [False] * (len(got) - 1) + [True]


async def test_a_long_caption_follows_the_file_as_a_message(tg: TG) -> None:
    """A caption over 1,024 (Telegram: "message caption is too long") is not cut: the
    file goes bare and the whole text follows it, with the buttons."""
    text = "Nghị quyết tháng 12: " + "nội dung " * 200
    _queue(tg, Outgoing(platform="telegram", chat_id="101", text=text, key="doc",
                        attachment=Attachment("nq.docx", b"PK-nq"),
                        buttons=((Button("Xem", "noop"),),)))
    _queue(tg, Outgoing(platform="telegram", chat_id="102", text="Biên bản",
                        key="short", attachment=Attachment("bb.docx", b"PK-bb")))
    await tg.app.sender.drain()
    doc, msg = tg.emu.to(101)
    assert doc.method == "sendDocument" and doc.text == "" and doc.data == b"PK-nq"
    assert msg.method == "sendMessage" and html.unescape(msg.text) == text
    assert msg.reply_markup and not doc.reply_markup
    [short] = tg.emu.to(102)
    assert short.method == "sendDocument" and short.text == "Biên bản"


async def test_group_upgrade_and_bot_removal(tg: TG) -> None:
    thanh = await tg.link(SEC, 101)
    await tg.link("Nguyễn Văn An", 103)  # officer of the base organisation
    tg.emu.add_group(GROUP, "Chi bộ QLNS")
    await tg.push(tg.emu.user_message(thanh, f"/link {tg.code('chat', org_id=tg.cell().id)}",
                                      chat_id=GROUP))
    await tg.push(tg.emu.migrate(GROUP, -100777, thanh))
    with Session(tg.app.engine) as s:
        assert s.exec(select(ChatBinding)).one().chat_id == "-100777"
    await tg.push(tg.emu.bot_removed(-100777, thanh))
    with Session(tg.app.engine) as s:
        assert not s.exec(select(ChatBinding)).one().active
    assert "bị gỡ khỏi nhóm" in tg.emu.to(103)[-1].text


async def test_unsupported_message_and_blocked_user(tg: TG) -> None:
    thanh = await tg.link(SEC, 101)
    await tg.push(tg.emu.sticker(thanh))
    assert "chưa đọc được loại tin nhắn này" in tg.emu.to(101)[-1].text
    tg.emu.blocked.add(101)
    with Session(tg.app.engine) as s:
        enqueue(s, Outgoing(platform="telegram", chat_id="101", text="x", key="blocked"),
                now=tg.app.clock())
        s.commit()
    await tg.app.sender.drain()
    from models.outbox import OutboxMessage

    with Session(tg.app.engine) as s:
        row = s.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == "blocked")
                     ).one()
        assert row.status == "failed" and "Forbidden" in row.last_error


async def test_an_update_that_fails_to_commit_is_delivered_again(tg: TG) -> None:
    thanh = await tg.link(SEC, 101)
    real = tg.app.receive
    calls = {"n": 0}

    async def flaky(inc):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database unavailable")
        return await real(inc)

    tg.adapter.handle = flaky
    uid = tg.emu.user_message(thanh, "/lichhop")
    tg.pushed = uid
    await until(lambda: tg.adapter.last_update_id >= uid, timeout=15)
    await tg.app.sender.drain()
    assert calls["n"] == 2 and "Lịch sinh hoạt" in tg.emu.to(101)[-1].text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_checks_the_secret_and_refuses_malformed_bodies(sample: App) -> None:
    emu = TelegramEmulator()
    base = await emu.start()
    port = _free_port()
    settings = TelegramSettings(token=emu.token, base_url=base, mode="webhook",
                                webhook_url="https://bot.example.vn/telegram",
                                webhook_secret="s3cret-s3cret-s3cret", port=port)
    adapter = TelegramAdapter(settings, sample.receive, capabilities=FAST)
    await adapter.start()
    sample.add_messenger(adapter)
    url = f"http://127.0.0.1:{port}/telegram"
    update = {"update_id": 77, "message": {
        "message_id": 1, "date": 1, "chat": {"id": 500, "type": "private"},
        "from": {"id": 500, "is_bot": False, "first_name": "A"}, "text": "/start"}}
    try:
        assert emu.webhook_url == "https://bot.example.vn/telegram"
        async with aiohttp.ClientSession() as http:
            r = await http.post(url, json=update,
                                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            assert r.status == 403
            r = await http.post(url, data=b"{not json",
                                headers={"X-Telegram-Bot-Api-Secret-Token":
                                         "s3cret-s3cret-s3cret"})
            assert r.status == 400
            assert adapter.handled == 0
            r = await http.post(url, json=update,
                                headers={"X-Telegram-Bot-Api-Secret-Token":
                                         "s3cret-s3cret-s3cret"})
            assert r.status == 200 and adapter.handled == 1
        await sample.sender.drain()
        assert "bot hỗ trợ sinh hoạt chi bộ" in emu.to(500)[-1].text
    finally:
        await adapter.stop()
        await emu.stop()


async def test_bad_token_fails_start(sample: App) -> None:
    emu = TelegramEmulator()
    base = await emu.start()
    adapter = TelegramAdapter(TelegramSettings(token="1:wrong", base_url=base),
                              sample.receive, capabilities=FAST)
    try:
        with pytest.raises(Exception, match=r"(?i)unauthori|token"):
            await adapter.start()
    finally:
        await emu.stop()
