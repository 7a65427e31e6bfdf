"""Issue 23, time that respects people: no reminder in the quiet hours (default
21:00–06:30 local), and each cell's secretary chooses the notice day and hour
(/baotruoc), played with the simulated clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from handlers.meetings.notice import parse_notice
from handlers.meetings.schedule_rules import outside_quiet
from models.schedule import ScheduledStep
from tests.helpers import QLNS, SEC, Driver, FakeClock, link_cell, tick
from tests.test_cycle import DEC_MEETING, _keys, _materialise, _meeting

TZ = "Asia/Ho_Chi_Minh"  # UTC+7
Q = "21:00-06:30"


def _local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h - 7, mi, tzinfo=UTC) if h >= 7 else \
        datetime(y, mo, d, h + 17, mi, tzinfo=UTC) - timedelta(days=1)


def test_quiet_hours_move_a_step_to_the_morning_or_the_evening_before() -> None:
    start = _local(2026, 12, 3, 7, 30)
    # 05:30 (2 h before a 07:30 meeting) -> 06:30 the same morning.
    assert outside_quiet(_local(2026, 12, 3, 5, 30), TZ, Q, before=start) == \
        _local(2026, 12, 3, 6, 30)
    # 03:30 -> 06:30; 22:00 -> 06:30 the next morning (an after-meeting step).
    assert outside_quiet(_local(2026, 12, 3, 3, 30), TZ, Q) == _local(2026, 12, 3, 6, 30)
    assert outside_quiet(_local(2026, 12, 3, 22, 0), TZ, Q) == _local(2026, 12, 4, 6, 30)
    # A 06:00 meeting's 04:00 reminder cannot go after it: the evening before, 20:30.
    assert outside_quiet(_local(2026, 12, 3, 4, 0), TZ, Q, before=_local(2026, 12, 3, 6)) == \
        _local(2026, 12, 2, 20, 30)
    # Outside the quiet hours, or with none set: unchanged.
    assert outside_quiet(_local(2026, 12, 3, 8, 0), TZ, Q) == _local(2026, 12, 3, 8, 0)
    assert outside_quiet(_local(2026, 12, 3, 3, 30), TZ, "") == _local(2026, 12, 3, 3, 30)


async def test_the_early_reminder_waits_for_the_morning(driver: Driver,
                                                        clock: FakeClock) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id
    assert _local(2026, 12, 3, 7, 30) == DEC_MEETING
    clock.set(_local(2026, 12, 3, 5, 30))  # 2 h before: the default reminder moment
    await tick(driver.app)
    assert _keys(driver.app, f"m{mid}:remind_2h:") == []
    clock.set(_local(2026, 12, 3, 6, 30))
    await tick(driver.app)
    assert len(_keys(driver.app, f"m{mid}:remind_2h:")) == 7
    texts = driver.messenger.texts(f"dm-{driver.member(SEC).id}")
    assert "🔔 Nhắc lịch: chi bộ sinh hoạt hôm nay lúc 07:30." in texts[-1]  # as it now is


def test_a_reminder_on_the_day_says_today() -> None:
    """Review: a reminder sent at 05:00 on the meeting day for a 07:30 meeting said "chi bộ
    sinh hoạt ngày mai" (its lead time was 24 h). It says the day as of when it goes out."""
    from handlers.meetings.agenda import reminder_text
    from models.meeting import Meeting
    from models.org import Organisation

    m = Meeting(cell_id=1, period="2026-12", scheduled_at=DEC_MEETING,
                timezone="Asia/Ho_Chi_Minh")
    cell = Organisation(name="Chi bộ X", kind="cell")
    first = reminder_text(m, cell, _local(2026, 12, 3, 5, 0)).splitlines()[0]
    assert first == "🔔 Nhắc lịch: chi bộ sinh hoạt hôm nay lúc 07:30."
    first = reminder_text(m, cell, _local(2026, 12, 2, 7, 30)).splitlines()[0]
    assert first == "🔔 Nhắc lịch: chi bộ sinh hoạt ngày mai lúc 07:30."
    first = reminder_text(m, cell, _local(2026, 11, 30, 7, 30)).splitlines()[0]
    assert first == "🔔 Nhắc lịch: chi bộ sinh hoạt lúc 07:30 03/12/2026."


async def test_secretary_sets_the_notice_day_and_hour(driver: Driver,
                                                      clock: FakeClock) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id
    out = await driver.say("Hồ Đức Thắng", "/baotruoc 08:00 hai ngày trước")
    assert "không có quyền" in out[0]
    out = await driver.say(SEC, "/baotruoc sớm một chút")
    assert out[0].startswith("⚠️ Chưa thấy giờ gửi.")
    out = await driver.say(SEC, "/baotruoc 08:00 hai ngày trước")
    assert "thông báo sinh hoạt gửi lúc 08:00, 2 ngày trước ngày họp" in out[0]
    with Session(driver.app.engine) as s:
        due = s.exec(select(ScheduledStep.due_at).where(
            ScheduledStep.meeting_id == mid, ScheduledStep.step == "agenda_post")).one()
    assert due.replace(tzinfo=UTC) == _local(2026, 12, 1, 8, 0)
    clock.set(_local(2026, 11, 30, 7, 30))  # the deployment's 72 h: nothing now
    await tick(driver.app)
    assert _keys(driver.app, f"m{mid}:agenda:") == []
    clock.set(_local(2026, 12, 1, 7, 59))
    await tick(driver.app)
    assert _keys(driver.app, f"m{mid}:agenda:") == []
    clock.set(_local(2026, 12, 1, 8, 0))
    await tick(driver.app)
    assert _keys(driver.app, f"m{mid}:agenda:")
    out = await driver.say(SEC, "/baotruoc")
    assert "08:00, 2 ngày trước ngày họp" in out[0]


def test_notice_words() -> None:
    assert parse_notice("08:00 hai ngày trước") == (2, "08:00")
    assert parse_notice("7h30 hôm trước") == (1, "07:30")
    assert parse_notice("3 ngay truoc luc 14 gio") == (3, "14:00")
