"""Issue 23: the roll call as a secretary of sixty types it — words, accents or none,
"tất cả có mặt", "tất cả trừ 3, 7", names — and a typo re-asks only that item."""

from datetime import timedelta

from tests.helpers import SEC, Driver, FakeClock
from tests.test_attendance import _rows, _setup
from tests.test_cycle import DEC_MEETING


async def _open_roll(driver: Driver, clock: FakeClock) -> int:
    _cid, mid = await _setup(driver, clock)
    clock.set(DEC_MEETING + timedelta(hours=2))
    await driver.press(SEC, f"rc:{mid}")
    await driver.say(SEC, "1")
    await driver.say(SEC, "9 giờ 30")
    out = await driver.say(SEC, "3")  # speakers
    assert "7. [?] Tạ Thị Hạnh" in out[0]
    return mid


async def test_roll_call_in_words(driver: Driver, clock: FakeClock) -> None:
    mid = await _open_roll(driver, clock)
    out = await driver.say(SEC, "tat ca co mat")  # no accents
    assert "Đã sửa 7 dòng." in out[0] and "Có mặt 7, đến muộn 0" in out[0]
    out = await driver.say(SEC, "6 vắng đi học")
    assert "6. [v] Châu Minh Tuấn — đi học" in out[0]
    out = await driver.say(SEC, "7 muộn")
    assert "7. [m] Tạ Thị Hạnh" in out[0]
    out = await driver.say(SEC, "Thắng vắng không lý do")  # by name
    assert "3. [k] Hồ Đức Thắng" in out[0]
    out = await driver.say(SEC, "3, 5 có mặt")  # bare numbers take the next status
    assert "3. [c] Hồ Đức Thắng" in out[0] and "5. [c] Phan Thị Thúy" in out[0]
    out = await driver.say(SEC, "tất cả trừ 6, 7")
    # 6 keeps the reason given (excused); 7 gave none (unexcused).
    assert "6. [v] Châu Minh Tuấn — đi học" in out[0] and "7. [k] Tạ Thị Hạnh" in out[0]
    assert "Có mặt 5, đến muộn 0, vắng có lý do 1, vắng không lý do 1" in out[0]
    out = await driver.say(SEC, "Đúng")
    assert "hợp lệ" in out[0]
    rows = _rows(driver, mid)
    assert (rows["Châu Minh Tuấn"].status, rows["Châu Minh Tuấn"].reason) == ("excused",
                                                                              "đi học")
    assert rows["Tạ Thị Hạnh"].status == "unexcused"
    assert rows["Hồ Đức Thắng"].status == "present"


async def test_a_typo_re_asks_only_the_item_that_failed(driver: Driver,
                                                       clock: FakeClock) -> None:
    await _open_roll(driver, clock)
    out = await driver.say(SEC, "6 vắng đi học\n8 có mặt\n4 hình như đến")
    reply = out[0]
    # The line understood is applied; the two others are named, and only they.
    assert "Đã sửa 1 dòng." in reply and "6. [v] Châu Minh Tuấn — đi học" in reply
    assert "“8 có mặt”: số thứ tự phải từ 1 đến 7." in reply
    assert "“4 hình như đến”: không hiểu" in reply
    assert "Danh sách điểm danh" not in reply and "Dương Văn Thành" not in reply
    out = await driver.say(SEC, "Đúng")
    assert "Còn 6 đồng chí chưa xác định" in out[0]


async def test_all_but_keeps_the_reason_as_typed(driver: Driver, clock: FakeClock) -> None:
    """"tất cả có mặt trừ 6 vắng ốm": the reason keeps its accents (it was read folded)."""
    mid = await _open_roll(driver, clock)
    out = await driver.say(SEC, "tất cả có mặt trừ 6 vắng ốm nặng")
    assert "6. [v] Châu Minh Tuấn — ốm nặng" in out[0]
    assert "Có mặt 6, đến muộn 0, vắng có lý do 1" in out[0]
    await driver.say(SEC, "Đúng")
    assert _rows(driver, mid)["Châu Minh Tuấn"].reason == "ốm nặng"
