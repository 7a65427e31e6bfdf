"""One played month's records: the minutes captured in the private chat, checked and
confirmed, the resolution issued; both opened with python-docx and checked line by line."""

from __future__ import annotations

import io
import itertools
import re
from datetime import timedelta

from docx import Document
from sqlmodel import Session, select

from models.files import StoredFile
from models.meeting import AgendaItem, Meeting
from models.member import Member, RoleAssignment
from models.org import Organisation
from models.records import DocumentRevision, MeetingRecord, Opinion
from tests.helpers import Driver, FakeClock, tick
from tests.test_cycle import DEC_MEETING, _materialise

SEC = "Nguyễn Văn An"  # secretary of Chi bộ Văn phòng Sở (Sở Tài chính)
DEPUTY = "Trần Thị Bích Ngọc"
MEMBER = "Phạm Thị Thu Hà"
FOLLOWER = "Dương Văn Thành"  # made the upper-level member following the cell
OTHER_SEC = "Nguyễn Thị Thanh Hương"  # secretary of a cell in another base organisation
# Roster order (due members by id): An, Ngọc, Minh, Hà, Dũng, Lan Anh, Huy, Cường, Mai.
ROLL = "5 v ốm điều trị, 6 v đi công tác Hà Nội, 7 v việc gia đình, 8 k, * c"
ABSENT = {"Hoàng Văn Dũng": "ốm điều trị", "Vũ Thị Lan Anh": "đi công tác Hà Nội",
          "Đặng Quốc Huy": "việc gia đình", "Đỗ Mạnh Cường": None}
OPINIONS = [
    ("Ha", "Phạm Thị Thu Hà", "Đề nghị đẩy nhanh tiến độ giải ngân vốn đầu tư công."),
    ("minh", "Lê Hoàng Minh", "Cần rà soát hồ sơ lưu trữ của Văn phòng trước ngày 20/12."),
    ("Ngọc", "Trần Thị Bích Ngọc", "Thống nhất với dự thảo nghị quyết, bổ sung phần kiểm tra."),
    ("Thu Hà", "Phạm Thị Thu Hà", "Đề xuất biểu dương đồng chí Mai hoàn thành tốt nhiệm vụ."),
    ("nguyen van an", "Nguyễn Văn An", "Tiếp thu các ý kiến, giao Văn phòng tổng hợp."),
]


def _cell(driver: Driver) -> Organisation:
    an = driver.member(SEC)
    with Session(driver.app.engine) as s:
        cell = s.get(Organisation, an.cell_id)
        assert cell is not None
        return cell


def linked_cell_with_follower(driver: Driver) -> tuple[Organisation, int]:
    """Link every member of the cell and its follower; the December meeting's id."""
    cell = _cell(driver)
    with Session(driver.app.engine) as s:
        names = [m.full_name for m in s.exec(select(Member).where(
            Member.cell_id == cell.id, Member.active == True))]  # noqa: E712
    for n in names:
        driver.member(n)
    follower = driver.member(FOLLOWER)
    _materialise(driver.app)
    with Session(driver.app.engine) as s:
        s.add(RoleAssignment(member_id=follower.id or 0, org_id=cell.id or 0, role="follower"))
        mid = s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                           Meeting.scheduled_at == DEC_MEETING)).one().id or 0
        s.commit()
    return cell, mid


async def setup_month(driver: Driver, clock: FakeClock) -> tuple[int, int]:
    """Link the cell, add a follower and an agenda, hold the roll call, score it."""
    cell, mid = linked_cell_with_follower(driver)
    with Session(driver.app.engine) as s:
        meeting = s.get(Meeting, mid)
        assert meeting is not None
        meeting.place = "Phòng họp tầng 2, Sở Tài chính"
        s.add(meeting)
        s.add(AgendaItem(meeting_id=meeting.id or 0, position=1,
                         title="Kết quả thực hiện nhiệm vụ tháng 11", presenter="Nguyễn Văn An"))
        s.add(AgendaItem(meeting_id=meeting.id or 0, position=2,
                         title="Nhiệm vụ tháng 12 và công tác cuối năm",
                         presenter="Trần Thị Bích Ngọc"))
        s.commit()
    clock.set(DEC_MEETING - timedelta(hours=72))
    await tick(driver.app)
    clock.set(DEC_MEETING + timedelta(hours=2))
    await driver.press(SEC, f"rc:{mid}")
    for answer in ("1", "09:45", "3", ROLL, "Đúng"):
        await driver.say(SEC, answer)
    return cell.id or 0, mid


async def score(driver: Driver, mid: int) -> None:
    """Answer the scoring form whatever its steps: full marks, a conclusion, two tasks."""
    out = await driver.press(SEC, f"sc:{mid}")
    tasks = ["4 | Hoàn thành báo cáo giải ngân quý IV | 20/12",
             "3 | Rà soát hồ sơ lưu trữ của Văn phòng | 25/12", "Xong"]
    for _ in range(30):
        prompt = out[-1]
        if "Nhóm" in prompt:
            out = await driver.say(SEC, "đủ")
        elif "Tỷ lệ hoàn thành nhiệm vụ tháng trước" in prompt:
            out = await driver.say(SEC, "-")
        elif "Kết luận / nghị quyết" in prompt:
            out = await driver.say(SEC, "Chi bộ thống nhất đẩy nhanh giải ngân, hoàn thành "
                                        "nhiệm vụ cuối năm.")
        elif "Nhiệm vụ thứ" in prompt:
            out = await driver.say(SEC, tasks.pop(0))
        elif "kiểm tra và xác nhận" in prompt:
            await driver.say(SEC, "1")
            return
        else:
            raise AssertionError(prompt)
    raise AssertionError("scoring form did not end")


async def capture(driver: Driver, mid: int) -> list[str]:
    out = await driver.say(SEC, f"/ghibienban #{mid}")
    assert "Khách mời" in out[-1]
    assert "➕ Dương Văn Thành (cấp ủy viên phụ trách)" in [b[0] for b in driver.last_buttons()]
    await driver.say(SEC, "1")  # the follower attended
    out = await driver.say(SEC, "Trần Văn Khách | Phó Chánh Văn phòng Sở")
    assert "Đã ghi khách mời: Trần Văn Khách" in out[-1]
    out = await driver.say(SEC, "Xong")
    assert "chủ trì" in out[-1]
    await driver.say(SEC, "1")  # An chairs
    out = await driver.say(SEC, "Ngoc")  # Ngọc takes the minutes: named, without diacritics
    assert "Ý kiến phát biểu" in out[-1]
    for typed, name, text in OPINIONS:
        out = await driver.say(SEC, f"{typed}: {text}")
        assert f"của đồng chí {name}" in out[-1], out[-1]
    return out


def _text(blob: bytes) -> str:
    doc = Document(io.BytesIO(blob))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def _final(driver: Driver, mid: int, doc_type: str) -> bytes:
    with Session(driver.app.engine) as s:
        rev = s.exec(select(DocumentRevision).where(
            DocumentRevision.meeting_id == mid, DocumentRevision.doc_type == doc_type,
            DocumentRevision.final == True).order_by(DocumentRevision.revision.desc())  # noqa: E712
        ).first()
        assert rev is not None, f"no final {doc_type}"
        f = s.get(StoredFile, rev.file_id)
        assert f is not None
        return f.data


async def test_one_month_minutes_and_resolution(driver: Driver, clock: FakeClock) -> None:
    _cid, mid = await setup_month(driver, clock)
    await score(driver, mid)
    out = await capture(driver, mid)
    # An unknown name asks which member was meant; the secretary drops it.
    out = await driver.say(SEC, "Tuan: Ý kiến của người không dự họp.")
    assert "Không tìm thấy “Tuan”" in out[-1]
    assert "Bỏ ý kiến này" in [b[0] for b in driver.last_buttons()]
    out = await driver.say(SEC, "Bỏ ý kiến này")
    # Edit and remove until confirmed.
    out = await driver.say(SEC, "Mai: Ý kiến tạm.")
    assert "ý kiến 6 của đồng chí Ngô Thị Mai" in out[-1]
    out = await driver.say(SEC, "xóa 6")
    assert "Đã xóa ý kiến số 6" in out[-1]
    out = await driver.say(SEC, "sửa 2: " + OPINIONS[1][2])
    assert "Đã sửa ý kiến số 2" in out[-1]
    out = await driver.say(SEC, "Xong")
    assert "Kết quả thực hiện nhiệm vụ tháng 11" in out[-1]
    await driver.say(SEC, "Chi bộ hoàn thành 90% nhiệm vụ tháng 11.")
    await driver.say(SEC, "Thống nhất nhiệm vụ tháng 12 như dự thảo.")
    out = await driver.say(SEC, "Chi bộ tập trung hoàn thành nhiệm vụ năm 2026.")
    assert "Biểu quyết" in out[-1]
    out = await driver.say(SEC, "9 0 0")  # more than the 5 present
    assert "vượt quá số đảng viên có mặt (5)" in out[-1]
    out = await driver.say(SEC, "4 0 1")
    assert "5 ý kiến của 4 người" in out[-1] and "tán thành 4" in out[-1]
    with Session(driver.app.engine) as s:  # nothing written before the confirmation
        assert not list(s.exec(select(Opinion).where(Opinion.meeting_id == mid)))
    out = await driver.say(SEC, "1")
    # The secretary's confirmation of the form is the only one (issue 23): the minutes are
    # final at once, as revision 1, with no draft to confirm a second time.
    assert any("Đã xác nhận biên bản; đây là bản chính thức" in t for t in out)
    assert any("Đã ban hành nghị quyết Số 01-NQ/CB" in t for t in out)
    assert not [o for o in driver.messenger.sent if o.attachment is not None
                and o.attachment.filename.endswith("du-thao.docx")]
    out = await driver.press(SEC, f"bb:ok:{mid}:1")  # an old-style button: nothing to do
    assert any("không còn hiệu lực" in t for t in out)
    with Session(driver.app.engine) as s:
        rec = s.exec(select(MeetingRecord).where(MeetingRecord.meeting_id == mid)).one()
        assert rec.status == "final" and rec.resolution_no == 1 and rec.resolution_year == 2026
        assert s.get(Meeting, mid).speakers_count == 4  # from the opinions

    minutes = _text(_final(driver, mid, "bienban"))
    assert "BIÊN BẢN" in minutes and "THÁNG 12 NĂM 2026" in minutes
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in minutes and "CHI BỘ VĂN PHÒNG SỞ" in minutes
    for name, reason in ABSENT.items():
        line = next(x for x in minutes.splitlines() if name in x)
        assert (reason in line) if reason else "vắng không có lý do" in line, line
    for _typed, name, text in OPINIONS:
        assert f"Đồng chí {name}: {text}" in minutes
    assert "Dương Văn Thành" in minutes and "cấp ủy cấp trên dự" in minutes
    assert "tán thành 4/5" in minutes and "không tán thành 0" in minutes
    assert "ý kiến khác 1" in minutes
    assert "Hoàn thành báo cáo giải ngân quý IV — đồng chí Phạm Thị Thu Hà" in minutes
    assert "20/12/2026" in minutes and "25/12/2026" in minutes
    assert "Chủ trì: đồng chí Nguyễn Văn An" in minutes.replace("- Chủ trì:", "Chủ trì:")
    assert "Thư ký: đồng chí Trần Thị Bích Ngọc" in minutes.replace("- Thư ký:", "Thư ký:")
    assert "07 giờ 30" in minutes and "09 giờ 45" in minutes
    assert not re.search(r"\{|\}|…|\.\.\.|None", minutes), "placeholder left"

    resolution = _text(_final(driver, mid, "nghiquyet"))
    assert "Số 01-NQ/CB" in resolution and "NGHỊ QUYẾT" in resolution
    assert "THÁNG 12 NĂM 2026" in resolution and "TỔ CHỨC THỰC HIỆN" in resolution
    assert "có mặt 5" in resolution and "xếp loại" in resolution
    for name in ABSENT:
        assert name in resolution
    assert "Rà soát hồ sơ lưu trữ của Văn phòng — đồng chí Lê Hoàng Minh" in resolution
    assert "hạn 25/12/2026" in resolution and "T/M CHI BỘ" in resolution
    assert not re.search(r"\{|\}|…|\.\.\.|None", resolution), "placeholder left"

    # The resolution went to the group and to the follower privately.
    follower_id = driver.member(FOLLOWER).id
    sent = [o for o in driver.messenger.sent if o.attachment is not None
            and o.attachment.filename == "nghi-quyet-2026-12.docx"]
    assert {o.chat_id for o in sent} >= {f"dm-{follower_id}"}
    assert any(o.chat_id.startswith("group-") for o in sent)
    # A member now reads the final documents of the cell.
    before = len(driver.messenger.sent)
    await driver.say(MEMBER, "/bienban 12/2026")
    got = driver.messenger.sent[before:]
    assert got and got[0].attachment is not None
    assert got[0].attachment.filename == "bien-ban-2026-12.docx"


async def test_access_and_correction_window(driver: Driver, clock: FakeClock) -> None:
    cid, mid = await setup_month(driver, clock)
    # A plain member may not write the minutes; another cell's secretary neither.
    out = await driver.say(MEMBER, f"/ghibienban #{mid}")
    assert "không có quyền" in out[-1]
    out = await driver.say(OTHER_SEC, f"/ghibienban #{mid}")
    assert "Không tìm thấy buổi sinh hoạt" in out[-1] or "không có quyền" in out[-1]
    # The secretary names Hà minute-taker: she may write them.
    out = await driver.say(SEC, "/thuky thu ha")
    assert "Phạm Thị Thu Hà ghi biên bản" in out[-1]
    out = await driver.say(MEMBER, f"/ghibienban #{mid}")
    assert "Khách mời" in out[-1]
    for answer in ("Xong", "1", "4", "Hà: Ý kiến của thư ký.", "Xong", "-", "-",
                   "Kết luận chung.", "Tất cả tán thành", "1"):
        out = await driver.say(MEMBER, answer)
    assert any("Đã lưu biên bản dự thảo" in t for t in out)
    # The minute-taker cannot confirm; the secretary can.
    out = await driver.press(MEMBER, f"bb:ok:{mid}:1")
    assert "không có quyền" in out[-1]
    out = await driver.press(SEC, f"bb:ok:{mid}:1")
    assert any("Đã xác nhận biên bản" in t for t in out)
    # The resolution waits for the score, and says so the right way round.
    assert "Nghị quyết sẽ được ban hành khi: buổi sinh hoạt được chấm điểm (/chamdiem 12/2026)." \
        in out
    # Another cell's members cannot read them; an officer above can.
    out = await driver.press(OTHER_SEC, f"mt:bienban:{mid}")  # a forged meeting button
    assert "không có quyền" in out[-1]
    # A correction within 7 days is a new draft; after 7 days the base organisation reopens.
    clock.advance(days=8)
    out = await driver.say(SEC, f"/ghibienban #{mid}")
    assert "/mobienban" in out[-1]
    out = await driver.say(DEPUTY, f"/mobienban #{mid}")
    assert "không có quyền" in out[-1]
    officer = "Đỗ Mạnh Cường"  # Cán bộ Ban Tổ chức of the base organisation
    out = await driver.say(officer, f"/mobienban #{mid}")
    assert "Đã mở lại việc sửa biên bản" in out[-1]
    out = await driver.say(SEC, f"/ghibienban #{mid}")
    assert "Khách mời" in out[-1]
    with Session(driver.app.engine) as s:
        revs = list(s.exec(select(DocumentRevision.revision, DocumentRevision.final).where(
            DocumentRevision.meeting_id == mid, DocumentRevision.doc_type == "bienban")))
        assert sorted(revs) == [(1, False), (2, True)]  # every revision kept
        assert s.get(Organisation, cid) is not None


async def test_minutes_during_the_meeting_then_roll_call_counts_speakers(
        driver: Driver, clock: FakeClock) -> None:
    """Opinions captured while the meeting runs: the roll call no longer asks how many
    members spoke; the count comes from the opinions. A crash mid-capture resumes."""
    cell = _cell(driver)
    for n in (SEC, DEPUTY, MEMBER, "Lê Hoàng Minh"):
        driver.member(n)
    _materialise(driver.app)
    with Session(driver.app.engine) as s:
        mid = s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                           Meeting.scheduled_at == DEC_MEETING)).one().id or 0
    clock.set(DEC_MEETING + timedelta(minutes=40))
    await driver.say(SEC, f"/ghibienban #{mid}")
    for answer in ("Xong", "1", "1", "Ha: Ý kiến thứ nhất.", "minh: Ý kiến thứ hai."):
        await driver.say(SEC, answer)
    # The process restarts: a new App on the same database resumes the form at its step.
    from bot.app import App

    app2 = App(driver.app.settings, clock=clock, messengers=[driver.messenger],
               migrate_db=False, engine=driver.app.engine)
    driver2 = Driver(app2, driver.messenger)
    driver2._ids = itertools.count(10_000)  # new update ids after the restart
    out = await driver2.say(SEC, "Ngoc: Ý kiến thứ ba.")
    assert "Đã ghi ý kiến 3 của đồng chí Trần Thị Bích Ngọc" in out[-1]
    for answer in ("Xong", "-", "-", "Kết luận.", "Tất cả tán thành", "1"):
        out = await driver2.say(SEC, answer)
    await driver2.press(SEC, f"bb:ok:{mid}:1")
    clock.set(DEC_MEETING + timedelta(hours=2))
    out = await driver2.press(SEC, f"rc:{mid}")
    out = await driver2.say(SEC, "1")
    out = await driver2.say(SEC, "09:45")  # no question about the number of speakers
    assert "số người phát biểu: 3." in out[-1]
    for answer in (ROLL, "Đúng"):
        out = await driver2.say(SEC, answer)
    assert "Số người phát biểu: 3" in out[-1]
    with Session(driver.app.engine) as s:
        assert s.get(Meeting, mid).speakers_count == 3
    assert ("🖊 Ghi biên bản", f"bb:edit:{mid}") in driver2.last_buttons()


async def test_scoring_offers_the_conclusions_the_minutes_hold(
        driver: Driver, clock: FakeClock) -> None:
    """Minutes first, scoring after: the conclusion step shows the chair's conclusions
    and takes them with one press instead of retyping."""
    _cid, mid = await setup_month(driver, clock)
    await capture(driver, mid)
    for answer in ("Xong", "Chi bộ hoàn thành 90% nhiệm vụ tháng 11.",
                   "Thống nhất nhiệm vụ tháng 12 như dự thảo.", "-", "4 0 1", "1"):
        await driver.say(SEC, answer)
    out = await driver.press(SEC, f"sc:{mid}")
    for _ in range(10):
        if "Kết luận / nghị quyết" in out[-1]:
            break
        out = await driver.say(SEC, "đủ" if "Nhóm" in out[-1] else "-")
    assert "Biên bản đã ghi kết luận:\n• Kết quả thực hiện nhiệm vụ tháng 11: Chi bộ hoàn " \
           "thành 90% nhiệm vụ tháng 11." in out[-1]
    assert "Dùng kết luận trong biên bản" in [b[0] for b in driver.last_buttons()]
    out = await driver.say(SEC, "Dùng kết luận trong biên bản")
    assert "Nhiệm vụ thứ" in out[-1]
    await driver.say(SEC, "Xong")
    await driver.say(SEC, "1")
    with Session(driver.app.engine) as s:
        assert s.get(Meeting, mid).conclusion == (
            "• Kết quả thực hiện nhiệm vụ tháng 11: Chi bộ hoàn thành 90% nhiệm vụ tháng 11."
            "\n• Nhiệm vụ tháng 12 và công tác cuối năm: Thống nhất nhiệm vụ tháng 12 như "
            "dự thảo.")
    assert any("📄 KẾT LUẬN BUỔI SINH HOẠT" in o.text and "Chi bộ hoàn thành 90%" in o.text
               for o in driver.messenger.sent)


async def test_a_failed_vote_issues_no_resolution(driver: Driver, clock: FakeClock) -> None:
    """0 for and 5 against: the minutes record the failed vote, no resolution is numbered
    or sent, and the secretary is told what follows; a new vote then issues it."""
    _cid, mid = await setup_month(driver, clock)
    await score(driver, mid)
    await capture(driver, mid)
    for answer in ("Xong", "Chưa thống nhất.", "Chưa thống nhất.", "Biểu quyết lại."):
        out = await driver.say(SEC, answer)
    out = await driver.say(SEC, "0 5 0")
    assert "tán thành 0, không tán thành 5" in out[-1]
    assert "Nghị quyết không được thông qua" in out[-1]
    out = await driver.say(SEC, "1")  # the secretary's confirmation makes them final
    assert any("Đã xác nhận biên bản" in t for t in out)
    told = next(t for t in out if "Nghị quyết không được thông qua" in t)
    assert "0/5" in told and "/ghibienban 12/2026" in told and "biểu quyết lại" in told
    assert not any("Đã ban hành nghị quyết" in t for t in out)
    with Session(driver.app.engine) as s:
        rec = s.exec(select(MeetingRecord).where(MeetingRecord.meeting_id == mid)).one()
        assert rec.resolution_no is None and rec.status == "final"
        assert not list(s.exec(select(DocumentRevision).where(
            DocumentRevision.meeting_id == mid, DocumentRevision.doc_type == "nghiquyet")))
    assert not [o for o in driver.messenger.sent if o.attachment is not None
                and o.attachment.filename.startswith("nghi-quyet")]
    minutes = _text(_final(driver, mid, "bienban"))
    assert "tán thành 0/5" in minutes and "Nghị quyết không được thông qua" in minutes
    out = await driver.say(SEC, "/nghiquyet 12/2026")
    assert any("Nghị quyết không được thông qua" in t for t in out)
    # The cell votes again: the secretary corrects the vote and confirms; now it is issued.
    out = await driver.say(SEC, f"/ghibienban #{mid}")
    for _ in range(12):
        if "Biểu quyết" in out[-1]:
            break
        out = await driver.say(SEC, "Xong" if "Khách mời" in out[-1] or "Ý kiến" in out[-1]
                               else "1" if "Đồng chí" in out[-1] else "-")
    out = await driver.say(SEC, "5 0 0")
    assert "không được thông qua" not in out[-1]
    out = await driver.say(SEC, "1")
    assert any("Đã ban hành nghị quyết Số 01-NQ/CB" in t for t in out), out
