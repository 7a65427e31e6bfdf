"""Issue 23: members finish their own tasks — "xong 1" or a button; the secretary sees it
and may reopen it; an open task is reminded before its deadline (a cycle step)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from models.meeting import Task
from tests.helpers import SEC, Driver, FakeClock, tick
from tests.test_scoring import ANSWERS, _held, _score

THANG, PHUONG = "Hồ Đức Thắng", "Mai Thị Phương"
TWO_TASKS = [*ANSWERS[:-1], "4 | Rà soát hồ sơ tồn đọng | 20/12", "Xong", "1"]


def _status(driver: Driver) -> dict[str, str]:
    with Session(driver.app.engine) as s:
        return {t.description: t.status for t in s.exec(select(Task))}


async def test_a_member_closes_a_task_the_secretary_reopens_and_reminders(
        driver: Driver, clock: FakeClock) -> None:
    mid = await _held(driver, clock)
    await _score(driver, mid, TWO_TASKS)
    assert _status(driver) == {"Báo cáo giải ngân": "open", "Rà soát hồ sơ tồn đọng": "open"}
    out = await driver.say(THANG, "/nhiemvu")
    assert "1. Báo cáo giải ngân — Hồ Đức Thắng" in out[0]
    assert "Bấm (hoặc gõ “xong 2”) để báo đã hoàn thành:" in out[0]
    # Phương may not close Thắng's task.
    out = await driver.say(PHUONG, "xong 1")
    assert "không có quyền" in out[0]
    out = await driver.say(THANG, "xong 1")
    assert out[0] == "Đã ghi hoàn thành: Báo cáo giải ngân"
    sec_chat = f"dm-{driver.member(SEC).id}"
    told = next(o for o in reversed(driver.messenger.sent) if o.chat_id == sec_chat)
    assert told.text == "Đồng chí Hồ Đức Thắng báo đã hoàn thành nhiệm vụ: Báo cáo giải ngân."
    task_id = told.buttons[0][0].data.split(":")[1]
    out = await driver.say(THANG, "xong 1")  # the list moved on: 1 is now Phương's task
    assert "không có quyền" in out[0]
    # The secretary reopens it; Thắng is told.
    out = await driver.press(SEC, f"nvr:{task_id}")
    assert out[0] == "Đã mở lại nhiệm vụ: Báo cáo giải ngân"
    assert "đã mở lại nhiệm vụ “Báo cáo giải ngân”" in driver.messenger.sent[-1].text
    out = await driver.press(PHUONG, f"nvr:{task_id}")
    assert "không có quyền" in out[0]
    await driver.press(THANG, f"nv:{task_id}")  # done again, by the button
    out = await driver.press(THANG, f"nv:{task_id}")
    assert "không có gì thay đổi" in out[0]
    assert _status(driver)["Báo cáo giải ngân"] == "done"
    # Two days before the deadline (20/12), 08:00 local: only the open task is reminded.
    clock.set(datetime(2026, 12, 18, 0, 59, tzinfo=UTC))
    await tick(driver.app)
    assert not [t for t in driver.messenger.texts() if "Nhắc nhiệm vụ" in t]
    clock.set(datetime(2026, 12, 18, 1, 0, tzinfo=UTC))
    await tick(driver.app)
    reminders = [o for o in driver.messenger.sent if "Nhắc nhiệm vụ" in o.text]
    assert [o.chat_id for o in reminders] == [f"dm-{driver.member(PHUONG).id}"]
    assert reminders[0].text.startswith("🔔 Nhắc nhiệm vụ: “Rà soát hồ sơ tồn đọng”, hạn "
                                        "20/12/2026.")
