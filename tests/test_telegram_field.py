"""The real Telegram adapter against the emulator's real failure shapes (issue 13): 409 on
getUpdates, a group upgraded to a supergroup, a member who blocked the bot, button
answers under a group backlog, the bot's own "✓" button, members nobody can reach."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from bot.app import App
from bot.platforms.telegram import TelegramAdapter
from handlers.meetings.cycle import materialise
from models.attendance import Attendance
from models.member import Identity, Member
from models.messages import Capabilities, Outgoing
from models.org import ChatBinding
from models.outbox import OutboxMessage, ProcessedUpdate
from models.outbox_queue import enqueue
from models.settings import TelegramSettings
from tests import test_telegram
from tests.helpers import SEC, tick
from tests.test_cycle import DEC_MEETING
from tests.test_telegram import FAST, GROUP, TG, _bound_group, until
from tests.tg_emulator import TelegramEmulator

tg = test_telegram.tg  # the same fixture: adapter polling the emulator

SUPER = -100777


def _at(tg: TG, hours_before: float) -> None:
    tg.app.clock.set(DEC_MEETING - timedelta(hours=hours_before))  # type: ignore[attr-defined]


def _materialise(tg: TG) -> None:
    with Session(tg.app.engine) as s:
        materialise(s, tg.app.settings, tg.app.clock())
        s.commit()


def _queue(tg: TG, chat_id: int, texts: list[str], *, group: bool, key: str) -> None:
    with Session(tg.app.engine) as s:
        for i, text in enumerate(texts):
            enqueue(s, Outgoing(platform="telegram", chat_id=str(chat_id), text=text,
                                key=f"{key}:{i}"), now=tg.app.clock(), is_group=group)
        s.commit()


async def test_409_conflict_is_retried_explained_and_polling_resumes(
        tg: TG, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="bot.platforms.telegram")
    tg.emu.conflicts = 2  # the next two getUpdates answer 409
    await until(lambda: tg.emu.conflicts_sent >= 2, timeout=15)
    stranger = tg.emu.user(500, "Người lạ")
    await tg.push(tg.emu.user_message(stranger, "/start"))
    assert "bot hỗ trợ sinh hoạt chi bộ" in tg.emu.to(500)[-1].text  # polling went on
    assert "another process is polling with the same token" in caplog.text
    # A second instance with the same token: the two requests keep ending each other
    # (409), both say so loudly, and every update is still handled exactly once.
    second = TelegramAdapter(tg.adapter.settings, tg.app.receive, capabilities=FAST,
                             poll_timeout=1, read_timeout=3, handle_many=tg.app.receive_many)
    await second.start()
    stop = asyncio.Event()
    task = asyncio.create_task(second.run(stop))
    try:
        before = tg.emu.conflicts_sent
        await until(lambda: tg.emu.conflicts_sent > before + 1, timeout=20)
        ids = [tg.emu.user_message(tg.emu.user(600 + i, f"Khách {i}"), "/start")
               for i in range(4)]
        await until(lambda: max(tg.adapter.last_update_id, second.last_update_id) >= ids[-1]
                    and tg.emu.pending_updates() == 0, timeout=30)
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
        await second.stop()
    await tg.app.sender.drain()
    assert all(len(tg.emu.to(600 + i)) == 1 for i in range(4))  # once each
    with Session(tg.app.engine) as s:
        assert s.exec(select(func.count()).select_from(ProcessedUpdate)).one() == 5


async def test_migrate_error_moves_the_binding_and_resends_at_once(tg: TG) -> None:
    thanh = await _bound_group(tg)
    thang = await tg.link("Hồ Đức Thắng", 102)
    _materialise(tg)
    tg.emu.upgrade(GROUP, SUPER)  # the service message has not reached the bot yet
    _at(tg, 72)
    await tick(tg.app)  # the notice: 400 migrate_to_chat_id, then the new id at once
    post = tg.emu.to(SUPER)[-1]
    assert post.text.startswith("📢 THÔNG BÁO SINH HOẠT CHI BỘ")
    assert "đã được gắn với" in tg.emu.to(GROUP)[-1].text  # nothing after the /link reply
    with Session(tg.app.engine) as s:
        b = s.exec(select(ChatBinding)).one()
        assert (b.chat_id, b.previous_chat_id, b.active) == (str(SUPER), str(GROUP), True)
        assert s.exec(select(OutboxMessage).where(OutboxMessage.status == "failed")).all() == []
    # An RSVP pressed in the supergroup counts, and so does one on a copy still showing the
    # old group's id (both ids are accepted for a while).
    await tg.push(tg.emu.press(thang, post, label="Có mặt"))
    await tg.push(tg.emu.press(thanh, post, label="Có mặt", chat_id=GROUP))
    with Session(tg.app.engine) as s:
        assert sorted(a.rsvp for a in s.exec(select(Attendance))) == ["yes", "yes"]
    assert [a[1] for a in tg.emu.answers][-2:] == [
        "Đã ghi nhận đồng chí Hồ Đức Thắng sẽ có mặt.",
        "Đã ghi nhận đồng chí Dương Văn Thành sẽ có mặt."]
    # The service message, arriving late, changes nothing; later reminders go to the new id.
    await tg.push(tg.emu.migrate(GROUP, SUPER, thanh))
    _at(tg, 24)
    await tick(tg.app)
    assert "Kính nhắc các đồng chí" in tg.emu.to(SUPER)[-1].text


async def test_rsvp_in_a_supergroup_nobody_told_the_bot_about(tg: TG) -> None:
    await _bound_group(tg)
    thang = await tg.link("Hồ Đức Thắng", 102)
    _materialise(tg)
    _at(tg, 72)
    await tick(tg.app)
    post = tg.emu.to(GROUP)[-1]
    tg.emu.upgrade(GROUP, SUPER)
    sent_before = len(tg.emu.sent)
    await tg.push(tg.emu.press(thang, post, label="Có mặt", chat_id=SUPER))
    with Session(tg.app.engine) as s:
        assert s.exec(select(Attendance)).one().rsvp == "yes"
    assert tg.emu.answers[-1][1] == "Đã ghi nhận đồng chí Hồ Đức Thắng sẽ có mặt."
    # No public refusal in the group: only the RSVP tally (posted in the supergroup).
    assert [m.text.split(":")[0] for m in tg.emu.sent[sent_before:]] == [
        "📋 Đăng ký dự sinh hoạt 07"]


async def test_blocked_member_is_named_in_the_group_secretary_told_once_start_clears(
        tg: TG) -> None:
    await _bound_group(tg)
    thang = await tg.link("Hồ Đức Thắng", 102)
    _materialise(tg)
    tg.emu.blocked.add(102)
    _queue(tg, 102, ["một", "hai", "ba"], group=False, key="before")
    await tg.app.sender.drain()  # three rows, one 403: the others fail with it, at once
    with Session(tg.app.engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == "102",
                                                  OutboxMessage.idempotency_key
                                                  .startswith("before"))).all()
        assert [r.status for r in rows] == ["failed"] * 3
        assert sum(r.attempts for r in rows) == 1  # one call to Telegram, not three
        ident = s.exec(select(Identity).where(Identity.platform_user_id == "102")).one()
        assert ident.blocked_at is not None
    told = [m.text for m in tg.emu.to(101) if "đã chặn bot" in m.text]
    assert told == ["Đồng chí Hồ Đức Thắng đã chặn bot trên Telegram, nên không nhận được "
                    "tin nhắn riêng của bot. Từ nay nhắc lịch sẽ nêu tên đồng chí ấy trong "
                    "nhóm chi bộ. Đề nghị đồng chí nhắc đồng chí Hồ Đức Thắng bỏ chặn bot "
                    "và gửi /start cho bot."]
    calls_to_102 = sum(1 for m, p in tg.emu.calls if m == "sendMessage"
                       and p.get("chat_id") == "102")
    _at(tg, 24)
    await tick(tg.app)
    group_reminder = tg.emu.to(GROUP)[-1].text
    assert "Kính nhắc các đồng chí" in group_reminder and "Hồ Đức Thắng" in group_reminder
    assert sum(1 for m, p in tg.emu.calls if m == "sendMessage"
               and p.get("chat_id") == "102") == calls_to_102  # not tried privately again
    assert len([m for m in tg.emu.to(101) if "đã chặn bot" in m.text]) == 1  # told once
    # He unblocks the bot and sends /start: reachable privately again.
    tg.emu.blocked.discard(102)
    await tg.push(tg.emu.user_message(thang, "/start"))
    with Session(tg.app.engine) as s:
        assert s.exec(select(Identity).where(Identity.platform_user_id == "102")).one() \
            .blocked_at is None
    _at(tg, 1)  # the 2-hour reminder: 05:30 is in the quiet hours, moved to 06:30
    await tick(tg.app)
    assert "Nhắc lịch" in tg.emu.to(102)[-1].text
    assert "Hồ Đức Thắng" not in tg.emu.to(GROUP)[-1].text.split("Kính nhắc")[-1]


async def test_button_answers_go_at_once_past_a_group_backlog(tg: TG) -> None:
    await _bound_group(tg)
    thang = await tg.link("Hồ Đức Thắng", 102)
    _materialise(tg)
    _at(tg, 72)
    await tick(tg.app)
    post = tg.emu.to(GROUP)[-1]
    # Telegram's real pace for a group (19 a minute), and 15 group messages queued ahead:
    # paced, they take 45 s. The presses must be answered within the emulator's window.
    tg.adapter.capabilities = Capabilities(buttons=True, max_text=4096, global_per_second=28.5,
                                           group_per_minute=19, private_per_second=1)
    tg.app.add_messenger(tg.adapter)
    tg.emu.callback_window = 2.0
    _queue(tg, GROUP, [f"tin {i}" for i in range(15)], group=True, key="backlog")
    stop = asyncio.Event()
    sender = asyncio.create_task(tg.app.sender.run(stop))
    try:
        for _i in range(10):  # 10 presses in a few seconds
            tg.pushed = tg.emu.press(thang, post, label="Có mặt")
            await asyncio.sleep(0.3)
        await until(lambda: len(tg.emu.answers) >= 10, timeout=10)
    finally:
        stop.set()
        await asyncio.gather(sender, return_exceptions=True)
    delays = sorted(delay for _id, _t, delay in tg.emu.answers)
    print(f"10 presses behind 15 paced group messages: answered after "
          f"{delays[0]:.3f}–{delays[-1]:.3f} s (median {delays[5]:.3f} s)")
    assert delays[-1] < 2.0
    assert not [m for m in tg.emu.to(GROUP) if "Đã ghi nhận" in m.text]
    # An answer that comes too late is dropped: never posted to the group instead.
    tg.emu.callback_window = 0.0
    uid = tg.emu.press(thang, post, label="Có mặt")
    await until(lambda: tg.adapter.last_update_id >= uid)

    def late_answer() -> OutboxMessage | None:
        with Session(tg.app.engine) as s:
            return s.exec(select(OutboxMessage).where(OutboxMessage.chat_id.startswith("cb:"))
                          .order_by(OutboxMessage.id.desc())).first()

    stop = asyncio.Event()
    sender = asyncio.create_task(tg.app.sender.run(stop))
    try:
        await until(lambda: late_answer().status == "failed", timeout=5)  # type: ignore[union-attr]
    finally:
        stop.set()
        await asyncio.gather(sender, return_exceptions=True)
    assert "expired" in (late_answer().last_error or "")  # type: ignore[union-attr]
    assert not [m for m in tg.emu.to(GROUP) if "Đã ghi nhận" in m.text]


async def test_the_bots_own_check_button_is_inert(tg: TG) -> None:
    thanh = await tg.link(SEC, 101)
    _materialise(tg)
    _at(tg, 0)
    await tick(tg.app)
    prompt = tg.emu.to(101)[-1]  # the roll-call prompt
    await tg.push(tg.emu.press(thanh, prompt, label="Điểm danh"))
    edits = [p for m, p in tg.emu.calls if m == "editMessageReplyMarkup"]
    assert edits[-1]["reply_markup"]["inline_keyboard"][0][0]["text"] == "✓ 📋 Điểm danh"
    assert tg.emu.messages[(101, prompt.message_id)]["reply_markup"]["inline_keyboard"][0][0][
        "callback_data"] == "noop"
    sent, n_edits = len(tg.emu.sent), len(edits)
    with Session(tg.app.engine) as s:
        handled = s.exec(select(func.count()).select_from(ProcessedUpdate)).one()
    await tg.push(tg.emu.forged_press(thanh, 101, "noop"))  # a press on that "✓"
    assert tg.emu.answers[-1][1] is None  # answered silently
    assert len(tg.emu.sent) == sent and \
        len([m for m, p in tg.emu.calls if m == "editMessageReplyMarkup"]) == n_edits
    with Session(tg.app.engine) as s:
        assert s.exec(select(func.count()).select_from(ProcessedUpdate)).one() == handled


async def test_a_refused_press_leaves_the_keyboard_as_it_was(tg: TG) -> None:
    """Denied (the secretary's role ended after the prompt went out) or stale: no "✓"."""
    from models.member import RoleAssignment

    thanh = await tg.link(SEC, 101)
    _materialise(tg)
    _at(tg, 0)
    await tick(tg.app)
    prompt = tg.emu.to(101)[-1]  # the roll-call prompt, with its button
    with Session(tg.app.engine) as s:
        me = s.exec(select(Member).where(Member.full_name == SEC)).one()
        for ra in s.exec(select(RoleAssignment).where(RoleAssignment.member_id == me.id)):
            s.delete(ra)
        s.commit()
    edits = len([m for m, p in tg.emu.calls if m == "editMessageReplyMarkup"])
    await tg.push(tg.emu.press(thanh, prompt, label="Điểm danh"))
    await tg.app.sender.drain()
    assert "không có quyền" in tg.emu.to(101)[-1].text
    assert len([m for m, p in tg.emu.calls if m == "editMessageReplyMarkup"]) == edits
    keyboard = tg.emu.messages[(101, prompt.message_id)]["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0]["callback_data"] != "noop"
    await tg.push(tg.emu.forged_press(thanh, 101, "zz:1"))  # unknown: stale or forged
    assert len([m for m, p in tg.emu.calls if m == "editMessageReplyMarkup"]) == edits


async def test_members_reachable_nowhere_are_listed_to_the_secretary_once(tg: TG) -> None:
    await tg.link(SEC, 101)  # no group bound; only the secretary linked
    _materialise(tg)
    for hours in (72, 24, 2):
        _at(tg, hours)
        await tick(tg.app)
    lists = [m.text for m in tg.emu.to(101) if "chưa nhận được thông báo" in m.text]
    assert len(lists) == 1
    with Session(tg.app.engine) as s:
        names = [m.full_name for m in s.exec(select(Member).where(
            Member.cell_id == tg.cell().id, Member.active == True,  # noqa: E712
            Member.exempted == False))  # noqa: E712
            if m.full_name != SEC]
    assert names and all(f"- {n}" in lists[0] for n in names)
    assert "/start MÃ" in lists[0] and "/code TÊN" in lists[0]


async def test_a_group_the_bot_was_thrown_out_of_is_unbound_and_officers_told(tg: TG) -> None:
    await _bound_group(tg)
    await tg.link("Nguyễn Văn An", 103)  # officer of the base organisation
    await tg.link("Hồ Đức Thắng", 102)
    _materialise(tg)
    tg.emu.kicked.add(GROUP)  # 403 "Forbidden: bot was kicked from the group chat"
    _at(tg, 72)
    await tick(tg.app)
    with Session(tg.app.engine) as s:
        assert not s.exec(select(ChatBinding)).one().active
    assert "bị gỡ khỏi nhóm" in tg.emu.to(103)[-1].text
    _at(tg, 24)
    await tick(tg.app)  # reminders now go privately
    assert "Nhắc lịch" in tg.emu.to(102)[-1].text


async def test_a_process_left_with_no_platform_exits_for_its_supervisor(sample: App) -> None:
    from bot.runner import serve

    emu = TelegramEmulator()
    base = await emu.start()
    settings = sample.settings.model_copy(
        update={"telegram": TelegramSettings(token=emu.token, base_url=base)})
    task = asyncio.create_task(serve(settings))
    try:
        await until(lambda: any(m == "getUpdates" for m, _p in emu.calls), timeout=30)
        emu.token = "revoked"  # /revoke at BotFather: every call answers 401 Unauthorized
        assert await asyncio.wait_for(task, timeout=30) == 1  # exits; a supervisor restarts
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await emu.stop()
