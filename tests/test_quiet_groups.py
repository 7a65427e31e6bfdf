"""Issue 23, quiet groups: every button press is answered exactly once, a press that
changes nothing says so, RSVPs in the group update one tally message, typed answers in
the group are understood while the RSVP is open and otherwise ignored quietly."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlmodel import Session

from handlers.meetings.cycle import materialise
from tests import test_telegram
from tests.helpers import tick
from tests.test_cycle import DEC_MEETING
from tests.test_telegram import GROUP, TG, _bound_group
from tests.tg_emulator import BOT_USERNAME

tg = test_telegram.tg  # the fixture: the real adapter against the Bot API emulator


def _answers(tg: TG) -> Counter[str]:
    return Counter(str(p.get("callback_query_id")) for m, p in tg.emu.calls
                   if m == "answerCallbackQuery")


async def test_every_button_press_of_a_month_is_answered_exactly_once(tg: TG) -> None:
    tg.emu.enforce_limits = False  # the simulated clock stands still: no 429 waits
    thanh = await _bound_group(tg)
    thang = await tg.link("Hồ Đức Thắng", 102)
    oanh = await tg.link("Lý Thị Kim Oanh", 103)
    with Session(tg.app.engine) as s:
        materialise(s, tg.app.settings, tg.app.clock())
        s.commit()
    pressed: list[str] = []

    async def press(user: dict, chat: int, label: str) -> None:  # type: ignore[type-arg]
        post = next(m for m in reversed(tg.emu.to(chat)) if any(
            label in b["text"] for row in (m.reply_markup or {}).get("inline_keyboard", [])
            for b in row))
        update = tg.emu.press(user, post, label=label)
        pressed.append(f"cq{len(pressed) + 1}")
        await tg.push(update)

    async def say(user: dict, text: str) -> None:  # type: ignore[type-arg]
        await tg.push(tg.emu.user_message(user, text))

    # The agenda, mostly by buttons.
    await say(thanh, "/chuongtrinh")
    await press(thanh, 101, "03/12/2026")
    await press(thanh, 101, "Không")
    await say(thanh, "Phòng họp tầng 3")
    await say(thanh, "Quán triệt Nghị quyết | Đ/c Thành")
    await press(thanh, 101, "Xong")
    await press(thanh, 101, "Xác nhận")
    tg.app.clock.set(DEC_MEETING - timedelta(hours=72))  # type: ignore[attr-defined]
    await tick(tg.app)
    # RSVPs in the group, one pressed twice; an absence asked privately.
    await press(thang, GROUP, "Có mặt")
    await press(thang, GROUP, "Có mặt")
    await press(oanh, GROUP, "Vắng")
    await press(oanh, 103, "Đi công tác")
    # The private reminder's "Vắng" (it used to spin forever).
    tg.app.clock.set(DEC_MEETING - timedelta(hours=24))  # type: ignore[attr-defined]
    await tick(tg.app)
    await press(thang, 102, "Vắng")
    await press(thang, 102, "Việc gia đình")
    # Roll call and the buttons after it.
    tg.app.clock.set(DEC_MEETING)  # type: ignore[attr-defined]
    await tick(tg.app)
    tg.app.clock.set(DEC_MEETING + timedelta(hours=2))  # type: ignore[attr-defined]
    await press(thanh, 101, "Điểm danh")
    await press(thanh, 101, "Đúng giờ")
    await say(thanh, "09:40")
    await say(thanh, "3")
    await say(thanh, "tất cả có mặt")
    await press(thanh, 101, "Xong")  # the roll call's one confirmation
    await press(thanh, 101, "Ghi đảng phí")
    await press(thanh, 101, "Chấm điểm")
    answers = _answers(tg)
    assert len(pressed) == 15
    assert {cid: answers[cid] for cid in pressed} == {cid: 1 for cid in pressed}
    assert not tg.emu.callbacks  # none left unanswered
    # The second "Có mặt" changed nothing, and says so in a short notice.
    texts = {cid: text for cid, text, _delay in tg.emu.answers}
    assert texts[pressed[5]] == "Đồng chí đã báo có mặt rồi; không có gì thay đổi."


async def test_group_rsvps_edit_one_tally_and_stray_texts_are_ignored(tg: TG) -> None:
    tg.emu.enforce_limits = False
    thanh = await _bound_group(tg)
    thang = await tg.link("Hồ Đức Thắng", 102)
    phuong = await tg.link("Mai Thị Phương", 104)
    # Before any notice, "có mặt" in the group is conversation: no reply at all.
    tg.app.clock.set(DEC_MEETING - timedelta(days=20))  # type: ignore[attr-defined]
    with Session(tg.app.engine) as s:
        materialise(s, tg.app.settings, tg.app.clock())
        s.commit()
    before = len(tg.emu.to(GROUP))
    await tg.push(tg.emu.user_message(thang, "có mặt", chat_id=GROUP, reply_to_bot=True))
    await tg.push(tg.emu.user_message(phuong, f"chào @{BOT_USERNAME} mọi người", chat_id=GROUP))
    assert len(tg.emu.to(GROUP)) == before
    tg.app.clock.set(DEC_MEETING - timedelta(hours=72))  # type: ignore[attr-defined]
    await tick(tg.app)
    post = tg.emu.to(GROUP)[-1]
    await tg.push(tg.emu.press(thang, post, label="Có mặt"))
    await tg.push(tg.emu.press(thanh, post, label="Có mặt"))
    await tg.push(tg.emu.user_message(phuong, "Vắng đi công tác Huế", chat_id=GROUP))
    await tg.push(tg.emu.user_message(phuong, "Tuần sau ai trực?", chat_id=GROUP))
    group = tg.emu.to(GROUP)
    # The agenda post and one tally, edited twice: no line per answer, no reply to chat.
    assert group[-2] is post and len(group) == before + 2
    tally = group[-1]
    assert len([k for k in tg.emu.edits if k == (GROUP, tally.message_id)]) == 2
    assert tally.text.startswith("📋 Đăng ký dự sinh hoạt 07:30 03/12/2026: có mặt 2, vắng 1, "
                                 "chưa trả lời 4.")
    assert "✅ Có mặt: Dương Văn Thành, Hồ Đức Thắng" in tally.text
    assert "🚫 Vắng: Mai Thị Phương" in tally.text and "Huế" not in tally.text  # reason: private
    assert [b["text"] for row in tally.reply_markup["inline_keyboard"] for b in row] == [
        "✅ Có mặt", "🚫 Vắng (báo lý do)"]


async def test_roll_call_by_taps_edits_one_message(tg: TG) -> None:
    """Issue 23, roll call in taps: one member per row; each tap moves that member on
    (chưa rõ → có mặt → vắng → muộn) in the same message; "Xong" confirms."""
    tg.emu.enforce_limits = False
    thanh = await tg.link("Dương Văn Thành", 101)
    with Session(tg.app.engine) as s:
        materialise(s, tg.app.settings, tg.app.clock())
        s.commit()
    tg.app.clock.set(DEC_MEETING + timedelta(hours=2))  # type: ignore[attr-defined]
    await tg.push(tg.emu.user_message(thanh, "/diemdanh"))
    await tg.push(tg.emu.press(thanh, tg.emu.to(101)[-1], label="03/12/2026"))
    await tg.push(tg.emu.press(thanh, tg.emu.to(101)[-1], label="Đúng giờ"))
    await tg.push(tg.emu.user_message(thanh, "09:40"))
    await tg.push(tg.emu.user_message(thanh, "4"))  # speakers, then the list
    roll = tg.emu.to(101)[-1]
    labels = [b["text"] for row in roll.reply_markup["inline_keyboard"] for b in row]
    assert labels == ["❔ 1. Dương Văn Thành", "❔ 2. Lý Thị Kim Oanh", "❔ 3. Hồ Đức Thắng",
                      "❔ 4. Mai Thị Phương", "❔ 5. Phan Thị Thúy", "❔ 6. Châu Minh Tuấn",
                      "❔ 7. Tạ Thị Hạnh", "✅ Xong"]
    sent = len(tg.emu.to(101))
    for _ in range(3):  # có mặt, vắng (không lý do), đến muộn
        await tg.push(tg.emu.press(thanh, roll, label="Tạ Thị Hạnh"))
    assert len(tg.emu.to(101)) == sent  # no new message: the same one, edited
    assert [t for _c, t, _d in tg.emu.answers][-3:] == [
        "7. Tạ Thị Hạnh: có mặt", "7. Tạ Thị Hạnh: vắng không lý do",
        "7. Tạ Thị Hạnh: đến muộn"]
    labels = [b["text"] for row in roll.reply_markup["inline_keyboard"] for b in row]
    assert labels[6] == "⏰ 7. Tạ Thị Hạnh" and "7. [m] Tạ Thị Hạnh" in roll.text
    await tg.push(tg.emu.user_message(thanh, "1-6 có mặt"))  # typing still works
    await tg.push(tg.emu.press(thanh, tg.emu.to(101)[-1], label="Xong"))  # saves it
    assert "Đã ghi điểm danh. Buổi sinh hoạt hợp lệ." in tg.emu.to(101)[-1].text
    assert "Số người phát biểu: 4." in tg.emu.to(101)[-1].text


def test_a_long_list_is_paged() -> None:
    from handlers.attendance.rolltaps import toggle_keyboard
    from models.member import Member

    members = [Member(id=i, import_key=str(i), full_name=f"Đảng viên {i}")
               for i in range(1, 46)]
    kb = toggle_keyboard(members, {"3": ["present", None]}, 9, 0, "f:9:roll:0")
    assert len(kb) == 22 and kb[2][0].label == "✅ 3. Đảng viên 3"
    assert [b.label for b in kb[-2]] == ["Trang 1/3", "Trang 2 ▶"]
    last = toggle_keyboard(members, {}, 9, 2, "f:9:roll:0")
    assert [b.label for b in last[0]] == ["❔ 41. Đảng viên 41"] and len(last) == 7
    assert [b.label for b in last[-2]] == ["◀ Trang 2", "Trang 3/3"]
    assert last[-1][0].data == "f:9:roll:0"
