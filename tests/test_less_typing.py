"""Issue 23's effort target: the bot needs less typing from the secretary. Meetings named
in words at a form's meeting step; the programme typed once (chi ủy and agenda); Sổ tay
links taken from the agenda; the roll call confirmed once; the next step offered as
buttons; the resolution taken from the minutes with one tap."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from models.meeting import Meeting
from tests.helpers import QLNS, SEC, Driver, FakeClock, link_cell
from tests.test_cycle import DEC_MEETING, _materialise, _meeting


def _form_step(driver: Driver) -> str | None:
    from models.form import FormState as State

    with Session(driver.app.engine) as s:
        row = s.exec(select(State)).first()
        return row.step if row else None


async def test_meeting_step_takes_the_names_commands_take(driver: Driver,
                                                           clock: FakeClock) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    dec = _meeting(driver.app, cell)
    clock.set(DEC_MEETING - timedelta(days=5))
    out = await driver.say(SEC, "/chuongtrinh")
    assert "Chọn buổi sinh hoạt:" in out[-1] and len(driver.last_buttons()) == 2
    out = await driver.say(SEC, "5/2026")  # no such meeting: refused, nothing changes
    assert "Không có buổi “5/2026” trong danh sách" in out[-1]
    assert _form_step(driver) == "meeting"
    out = await driver.say(SEC, "12/2026")
    assert "Buổi này có kết hợp sinh hoạt chuyên đề không?" in out[-1]
    with Session(driver.app.engine) as s:
        from models.form import FormState as State

        assert s.exec(select(State)).one().data["meeting"] == dec.id
    await driver.say(SEC, "/huy")
    await driver.say(SEC, "/chuongtrinh")
    out = await driver.say(SEC, "tháng 1/2027")  # the other one offered
    assert "Buổi này có kết hợp sinh hoạt chuyên đề không?" in out[-1]
    with Session(driver.app.engine) as s:
        from models.form import FormState as State

        jan = s.get(Meeting, s.exec(select(State)).one().data["meeting"])
        assert jan is not None and jan.period == "2027-01"
