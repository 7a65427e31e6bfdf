"""Issue 23, shorter forms: a step states its instructions once; a wrong value is asked
for again in one line (not the whole 14-line scoring step); "?" shows the step again."""

from __future__ import annotations

from tests.helpers import QLNS, SEC, Driver, FakeClock, link_cell
from tests.test_cycle import _materialise, _meeting
from tests.test_scoring import _held


async def test_a_typo_in_the_score_re_asks_only_that_value(driver: Driver,
                                                          clock: FakeClock) -> None:
    mid = await _held(driver, clock)
    out = await driver.press(SEC, f"sc:{mid}")
    step = out[-1]
    assert step.count("\n") >= 5 and "(1/8) Nhóm 1." in step
    out = await driver.say(SEC, "3 2 ba")  # a 60-year-old's typo
    reply = out[0]
    assert reply.startswith("⚠️ ")
    assert "Nhóm 1." not in reply and "Nhóm 3." not in reply and len(reply.splitlines()) <= 3
    assert "(1/8) Đồng chí gửi lại giá trị này. (Gõ ? để xem lại hướng dẫn.)" in reply
    out = await driver.say(SEC, "?")  # the instructions, again, on request
    assert out[0].startswith("(1/8) Nhóm 1.")
    out = await driver.say(SEC, "3 2 2")
    assert "(2/8) Nhóm 4." in out[0]


async def test_agenda_items_are_acknowledged_in_one_line(driver: Driver) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id
    for answer in (f"/chuongtrinh #{mid}", "Không", "Phòng họp 3"):
        out = await driver.say(SEC, answer)
    assert "Tiêu đề | Người trình bày | Link tài liệu" in out[0]  # stated once
    out = await driver.say(SEC, "Quán triệt nghị quyết | Đ/c Thành")
    assert out[0] == ("Đã ghi mục 1: Quán triệt nghị quyết | Đ/c Dương Văn Thành\n"
                      "(3/3) Nội dung thứ 2, hoặc bấm Xong. (Gõ ? để xem lại hướng dẫn.)")


async def test_a_typo_in_one_score_keeps_the_others(driver: Driver, clock: FakeClock) -> None:
    """Only the item refused is typed again; the group's other items are kept."""
    mid = await _held(driver, clock)
    await driver.press(SEC, f"sc:{mid}")
    await driver.say(SEC, "3 2 2")
    out = await driver.say(SEC, "5 14 2 1 1 7")  # the last item is out of 1
    assert out[0].startswith("⚠️ Mục 6) ")
    assert "Các mục khác đã ghi; đồng chí chỉ gửi lại điểm mục 6)." in out[0]
    assert "Nhóm 4." not in out[0]
    out = await driver.say(SEC, "1")  # just that one
    assert "(3/8) Nhóm 5." in out[0]
    for _ in range(12):  # the other groups at their maximum, up to the summary
        prompt = out[-1]
        if "kiểm tra và xác nhận" in prompt:
            break
        out = await driver.say(SEC, "đủ" if "Nhóm" in prompt else "-" if "Tỷ lệ hoàn thành"
                               in prompt else "Kết luận." if "Kết luận" in prompt else "Xong")
    assert any("4. Tổ chức sinh hoạt: 29/30" in t for t in out), out
