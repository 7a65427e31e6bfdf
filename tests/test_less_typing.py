"""Issue 23's effort target: the bot needs less typing from the secretary. Meetings named
in words at a form's meeting step; the programme typed once (chi ủy and agenda); Sổ tay
links taken from the agenda; the roll call confirmed once; the next step offered as
buttons; the resolution taken from the minutes with one tap."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from models.form import FormState
from models.meeting import Meeting
from tests.helpers import QLNS, SEC, Driver, FakeClock, link_cell
from tests.test_cycle import DEC_MEETING, _materialise, _meeting


def _form_step(driver: Driver) -> str | None:
    with Session(driver.app.engine) as s:
        row = s.exec(select(FormState)).first()
        return row.step if row else None


def _form_meeting(driver: Driver) -> Meeting | None:
    """The meeting the open form has chosen."""
    with Session(driver.app.engine) as s:
        return s.get(Meeting, s.exec(select(FormState)).one().data["meeting"])


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
    chosen = _form_meeting(driver)
    assert chosen is not None and chosen.id == dec.id
    await driver.say(SEC, "/huy")
    await driver.say(SEC, "/chuongtrinh")
    out = await driver.say(SEC, "tháng 1/2027")  # the other one offered
    assert "Buổi này có kết hợp sinh hoạt chuyên đề không?" in out[-1]
    jan = _form_meeting(driver)
    assert jan is not None and jan.period == "2027-01"


async def test_month_names_the_listed_meeting_of_that_month(driver: Driver,
                                                           clock: FakeClock) -> None:
    """"12/2026" is the month's regular meeting; when the list offers only the month's
    đột xuất (the regular one is held), it names that one rather than being refused."""
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    clock.set(DEC_MEETING - timedelta(days=5))
    for answer in ("/themhop", "2", "05/12/2026 14:00", "Giải ngân cuối năm", "-", "1"):
        await driver.say(SEC, answer)
    dec = _meeting(driver.app, cell)
    with Session(driver.app.engine) as s:
        row = s.get(Meeting, dec.id)
        row.status = "held"
        s.add(row)
        s.commit()
        extra = s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                             Meeting.kind == "extraordinary")).one()
    out = await driver.say(SEC, "/chuongtrinh")
    assert driver.last_buttons()[0][0].startswith("Sinh hoạt đột xuất")
    out = await driver.say(SEC, "12/2026")
    assert "Địa điểm" in out[-1]
    chosen = _form_meeting(driver)
    assert chosen is not None and chosen.id == extra.id
    await driver.say(SEC, "/huy")
    await driver.say(SEC, "/chuongtrinh")
    out = await driver.say(SEC, "12/2026 thường kỳ")  # asked by kind: still refused
    assert "Không có buổi “12/2026 thường kỳ” trong danh sách" in out[-1]


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
    assert "Nội dung: Thống nhất chương trình buổi sinh hoạt (bí thư thông báo chương trình" \
        in out[-1]
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
           "120 giờ trước buổi họp." in out[0]
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
    out = await driver.say(SEC, "1")  # the agenda is in: no reminder to enter it
    assert "nội dung là chương trình đã nhập (2 nội dung)" in out[0]
    assert "/chuongtrinh" not in out[0]
    # Typed content is still taken as it was, and the minutes keep it.
    await driver.say(SEC, "/huy")
    for answer in ("/hopchiuy 12/2026", "Vừa họp xong", "Đủ tất cả",
                   "Thống nhất dự thảo nghị quyết tháng 12", "1"):
        out = await driver.say(SEC, answer)
    assert out[0].startswith("Đã ghi biên bản họp chi ủy chuẩn bị Sinh hoạt thường kỳ — "
                             "07:30 03/12/2026. Tài liệu")  # the agenda is in: no reminder
    assert "Thống nhất dự thảo nghị quyết tháng 12" in _docx_text(driver, mid,
                                                                   DocType.COMMITTEE.value)


async def test_agenda_cancelled_after_the_chi_uy_record_keeps_that_record(
        driver: Driver, clock: FakeClock) -> None:
    """/huy in the agenda form the chi ủy record opened drops the agenda only, and says so
    (not "nothing was saved"); the agenda entered later rewrites the chi ủy minutes."""
    from models.records import CommitteeMeeting, DocType

    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id or 0
    clock.set(DEC_MEETING - timedelta(days=5))
    for answer in ("/hopchiuy 12/2026", "Vừa họp xong", "Đủ tất cả", "1"):
        await driver.say(SEC, answer)
    out = await driver.say(SEC, "1")
    assert "Buổi này có kết hợp sinh hoạt chuyên đề không?" in out[-1]
    out = await driver.say(SEC, "/huy")
    assert out == ["Đã hủy nhập chương trình; biên bản họp chi ủy vẫn được lưu. Khi có "
                   "chương trình, đồng chí nhập bằng /chuongtrinh 12/2026."]
    with Session(driver.app.engine) as s:
        assert s.exec(select(CommitteeMeeting).where(
            CommitteeMeeting.meeting_id == mid)).one().content == ""
    # the official minutes say the programme follows, in the words of a record (no "bot")
    waiting = _docx_text(driver, mid, DocType.COMMITTEE.value)
    assert "Thống nhất chương trình buổi sinh hoạt (bí thư thông báo chương trình chi tiết " \
           "sau cuộc họp chi ủy)." in waiting and "bot" not in waiting
    for answer in ("/chuongtrinh 12/2026", "Không", "-", "Quán triệt | Thành", "Xong", "1"):
        out = await driver.say(SEC, answer)
    assert "1. Quán triệt — Đ/c Dương Văn Thành" in _docx_text(driver, mid,
                                                              DocType.COMMITTEE.value)
    out = await driver.say(SEC, "/chuongtrinh 12/2026")  # opened by the command: as before
    out = await driver.say(SEC, "/huy")
    assert out == ["Đã hủy. Không có thông tin nào được lưu."]


async def test_chi_uy_recorded_after_the_meeting_offers_no_agenda_to_follow(
        driver: Driver, clock: FakeClock) -> None:
    """Recorded late (the meeting is held), the chi ủy's content is typed: no "entered
    next" button, whose agenda form would be refused at its end after all the typing."""
    from tests.test_attendance import _roll_call

    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id or 0
    clock.set(DEC_MEETING + timedelta(hours=2))
    await _roll_call(driver, mid, "* c")
    for answer in ("/hopchiuy 12/2026", "28/11/2026 14:00"):
        await driver.say(SEC, answer)
    out = await driver.say(SEC, "Đủ tất cả")
    assert out[-1] == "(3/3) Nội dung chi ủy đã thống nhất (chương trình, người trình bày, " \
                      "dự thảo nghị quyết…):"
    assert driver.messenger.sent[-1].buttons == ()
    await driver.say(SEC, "Thống nhất nội dung sinh hoạt tháng 12")
    out = await driver.say(SEC, "1")
    assert out == ["Đã ghi biên bản họp chi ủy chuẩn bị Sinh hoạt thường kỳ — 07:30 "
                   "03/12/2026."]  # nothing left to enter or post before it
    # the agenda of a held meeting is refused at once, not after it was typed in full
    out = await driver.say(SEC, "/chuongtrinh 12/2026")
    assert out == ["Buổi Sinh hoạt thường kỳ — 07:30 03/12/2026 đã diễn ra hoặc đã hủy; việc "
                   "này chỉ làm được với buổi sắp tới."]
    assert _form_step(driver) is None


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


async def test_a_link_typed_without_presenter_or_https_is_the_document(
        driver: Driver, clock: FakeClock) -> None:
    """"Tiêu đề | link" (no presenter) and a link copied without "https://": the link is
    the item's document, not its presenter, and a Sổ tay one still counts as posted."""
    from models.meeting import AgendaItem
    from models.records import MeetingRecord

    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id or 0
    clock.set(DEC_MEETING - timedelta(days=5))
    for answer in (f"/chuongtrinh #{mid}", "Không", "-"):
        await driver.say(SEC, answer)
    out = await driver.say(SEC, "Quán triệt Nghị quyết | sotay.dangcongsan.vn/tai-lieu/nq")
    assert "Đã ghi mục 1: Quán triệt Nghị quyết | https://sotay.dangcongsan.vn/tai-lieu/nq" \
        in out[-1]
    out = await driver.say(SEC, "Giải ngân | Oanh | www.mof.gov.vn/bao-cao")
    assert "Đã ghi mục 2: Giải ngân | Đ/c Lý Thị Kim Oanh | https://www.mof.gov.vn/bao-cao" \
        in out[-1]
    out = await driver.say(SEC, "Tự phê bình | Thắng | bao-cao.pdf")  # a name, not a link
    assert "Đã ghi mục 3: Tự phê bình | Đ/c Hồ Đức Thắng | bao-cao.pdf" in out[-1]
    await driver.say(SEC, "Xong")
    out = await driver.say(SEC, "1")
    assert "đăng lên Sổ tay 120 giờ trước buổi họp" in out[0]
    with Session(driver.app.engine) as s:
        items = list(s.exec(select(AgendaItem).where(AgendaItem.meeting_id == mid)
                            .order_by(AgendaItem.position)))
        assert [(i.presenter, i.document_url, i.document_name) for i in items] == [
            (None, "https://sotay.dangcongsan.vn/tai-lieu/nq", None),
            ("Đ/c Lý Thị Kim Oanh", "https://www.mof.gov.vn/bao-cao", None),
            ("Đ/c Hồ Đức Thắng", None, "bao-cao.pdf")]
        rec = s.exec(select(MeetingRecord).where(MeetingRecord.meeting_id == mid)).one()
        assert rec.sotay_before_link == "https://sotay.dangcongsan.vn/tai-lieu/nq"


async def test_sotay_lead_time_said_plainly(driver: Driver, clock: FakeClock) -> None:
    """"N giờ trước buổi họp", never "trước 0 giờ" or a negative number of hours."""
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    clock.set(DEC_MEETING - timedelta(minutes=20))
    out = await driver.say(SEC, f"/sotay truoc {SOTAY}")
    assert out[-1].endswith("đăng lên Sổ tay chưa đầy 1 giờ trước buổi họp.")
    clock.set(DEC_MEETING + timedelta(minutes=30))  # started already: not "before"
    out = await driver.say(SEC, f"/sotay truoc {SOTAY}")
    assert out[-1].endswith("đăng lên Sổ tay sau giờ bắt đầu buổi họp.")
    assert _meeting(driver.app, cell).id


async def test_presenters_named_as_members_are(driver: Driver, clock: FakeClock) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    mid = _meeting(driver.app, cell).id or 0
    clock.set(DEC_MEETING - timedelta(days=5))
    for answer in (f"/chuongtrinh #{mid}", "Không", "-"):
        await driver.say(SEC, answer)
    out = await driver.say(SEC, "Quán triệt Nghị quyết | Thành")
    assert "Đã ghi mục 1: Quán triệt Nghị quyết | Đ/c Dương Văn Thành" in out[-1]
    out = await driver.say(SEC, "Giải ngân | đ/c oanh")  # no capitals, no accents
    assert "Đã ghi mục 2: Giải ngân | Đ/c Lý Thị Kim Oanh" in out[-1]
    out = await driver.say(SEC, "Báo cáo cấp trên | Đ/c Nguyễn Văn An")  # not of this cell
    assert "Đã ghi mục 3: Báo cáo cấp trên | Đ/c Nguyễn Văn An" in out[-1]
    out = await driver.say(SEC, "Tự phê bình | Văn")  # two members are “Văn”: as typed
    assert "Đã ghi mục 4: Tự phê bình | Văn" in out[-1]
    await driver.say(SEC, "Xong")
    await driver.say(SEC, "1")
    from models.meeting import AgendaItem

    with Session(driver.app.engine) as s:
        assert [i.presenter for i in s.exec(select(AgendaItem).where(
            AgendaItem.meeting_id == mid).order_by(AgendaItem.position))] == [
            "Đ/c Dương Văn Thành", "Đ/c Lý Thị Kim Oanh", "Đ/c Nguyễn Văn An", "Văn"]


async def test_place_offered_from_the_last_meeting(driver: Driver, clock: FakeClock) -> None:
    cell = link_cell(driver, QLNS)
    _materialise(driver.app)
    dec = _meeting(driver.app, cell)
    clock.set(DEC_MEETING - timedelta(days=5))
    for answer in ("/themhop", "3", "30/11/2026 14:00", "Chuẩn bị tháng 12", "Phòng bí thư",
                   "1"):  # a chi ủy meeting's room is not where the cell meets
        await driver.say(SEC, answer)
    await driver.say(SEC, f"/chuongtrinh #{dec.id}")
    out = await driver.say(SEC, "Không")
    assert "Địa điểm" in out[-1] and driver.messenger.sent[-1].buttons == ()  # none known
    for answer in ("Phòng họp tầng 3, Sở Tài chính", "Xong", "1"):
        await driver.say(SEC, answer)
    with Session(driver.app.engine) as s:
        jan = s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                           Meeting.period == "2027-01")).one()
    out = await driver.say(SEC, f"/chuongtrinh #{jan.id}")
    out = await driver.say(SEC, "Không")
    assert "Địa điểm, hoặc đường link nếu họp trực tuyến:" in out[-1]
    assert [lbl for lbl, _d in driver.last_buttons()] == ["📍 Phòng họp tầng 3, Sở Tài chính"]
    out = await driver.say(SEC, "1")  # one tap instead of the place typed again
    assert "Nội dung thứ 1" in out[-1]
    await driver.say(SEC, "Xong")
    await driver.say(SEC, "1")
    with Session(driver.app.engine) as s:
        assert s.get(Meeting, jan.id).place == "Phòng họp tầng 3, Sở Tài chính"


async def test_after_the_roll_call_every_next_step_is_a_button(driver: Driver,
                                                               clock: FakeClock) -> None:
    """Fees → the minutes and the score as buttons; the resolution from the minutes'
    conclusions with one tap (or with words added by “+ …”); Sổ tay after with one tap.
    The documents still hold the agenda, the conclusions and the resolution's text."""
    from models.records import DocType, MeetingRecord
    from tests.test_minutes import SEC as AN
    from tests.test_minutes import _final, _text, capture, setup_month

    _cid, mid = await setup_month(driver, clock)
    out = await driver.press(AN, "fe:2026-12")
    await driver.say(AN, "tất cả")  # the first month: the amounts asked once
    out = await driver.say(AN, "; ".join(["50k"] * 10))
    assert out[-1].startswith("Đã ghi đảng phí tháng 12/2026")
    assert driver.last_buttons() == [("🖊 Ghi biên bản", f"bb:edit:{mid}"),
                                     ("📝 Chấm điểm ngay", f"sc:{mid}")]
    out = await driver.press(AN, f"bb:edit:{mid}")  # the meeting is known: no "which one?"
    assert "Khách mời" in out[-1]
    await driver.say(AN, "/huy")
    await capture(driver, mid)
    for answer in ("Xong", "Chi bộ hoàn thành 90% nhiệm vụ tháng 11.",
                   "Thống nhất nhiệm vụ tháng 12 như dự thảo.", "-", "Tất cả tán thành", "1"):
        out = await driver.say(AN, answer)
    out = await driver.say(AN, "/dangphi 12/2026 1 60k")  # fees again: only the score left
    assert driver.last_buttons() == [("📝 Chấm điểm ngay", f"sc:{mid}")]
    out = await driver.press(AN, f"sc:{mid}")
    for _ in range(10):
        if "Kết luận / nghị quyết" in out[-1]:
            break
        out = await driver.say(AN, "đủ" if "Nhóm" in out[-1] else "-")
    assert "gửi “+ nội dung” để dùng và bổ sung" in out[-1]
    out = await driver.say(AN, "+ Giao Văn phòng theo dõi, báo cáo chi bộ.")
    assert "Nhiệm vụ thứ" in out[-1]
    await driver.say(AN, "Xong")
    out = await driver.say(AN, "1")
    issued = next(t for t in out if t.startswith("Đã ban hành nghị quyết"))
    assert "bấm nút dưới đây (hoặc /sotay sau LINK)" in issued
    sent = next(o for o in driver.messenger.sent if o.text == issued)
    assert [(b.label, b.data) for row in sent.buttons for b in row] == [
        ("📤 Đã đăng lên Sổ tay", f"sts:{mid}")]
    conclusion = ("• Kết quả thực hiện nhiệm vụ tháng 11: Chi bộ hoàn thành 90% nhiệm vụ "
                  "tháng 11.\n• Nhiệm vụ tháng 12 và công tác cuối năm: Thống nhất nhiệm vụ "
                  "tháng 12 như dự thảo.\nGiao Văn phòng theo dõi, báo cáo chi bộ.")
    with Session(driver.app.engine) as s:
        assert s.get(Meeting, mid).conclusion == conclusion
    resolution = _text(_final(driver, mid, DocType.RESOLUTION.value))
    assert "Chi bộ hoàn thành 90% nhiệm vụ tháng 11." in resolution
    assert "Giao Văn phòng theo dõi, báo cáo chi bộ." in resolution
    minutes = _text(_final(driver, mid, DocType.MINUTES.value))
    assert "Kết quả thực hiện nhiệm vụ tháng 11" in minutes
    assert "Thống nhất nhiệm vụ tháng 12 như dự thảo." in minutes
    # Sổ tay after the meeting: one tap, once; another cell's secretary cannot.
    out = await driver.press("Nguyễn Thị Thanh Hương", f"sts:{mid}")
    assert out == ["Xin lỗi, đồng chí không có quyền thực hiện việc này: chỉ Bí thư hoặc Phó "
                   "Bí thư của chi bộ mới được làm."]  # says who may, as other buttons do
    out = await driver.press("Lê Hoàng Minh", f"hcu:{mid}")
    assert out == ["Xin lỗi, đồng chí không có quyền thực hiện việc này: chỉ Bí thư hoặc Phó "
                   "Bí thư của chi bộ mới được làm."]
    out = await driver.press(AN, f"sts:{mid}")
    assert out[0].startswith("Đã ghi: văn bản sau buổi Sinh hoạt thường kỳ")
    with Session(driver.app.engine) as s:
        rec = s.exec(select(MeetingRecord).where(MeetingRecord.meeting_id == mid)).one()
        assert rec.sotay_after_at == clock() and rec.sotay_after_link is None
    out = await driver.press(AN, f"sts:{mid}")
    assert out == ["Đã ghi trước đó; không có gì thay đổi."]
