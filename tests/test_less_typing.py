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


def _docx_text(driver: Driver, mid: int, doc_type: str) -> str:
    import io

    from docx import Document

    from models.files import StoredFile
    from models.records import latest_revision

    with Session(driver.app.engine) as s:
        rev = latest_revision(s, mid, doc_type, final=True)
        assert rev is not None
        f = s.get(StoredFile, rev.file_id)
        assert f is not None
        doc = Document(io.BytesIO(f.data))
    return "\n".join(p.text for p in doc.paragraphs) + "\n" + "\n".join(
        c.text for t in doc.tables for row in t.rows for c in row.cells)


SOTAY = "https://sotay.dangcongsan.vn/tai-lieu/nq-dai-hoi"


async def test_programme_typed_once_for_chi_uy_and_agenda(driver: Driver,
                                                          clock: FakeClock) -> None:
    from models.records import CommitteeMeeting, DocType, MeetingRecord

    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id or 0
    clock.set(DEC_MEETING - timedelta(days=5))
    await driver.press(SEC, f"hcu:{mid}")
    await driver.say(SEC, "Vừa họp xong")
    out = await driver.say(SEC, "Đủ tất cả")
    assert "hoặc chọn nút chương trình để khỏi gõ hai lần" in out[-1]
    assert driver.last_buttons()[0][0] == "📋 Thống nhất chương trình (nhập ngay sau đây)"
    out = await driver.say(SEC, "1")
    assert "Nội dung: Thống nhất chương trình buổi sinh hoạt (bí thư nhập chương trình" in out[-1]
    out = await driver.say(SEC, "1")  # confirmed: the agenda form opens at once
    assert "nội dung là chương trình đồng chí nhập ngay sau đây" in out[0]
    assert "link Sổ tay trong chương trình được ghi là đã đăng" in out[0]
    assert "Buổi này có kết hợp sinh hoạt chuyên đề không?" in out[-1]
    for answer in ("Không", "Phòng họp tầng 3",
                   f"Quán triệt Nghị quyết Đại hội | Đ/c Dương Văn Thành | {SOTAY}",
                   "Kiểm điểm giải ngân | Đ/c Lý Thị Kim Oanh", "Xong"):
        await driver.say(SEC, answer)
    out = await driver.say(SEC, "1")
    assert out[0].startswith("Đã lưu chương trình.")
    assert "Đã ghi: tài liệu buổi Sinh hoạt thường kỳ — 07:30 03/12/2026 đăng lên Sổ tay " \
           "trước 120 giờ." in out[0]
    with Session(driver.app.engine) as s:
        cm = s.exec(select(CommitteeMeeting).where(CommitteeMeeting.meeting_id == mid)).one()
        assert cm.content == ""  # it follows the agenda
        rec = s.exec(select(MeetingRecord).where(MeetingRecord.meeting_id == mid)).one()
        assert rec.sotay_before_at == clock() and rec.sotay_before_link == SOTAY
    # The chi ủy's minutes were written again with the agenda's items.
    text = _docx_text(driver, mid, DocType.COMMITTEE.value)
    assert "Thống nhất chương trình buổi sinh hoạt:" in text
    assert "1. Quán triệt Nghị quyết Đại hội — Đ/c Dương Văn Thành" in text
    assert "2. Kiểm điểm giải ngân — Đ/c Lý Thị Kim Oanh" in text
    # /hopchiuy again, after the agenda: the button names the agenda entered.
    await driver.say(SEC, "/hopchiuy 12/2026")
    await driver.say(SEC, "Vừa họp xong")
    await driver.say(SEC, "Đủ tất cả")
    assert driver.last_buttons()[0][0] == "📋 Theo chương trình đã nhập (2 nội dung)"
    out = await driver.say(SEC, "1")
    assert "1. Quán triệt Nghị quyết Đại hội — Đ/c Dương Văn Thành" in out[-1]
    # Typed content is still taken as it was, and the minutes keep it.
    await driver.say(SEC, "/huy")
    for answer in ("/hopchiuy 12/2026", "Vừa họp xong", "Đủ tất cả",
                   "Thống nhất dự thảo nghị quyết tháng 12", "1"):
        out = await driver.say(SEC, answer)
    assert "Nhắc đồng chí: nhập chương trình (/chuongtrinh) nếu chưa nhập." in out[0]
    assert "Thống nhất dự thảo nghị quyết tháng 12" in _docx_text(driver, mid,
                                                                   DocType.COMMITTEE.value)


async def test_only_sotay_links_count_as_posted_on_sotay(driver: Driver,
                                                         clock: FakeClock) -> None:
    from models.records import MeetingRecord

    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id or 0
    clock.set(DEC_MEETING - timedelta(days=5))
    for answer in (f"/chuongtrinh #{mid}", "Không", "-",
                   "Báo cáo | Đ/c Thành | https://drive.example.vn/bao-cao.pdf", "Xong"):
        await driver.say(SEC, answer)
    out = await driver.say(SEC, "1")
    assert "Sổ tay" not in out[0]
    with Session(driver.app.engine) as s:
        assert s.exec(select(MeetingRecord).where(MeetingRecord.meeting_id == mid)).first() \
            is None
