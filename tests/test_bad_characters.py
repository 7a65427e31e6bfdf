"""One bad character (issue 25): every class of character XML cannot hold, typed into each
path a secretary types (chi ủy content, agenda title, absence reason, task, guest, opinion,
conclusion) or imported (a member's name), is cleaned at the door; rows stored before the
fix are cleaned by the writers; the .docx and .xlsx made from them open."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import update
from sqlmodel import Session, select

from bot.app import App
from bot.importer import import_rows
from models.attendance import Attendance
from models.meeting import AgendaItem, Meeting, Task
from models.member import Member
from models.messages import Chat, Incoming, Sender
from models.records import CommitteeMeeting, Guest, Opinion
from models.text import clean_text
from tests.helpers import Driver, FakeClock, tick
from tests.test_cycle import DEC_MEETING
from tests.test_minutes import SEC, _cell, _final, _text, linked_cell_with_follower

# One of each class: C0 controls, vertical tab (Shift+Enter in Word), form feed, the
# controls after the shift characters, the two non-characters, a lone surrogate.
CLASSES = ["\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1f", "\ufffe", "\uffff", "\ud800"]
BAD = "".join(f"{c}{chr(97 + i)}" for i, c in enumerate(CLASSES))  # "\x01a\x08b\x0bc…"
# A list form splits lines, so there the line breaks are typed on their own (a polite "not
# understood"); the rest of the classes go inside the item.
INLINE = BAD.replace("\x0b", "").replace("\x0c", "")
STORED = BAD.replace("\ud800", "")  # a lone surrogate cannot be stored as UTF-8 at all
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def test_one_function_cleans_each_class() -> None:
    assert clean_text(BAD) == "ab\nc\ndefgh?i"
    assert clean_text("Tab\tand\r\nlines stay") == "Tab\tand\r\nlines stay"
    inc = Incoming(platform="telegram", update_id="1", chat=Chat("1", "group"),
                   sender=Sender("2", "An" + BAD), text="kết luận" + BAD)
    assert not NOT_XML.search(inc.text or "") and not NOT_XML.search(inc.sender.name)


def _clean_everywhere(app: App, mid: int) -> None:
    """Nothing stored for the meeting holds a character XML cannot."""
    with Session(app.engine) as s:
        texts = [a.reason for a in s.exec(select(Attendance).where(Attendance.meeting_id == mid))]
        texts += [i.title for i in s.exec(select(AgendaItem).where(AgendaItem.meeting_id == mid))]
        texts += [t.description for t in s.exec(select(Task).where(Task.meeting_id == mid))]
        texts += [g.name for g in s.exec(select(Guest).where(Guest.meeting_id == mid))]
        texts += [o.text for o in s.exec(select(Opinion).where(Opinion.meeting_id == mid))]
        texts += [c.content for c in s.exec(select(CommitteeMeeting))]
        texts.append(s.get(Meeting, mid).conclusion)
    assert not [t for t in texts if t and NOT_XML.search(t)]


async def test_each_typed_path_makes_documents_that_open(driver: Driver,
                                                         clock: FakeClock) -> None:
    _cell_org, mid = linked_cell_with_follower(driver)
    replies: list[str] = []

    async def say(*answers: str) -> list[str]:
        out: list[str] = []
        for a in answers:
            out = await driver.say(SEC, a)
            replies.extend(out)
        return out

    # The chi ủy meets three days ahead: its content.
    clock.set(DEC_MEETING - timedelta(hours=74))
    out = await say(f"/hopchiuy #{mid}", "29/11/2026 09:00", "1 9", "1 2 3",
                    "Thống nhất chương trình" + BAD, "1")
    assert "Đã ghi biên bản họp chi ủy" in out[-1]
    chiuy = driver.messenger.sent[-1].attachment
    assert chiuy is not None and "Thống nhất chương trình" in _text(chiuy.data)
    # The agenda: an item's title.
    out = await say(f"/chuongtrinh #{mid}", "Không", "Phòng họp tầng 2",
                    "Kết quả tháng 11" + BAD + " | Đ/c An", "Xong", "1")
    assert "Đã lưu chương trình" in out[0]
    clock.set(DEC_MEETING - timedelta(hours=72))
    await tick(driver.app)
    # The roll call: an absence reason.
    clock.set(DEC_MEETING + timedelta(hours=2))
    await driver.press(SEC, f"rc:{mid}")
    await say("1", "09:45", "3", f"5 v ốm{INLINE}, 6 v công tác, 7 v việc riêng, 8 k, * c",
              "Đúng")
    # Scoring: a conclusion and a task.
    out = await driver.press(SEC, f"sc:{mid}")
    tasks = [f"4 | Báo cáo giải ngân{INLINE} | 20/12", "Xong"]
    for _ in range(30):
        prompt = out[-1]
        if "kiểm tra và xác nhận" in prompt:
            await say("1")
            break
        answer = ("đủ" if "Nhóm" in prompt else "-" if "Tỷ lệ hoàn thành" in prompt
                  else "Chi bộ thống nhất" + BAD if "Kết luận / nghị quyết" in prompt
                  else tasks.pop(0) if tasks else "?")
        assert answer != "?", (prompt, replies[-12:])
        out = await say(answer)
    # The minutes: a guest, an opinion, the conclusions.
    out = await say(f"/ghibienban #{mid}", "Trần Văn Khách" + BAD + " | Phó Chánh Văn phòng",
                    "Xong", "1", "2", "Hà: Ý kiến" + BAD, "Xong", "Kết luận một" + BAD,
                    "Kết luận chung" + BAD,
                    "5 0 0", "1")
    # The secretary's confirmation of the form makes the minutes final at once.
    assert any("Đã xác nhận biên bản; đây là bản chính thức" in t for t in out), replies[-5:]
    assert not [t for t in replies if "sự cố" in t]
    assert any("Đã ban hành nghị quyết" in t for t in replies), replies[-15:]
    _clean_everywhere(driver.app, mid)
    minutes = _text(_final(driver, mid, "bienban"))
    for typed in ("ốmab", "Kết quả tháng 11ab", "Trần Văn Kháchab", "Ý kiếnab",
                  "Kết luận mộtab", "Kết luận chungab"):
        assert typed in minutes, typed
    resolution = _text(_final(driver, mid, "nghiquyet"))
    assert "Báo cáo giải ngânab" in resolution


async def test_rows_stored_before_the_fix_still_make_documents(driver: Driver,
                                                               clock: FakeClock) -> None:
    """Rows written before the door cleaned text (here: straight into the tables, past the
    ORM guard): the minutes, the resolution, the chi ủy minutes, the fee book and the
    committee workbook are made all the same."""
    from handlers.committee.exports import workbook
    from handlers.fees.book import fee_book_xlsx
    from handlers.records.data import committee_data, minutes_data, resolution_data
    from handlers.records.documents import committee_docx, minutes_docx, resolution_docx
    from models import reports
    from models.org import Organisation

    await test_each_typed_path_makes_documents_that_open(driver, clock)
    with Session(driver.app.engine) as s:
        mid = s.exec(select(Meeting.id).where(Meeting.scheduled_at == DEC_MEETING,
                                              Meeting.cell_id == _cell(driver).id)).one()
        conn = s.connection()
        for table, col in ((Attendance, "reason"), (AgendaItem, "title"),
                           (Task, "description"), (Guest, "name"), (Opinion, "text")):
            conn.execute(update(table).where(table.meeting_id == mid,
                                             getattr(table, col).is_not(None))
                         .values({col: "Cũ" + STORED}))
        conn.execute(update(CommitteeMeeting).values(content="Cũ" + STORED))
        conn.execute(update(Meeting).where(Meeting.id == mid).values(conclusion="Cũ" + STORED))
        conn.execute(update(Member).where(Member.full_name == "Phạm Thị Thu Hà")
                     .values(full_name="Phạm Thị Thu Hà" + STORED))
        s.commit()
        m = s.get(Meeting, mid)
        cell = s.get(Organisation, m.cell_id)
        place = driver.app.settings.place
        docs = [minutes_docx(minutes_data(s, m, cell, place)),
                resolution_docx(resolution_data(s, m, cell, place, 1, DEC_MEETING.date())),
                committee_docx(committee_data(s, m, cell, place))]
        for blob in docs:
            assert "Cũ" in _text(blob)
        members = list(s.exec(select(Member).where(Member.cell_id == cell.id)))
        books = [fee_book_xlsx(cell, 2026, members, []),
                 workbook(s, s.exec(select(Organisation).where(
                     Organisation.kind == "bloc")).one(), reports.year(2026),
                     driver.app.settings)]
        for blob in books:
            wb = load_workbook(io.BytesIO(blob))
            values = [c for ws in wb for row in ws.iter_rows(values_only=True) for c in row]
            assert any(isinstance(v, str) and v.startswith("Phạm Thị Thu Hà") for v in values)


def test_imported_names_are_cleaned(app: App) -> None:
    rows = [["Đảng bộ cơ sở", "Chi bộ", "Họ và tên"],
            ["Đảng bộ Sở Nội vụ", "Chi bộ Văn phòng" + BAD, "Lê Văn" + BAD + " Bình"]]
    report = import_rows(app.engine, rows, bloc_name="Khối", timezone="Asia/Ho_Chi_Minh")
    assert report.ok, report.errors
    with Session(app.engine) as s:
        m = s.exec(select(Member)).one()
        assert not NOT_XML.search(m.full_name) and m.full_name.startswith("Lê Văn")
        from handlers.fees.book import fee_book_xlsx
        from models.org import Organisation

        cell = s.get(Organisation, m.cell_id)
        assert not NOT_XML.search(cell.name)
        wb = load_workbook(io.BytesIO(fee_book_xlsx(cell, 2026, [m], [])))
        assert wb.active["B3"].value == m.full_name
