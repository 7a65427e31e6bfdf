"""The agenda form, its post to the group, corrections, and last month's tasks."""

from datetime import timedelta

from sqlmodel import Session, select

from models.meeting import AgendaItem, Meeting
from tests.helpers import QLNS, SEC, Driver, FakeClock, link_cell, tick
from tests.test_cycle import DEC_MEETING, _materialise, _meeting


async def test_agenda_is_posted_then_corrected(driver: Driver, clock: FakeClock) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id
    answers = [f"/chuongtrinh #{mid}", "Có", "Học tập tư tưởng Hồ Chí Minh về tự phê bình",
               "https://meet.example.vn/chibo-qlns",
               "Chuyên đề tự phê bình | Đ/c Thành | https://tailieu.example.vn/cd.pdf",
               "a | b | c | d", "Kiểm điểm giải ngân", "Xong"]
    for a in answers:
        out = await driver.say(SEC, a)
    assert "Mỗi nội dung gồm tối đa 3 phần" in driver.messenger.texts()[-3]
    assert "kết hợp chuyên đề" in out[0] and "📎 https://tailieu.example.vn/cd.pdf" in out[0]
    out = await driver.say(SEC, "1")
    assert "Đã lưu chương trình" in out[0]
    clock.set(DEC_MEETING - timedelta(hours=72))
    await tick(driver.app)
    post = driver.messenger.texts(f"group-{cell.id}")[-1]
    assert post.startswith("📢 THÔNG BÁO") and "🔗 Trực tuyến: https://meet.example.vn" in post
    # "Đ/c Thành" is the cell's one Thành: named in full in the post.
    assert "1. Chuyên đề tự phê bình — Đ/c Dương Văn Thành" in post
    assert "2. Kiểm điểm giải ngân" in post
    with Session(driver.app.engine) as s:
        m = s.get(Meeting, mid)
        assert m.thematic_part and m.docs_posted_at == clock() and m.agenda_posted_rev == 1
    # An edit after the post goes out at once as a correction.
    # It starts from the saved items: one is removed, the other corrected, by number.
    for a in [f"/chuongtrinh #{mid}", "Có", "Học tập tư tưởng Hồ Chí Minh", "Hội trường A",
              "xóa 2", "sửa 1 | Chuyên đề | Đ/c Thành", "Xong", "1"]:
        out = await driver.say(SEC, a)
    assert "đính chính" in out[-1]
    post = driver.messenger.texts(f"group-{cell.id}")[-1]
    assert post.startswith("📢 ĐÍNH CHÍNH") and "📍 Địa điểm: Hội trường A" in post
    with Session(driver.app.engine) as s:
        assert [i.title for i in s.exec(select(AgendaItem).where(
            AgendaItem.meeting_id == mid))] == ["Chuyên đề"]


async def test_next_agenda_lists_last_months_tasks(driver: Driver, clock: FakeClock) -> None:
    from tests.test_scoring import ANSWERS, _held, _score

    mid = await _held(driver, clock)
    await _score(driver, mid, [*ANSWERS, "1"])
    with Session(driver.app.engine) as s:
        cell_id = s.get(Meeting, mid).cell_id
        jan = s.exec(select(Meeting).where(Meeting.cell_id == cell_id,
                                           Meeting.period == "2027-01")).one()
    clock.set(jan.scheduled_at - timedelta(hours=72))
    await tick(driver.app)
    post = driver.messenger.texts(f"group-{cell_id}")[-1]
    assert "Nhiệm vụ tháng trước cần kiểm điểm:" in post
    assert "• Báo cáo giải ngân — Hồ Đức Thắng (hạn 20/12/2026)" in post


async def test_agenda_is_for_cell_leaders_only(driver: Driver) -> None:
    link_cell(driver, QLNS)
    out = await driver.say("Hồ Đức Thắng", "/chuongtrinh")
    assert "không có quyền" in out[0]
