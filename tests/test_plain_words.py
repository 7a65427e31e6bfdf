"""A secretary of sixty on a phone: meetings named as people name them ("12/2026",
"12/2026 đột xuất", a button), never by database ids; Vietnamese until /lang en."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from sqlmodel import Session, select

from models.meeting import Meeting, MeetingKind, MeetingStatus
from models.member import Member
from models.records import MeetingRecord
from tests.helpers import QLNS, SEC, Driver, FakeClock, link_cell
from tests.test_attendance import _setup
from tests.test_cycle import DEC_MEETING

MEMBER = "Hồ Đức Thắng"
OTHER_SEC = "Nguyễn Văn An"  # secretary of another cell


async def _two_held(driver: Driver, clock: FakeClock) -> tuple[int, int]:
    """December's regular meeting and an extraordinary one, both held (set directly: the
    roll call's own wording is tested elsewhere)."""
    cell_id, mid = await _setup(driver, clock)
    with Session(driver.app.engine) as s:
        reg = s.get(Meeting, mid)
        assert reg is not None and reg.period == "2026-12"
        extra = Meeting(cell_id=cell_id, kind=MeetingKind.EXTRAORDINARY.value, seq=1,
                        period="2026-12", scheduled_at=DEC_MEETING + timedelta(days=5))
        s.add(extra)
        for m in (reg, extra):
            m.status = MeetingStatus.HELD.value
            m.started_at, m.ended_at = m.scheduled_at, m.scheduled_at + timedelta(minutes=95)
            m.speakers_count = 4
            s.add(m)
        s.commit()
        ids = reg.id or 0, extra.id or 0
    clock.set(DEC_MEETING + timedelta(days=6))
    return ids


def _no_ids(texts: list[str], *ids: int) -> None:
    for t in texts:
        assert "SỐ_BUỔI" not in t and "số buổi" not in t, t
        for i in ids:
            assert not re.search(rf"\[{i}\]|/\w+ {i}\b", t), t


async def test_meetings_named_by_month_kind_or_button(driver: Driver, clock: FakeClock) -> None:
    reg, extra = await _two_held(driver, clock)
    out = await driver.say(SEC, "/chamdiem")  # two wait: buttons named as people name them
    assert "Đồng chí chọn buổi sinh hoạt" in out[-1]
    buttons = driver.last_buttons()
    assert [d for _l, d in buttons] == [f"mt:chamdiem:{extra}", f"mt:chamdiem:{reg}"]
    assert buttons[1][0] == "Sinh hoạt thường kỳ — 07:30 03/12/2026"
    out = await driver.press(SEC, f"mt:chamdiem:{reg}")
    assert "Chấm điểm Sinh hoạt thường kỳ — 07:30 03/12/2026" in out[0]
    await driver.say(SEC, "/huy")
    # Without buttons (Zalo, the console) the choice is answered by its number.
    await driver.say(SEC, "/chamdiem")
    out = await driver.say(SEC, "2")
    assert "Chấm điểm Sinh hoạt thường kỳ — 07:30 03/12/2026" in out[0]
    await driver.say(SEC, "/huy")
    out = await driver.say(SEC, "/chamdiem 12/2026")
    assert "Chấm điểm Sinh hoạt thường kỳ — 07:30 03/12/2026" in out[0]
    await driver.say(SEC, "/huy")
    out = await driver.say(SEC, "/chamdiem 12/2026 dot xuat")  # diacritics optional
    assert "Chấm điểm Sinh hoạt đột xuất — 07:30 08/12/2026" in out[0]
    await driver.say(SEC, "/huy")
    out = await driver.say(SEC, "/chamdiem tháng 12 đột xuất")
    assert "Sinh hoạt đột xuất — 07:30 08/12/2026" in out[0]
    await driver.say(SEC, "/huy")
    out = await driver.say(SEC, "/chamdiem 5/2026")
    assert out[-1].startswith("Không tìm thấy buổi sinh hoạt “5/2026”. Đồng chí chọn một buổi:")
    assert {d for _l, d in driver.last_buttons()} == {f"mt:chamdiem:{reg}",
                                                     f"mt:chamdiem:{extra}"}
    # Another cell's secretary cannot reach these meetings by a forged button.
    out = await driver.press(OTHER_SEC, f"mt:chamdiem:{reg}")
    assert "không có quyền" in out[-1]
    _no_ids(driver.messenger.texts(), reg, extra)


async def test_override_by_criterion_number_or_vietnamese_label(driver: Driver,
                                                                clock: FakeClock) -> None:
    reg, extra = await _two_held(driver, clock)
    out = await driver.say(SEC, "/dieuchinh 12/2026 ty le phat bieu 4 một ý kiến ngoài lề")
    assert out[-1].startswith("Đã ghi điều chỉnh “Tỷ lệ đảng viên phát biểu” của Sinh hoạt "
                              "thường kỳ — 07:30 03/12/2026: 4 điểm")
    out = await driver.say(SEC, "/dieuchinh 12/2026 xyz 4 lý do")
    assert "“xyz” không phải tiêu chí bot tự tính" in out[-1]
    listing = out[-1].splitlines()
    number = next(int(line.split(".")[0]) for line in listing
                  if "Biên bản ghi đầy đủ" in line)
    assert "prep_committee" not in out[-1] and "conduct_speakers" not in out[-1]
    out = await driver.say(SEC, f"/dieuchinh 12/2026 đột xuất {number} 0 biên bản thiếu ý kiến")
    assert "“Biên bản ghi đầy đủ” của Sinh hoạt đột xuất" in out[-1]
    with Session(driver.app.engine) as s:
        assert set(s.exec(select(MeetingRecord).where(MeetingRecord.meeting_id == reg))
                   .one().overrides) == {"conduct_speakers"}
        assert set(s.exec(select(MeetingRecord).where(MeetingRecord.meeting_id == extra))
                   .one().overrides) == {"conduct_minutes"}
    out = await driver.say(SEC, "/dieuchinh bốn điểm")
    assert out[-1].startswith("Cú pháp: /dieuchinh [tháng] TIÊU CHÍ ĐIỂM LÝ DO")
    out = await driver.say(MEMBER, "/dieuchinh 12/2026 1 4 lý do")
    assert "Chỉ" in out[-1] or "không có quyền" in out[-1]
    _no_ids(driver.messenger.texts(), reg, extra)


async def test_rollcall_again_says_it_was_done(driver: Driver, clock: FakeClock) -> None:
    reg, _extra = await _two_held(driver, clock)
    out = await driver.say(SEC, "/diemdanh")
    assert out[-1].startswith("Sinh hoạt đột xuất — 07:30 08/12/2026 đã được điểm danh.")
    assert "/chamdiem 12/2026 đột xuất" in out[-1]
    out = await driver.say(SEC, "/diemdanh 12/2026")
    assert out[-1].startswith("Sinh hoạt thường kỳ — 07:30 03/12/2026 đã được điểm danh.")
    _no_ids(driver.messenger.texts(), reg)


async def test_schedule_shows_no_ids(driver: Driver, clock: FakeClock) -> None:
    link_cell(driver, QLNS)
    out = await driver.say(MEMBER, "/lichhop")
    assert "Sinh hoạt thường kỳ — 07:30 03/12/2026" in out[-1]
    assert not re.search(r"\[\d+\]", out[-1])


async def test_english_app_gets_vietnamese_until_lang_en(driver: Driver) -> None:
    driver.member(MEMBER)

    async def say(text: str) -> list[str]:
        inc = driver.incoming(MEMBER, text)
        inc = replace(inc, sender=replace(inc.sender, language="en"))  # app set to English
        before = len(driver.messenger.sent)
        driver.app.handle(inc)
        await driver.app.sender.drain()
        return [o.text for o in driver.messenger.sent[before:]]

    out = await say("/lichhop")
    assert out[-1].startswith("Lịch sinh hoạt của Chi bộ")
    out = await say("/lang en")
    assert out[-1] == "Switched to English."
    out = await say("/lichhop")
    assert out[-1].startswith("Meetings of")
    with Session(driver.app.engine) as s:
        assert s.exec(select(Member).where(Member.full_name == MEMBER)).one().locale == "en"


async def test_named_in_english_after_lang_en(driver: Driver, clock: FakeClock) -> None:
    reg, extra = await _two_held(driver, clock)
    await driver.say(SEC, "/lang en")
    out = await driver.say(SEC, "/diemdanh")
    assert "/chamdiem 12/2026 extraordinary" in out[-1]
    out = await driver.say(SEC, "/chamdiem 12/2026 extraordinary")
    assert out[0].startswith("Scoring Extraordinary meeting — 07:30 08/12/2026")
    await driver.say(SEC, "/huy")
    out = await driver.say(SEC, "/chamdiem 12/2026 đột xuất")  # Vietnamese words still work
    assert out[0].startswith("Scoring Extraordinary meeting — 07:30 08/12/2026")
    _no_ids(driver.messenger.texts(), reg, extra)


def test_references_people_type() -> None:
    from datetime import UTC, datetime

    from handlers.forms.named import parse

    now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    tz = "Asia/Ho_Chi_Minh"
    assert parse("12/2026 Trùng lịch", now, tz) == ({"period": "2026-12"}, "Trùng lịch",
                                                    "12/2026")
    assert parse("12/26", now, tz)[0] == {"period": "2026-12"}  # type: ignore[index]
    assert parse("Tháng 12 đột xuất", now, tz)[0] == {  # type: ignore[index]
        "period": "2026-12", "kind": "extraordinary"}
    assert parse("tháng 3", now, tz)[0] == {"period": "2026-03"}  # type: ignore[index]
    assert parse("thang 12 nam 2025", now, tz)[0] == {"period": "2025-12"}  # type: ignore[index]
    assert parse("chuyên đề 11/2026", now, tz)[0] == {  # type: ignore[index]
        "kind": "thematic", "period": "2026-11"}
    assert parse("hop chi uy 15/12/2026", now, tz)[0] == {  # type: ignore[index]
        "kind": "committee", "day": (2026, 12, 15)}
    assert parse("Trùng lịch công tác", now, tz) is None
    # never an int() of a huge number: an id past the columns' range names no meeting (0)
    assert parse("9" * 5000, now, tz)[0] == {"ident": 0}  # type: ignore[index]
    assert parse("tháng " + "9" * 5000, now, tz) is None
    assert parse("tháng ² năm 2026", now, tz) is None  # a digit int() refuses


async def test_officer_names_a_cell_meeting_by_month_and_cell(driver: Driver,
                                                              clock: FakeClock) -> None:
    reg, extra = await _two_held(driver, clock)
    officer = "Đỗ Mạnh Cường"
    out = await driver.say(officer, "/mochamdiem")
    assert out[-1] == "Đồng chí ghi tháng và tên chi bộ, ví dụ: /mochamdiem 11/2026 TÊN CHI BỘ."
    out = await driver.say(officer, "/mochamdiem 12/2026")  # every cell he follows met
    assert out[-1] == "Đồng chí chọn buổi sinh hoạt:"
    labels = [label for label, _d in driver.last_buttons()]
    assert len(labels) > 1 and all(label.startswith("Chi bộ ") for label in labels)
    assert "Chi bộ Phòng Quản lý ngân sách — Sinh hoạt thường kỳ — 07:30 03/12/2026" in labels
    out = await driver.say(officer, "/mochamdiem 12/2026 thuong ky quan ly ngan sach")
    assert out[-1] == "Đã mở lại việc sửa điểm cho Chi bộ Phòng Quản lý ngân sách."
    sec = driver.messenger.texts(f"dm-{driver.member(SEC).id}")
    assert any(t.endswith("/chamdiem 12/2026") for t in sec)  # told in words, no id
    with Session(driver.app.engine) as s:
        assert s.get(Meeting, reg).score_reopened_at is not None  # type: ignore[union-attr]
        assert s.get(Meeting, extra).score_reopened_at is None  # type: ignore[union-attr]
    _no_ids(driver.messenger.texts(), reg, extra)


async def test_small_number_is_a_month_not_a_hidden_id(driver: Driver, clock: FakeClock) -> None:
    """Review: "/mochamdiem 1" as the officer reopened meeting id 1 of some cell; no screen
    shows ids. A typed 1–12 is a month; a month alone over several cells asks which cell,
    the buttons naming each cell with its parent; a button's "#id" stays an id."""
    reg, _extra = await _two_held(driver, clock)
    officer = "Đỗ Mạnh Cường"
    with Session(driver.app.engine) as s:
        small = [m for m in s.exec(select(Meeting).where(Meeting.id <= 12))
                 if m.period[5:7] != f"{m.id:02d}"]
        for m in small:
            m.status = MeetingStatus.HELD.value
            s.add(m)
        s.commit()
        ids = [m.id for m in small]
    assert ids
    for n in ids:
        out = await driver.say(officer, f"/mochamdiem {n}")
        assert not any("Đã mở lại" in t for t in out)
    with Session(driver.app.engine) as s:
        assert all(s.get(Meeting, n).score_reopened_at is None for n in ids)  # type: ignore[union-attr]
    out = await driver.say(officer, "/mochamdiem 12")  # December, in every cell he oversees
    assert out[-1] == "Đồng chí chọn buổi sinh hoạt:"
    labels = [label for label, _d in driver.last_buttons()]
    assert "Chi bộ Văn phòng Sở — Đảng bộ Sở Tài chính — Sinh hoạt thường kỳ — 07:30 03/12/2026" \
        in labels
    out = await driver.press(officer, f"mt:mochamdiem:{reg}")
    assert out[-1] == "Đã mở lại việc sửa điểm cho Chi bộ Phòng Quản lý ngân sách."
