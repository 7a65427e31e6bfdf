"""Figures a bloc can sign, the records (issue 24): deadlines typed without a year, the
minute-taker named before the meeting, tasks offered only to members who can take them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from handlers.forms.engine import Invalid
from handlers.forms.validators import parse_deadline
from models.meeting import Meeting, Task
from models.member import Member
from models.records import MeetingRecord
from tests.helpers import Driver, FakeClock
from tests.test_cycle import _materialise
from tests.test_minutes import SEC as VP_SEC
from tests.test_minutes import _cell as vp_cell
from tests.test_scoring import ANSWERS, _held
from tests.test_scoring import SEC as QLNS_SEC
from tests.yearplay import held


@pytest.mark.parametrize(("typed", "today", "due"), [
    ("20/01", date(2026, 12, 15), date(2027, 1, 20)),  # the next 20 January
    ("20/12", date(2026, 12, 15), date(2026, 12, 20)),
    ("15/12", date(2026, 12, 15), date(2026, 12, 15)),  # today is not past
    ("29/02", date(2026, 3, 1), date(2028, 2, 29)),
    ("20/01/2027", date(2026, 12, 15), date(2027, 1, 20))])
def test_a_day_and_month_means_the_next_such_date(typed: str, today: date, due: date) -> None:
    assert parse_deadline(typed, today) == due


@pytest.mark.parametrize("typed", ["20/01/2026", "14/12/2026", "31/02"])
def test_a_past_or_impossible_deadline_is_refused(typed: str) -> None:
    with pytest.raises(Invalid):
        parse_deadline(typed, date(2026, 12, 15))


async def test_scoring_form_deadlines_and_no_exempted_member(driver: Driver,
                                                             clock: FakeClock) -> None:
    mid = await _held(driver, clock)
    out = await driver.press(QLNS_SEC, f"sc:{mid}")
    for a in ANSWERS[:7]:
        out = await driver.say(QLNS_SEC, a)
    prompt = out[-1]
    assert "Hồ Đức Thắng" in prompt and "Trịnh Văn Hùng" not in prompt  # exempted
    out = await driver.say(QLNS_SEC, "3 | Báo cáo | 01/12/2026")
    assert "Hạn 01/12/2026 đã qua" in out[0]
    for a in ("3 | Báo cáo quyết toán | 20/01", "5 | Rà soát hồ sơ | 15/12", "Xong", "1"):
        out = await driver.say(QLNS_SEC, a)
    assert "Đã ghi điểm" in out[-1]
    with Session(driver.app.engine) as s:
        tasks = {t.description: t for t in s.exec(select(Task).where(Task.meeting_id == mid))}
        names = {t.description: s.get(Member, t.assignee_id) for t in tasks.values()}
    assert tasks["Báo cáo quyết toán"].due_date == date(2027, 1, 20)
    assert names["Rà soát hồ sơ"].full_name == "Phan Thị Thúy"  # 5th once Hùng is left out


async def test_minute_taker_goes_to_the_next_meeting_not_last_months(
        driver: Driver, clock: FakeClock) -> None:
    cell = vp_cell(driver)
    with Session(driver.app.engine) as s:
        november = held(s, cell, 2026, 11, {})
        s.commit()
        nov_id = november.id
    clock.set(datetime(2026, 11, 29, 2, 0, tzinfo=UTC))  # four days before December's
    _materialise(driver.app)
    out = await driver.say(VP_SEC, "/thuky thu ha")
    assert "Phạm Thị Thu Hà ghi biên bản buổi" in out[-1]
    with Session(driver.app.engine) as s:
        [rec] = s.exec(select(MeetingRecord)).all()
        meeting = s.get(Meeting, rec.meeting_id)
        assert meeting is not None and rec.meeting_id != nov_id
        assert meeting.period == "2026-12" and meeting.status == "planned"
    # On the day of a meeting, just after it, the taker goes to that meeting.
    clock.set(datetime(2026, 12, 3, 4, 0, tzinfo=UTC))
    await driver.say(VP_SEC, "/thuky minh")
    with Session(driver.app.engine) as s:
        recs = s.exec(select(MeetingRecord)).all()
        assert len(recs) == 1 and s.get(Meeting, recs[0].meeting_id).period == "2026-12"  # type: ignore[union-attr]
