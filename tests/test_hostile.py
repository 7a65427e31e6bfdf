"""Hostile input (issue 14): formula injection in exports, NUL bytes and lone surrogates,
5,000-digit numbers, members moved away mid-form. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.importer import import_file
from handlers.committee.exports import cells_csv, workbook
from handlers.core.cellsafe import safe_cell
from models.attendance import Attendance
from models.files import StoredFile
from models.form import FormState
from models.meeting import Meeting
from models.member import Member
from models.messages import Attachment, Chat, Incoming, Sender
from models.org import Organisation
from models.reports import parse_period
from models.settings import Settings
from tests.helpers import SEC, Driver, FakeClock
from tests.test_attendance import _rows, _setup
from tests.test_cycle import DEC_MEETING

HOSTILE = ['=HYPERLINK("http://evil.example/";"Bấm vào đây")', "+Nguyễn Văn Cộng",
           "-Trần Thị Trừ", "@Lê Văn Sum"]


def _hostile_sheet(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Đảng bộ cơ sở", "Chi bộ", "Họ và tên", "Chức vụ"])
        for i, name in enumerate(HOSTILE):
            w.writerow(["=Đảng bộ cơ sở Độc", f"=cmd|' /C calc'!A{i}", name, "Bí thư"])
    return path


def test_safe_cell_follows_owasp() -> None:
    for bad in ("=1+1", "+A", "-A", "@SUM(A1)", "\tX", "\rX", "-2+3+cmd|'/C calc'!A0"):
        assert safe_cell(bad) == "'" + bad
    for good in ("Chi bộ", "-3,5", "+84", "12.5%", 5, -3.5, None, ""):
        assert safe_cell(good) == good


def test_exports_neutralise_formulas(engine: Engine, settings: Settings,
                                     tmp_path: Path) -> None:
    report = import_file(engine, _hostile_sheet(tmp_path), bloc_name="Khối",
                         timezone=settings.timezone)
    assert report.ok, report.errors
    period = parse_period("2026-11", DEC_MEETING.date())
    assert period is not None
    with Session(engine) as s:  # one held meeting per cell, every member present
        for m in s.exec(select(Member)):
            meeting = Meeting(cell_id=m.cell_id or 0, period="2026-11", status="held",
                              scheduled_at=DEC_MEETING - timedelta(days=30))
            s.add(meeting)
            s.flush()
            s.add(Attendance(meeting_id=meeting.id or 0, member_id=m.id or 0,
                             status="present"))
        s.commit()
    with Session(engine) as s:
        root = s.exec(select(Organisation).where(Organisation.parent_id == None)).one()  # noqa: E711
        xlsx = workbook(s, root, period, settings)
        data = cells_csv(s, root, period, settings)
    wb = load_workbook(io.BytesIO(xlsx))
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    texts.append(c.value)
    assert "'=Đảng bộ cơ sở Độc" in texts
    # Cells are shown with their parent (issue 12): the guard still leads the text.
    assert any(t.startswith("'=cmd|' /C calc'!A0") for t in texts)
    assert "'" + HOSTILE[0] in texts and "'-Trần Thị Trừ" in texts
    lines = data.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + len(HOSTILE)
    for line in lines[1:]:
        assert not line.lstrip('"').startswith(("=", "+", "-", "@", "\t", "\r")), line
        assert line.startswith(("'=", "\"'=")), line


def test_incoming_drops_nul_and_lone_surrogates() -> None:
    inc = Incoming(platform="telegram", update_id="1", chat=Chat("1", "group", "Nhóm\x00A"),
                   sender=Sender("2", "An\x00"), text="kết\x00 luận \ud800",
                   callback_data="f:1\x00",
                   attachment=Attachment("bien\x00ban.pdf", b"%PDF"))
    assert inc.text == "kết luận ?" and inc.callback_data == "f:1"
    assert inc.chat.title == "NhómA" and inc.sender.name == "An"
    assert inc.attachment is not None and inc.attachment.filename == "bienban.pdf"
    (inc.text or "").encode("utf-8")


def test_database_guard_strips_nul_and_cuts_overlong_text(engine: Engine) -> None:
    with Session(engine) as s:
        f = StoredFile(filename="tài\x00liệu" * 60, size=1, data=b"x")
        s.add(f)
        s.commit()
        s.refresh(f)
        assert "\x00" not in f.filename and len(f.filename) == 200


async def test_nul_in_an_absence_reason_is_stored_without_it(
        driver: Driver, clock: FakeClock) -> None:
    _cid, mid = await _setup(driver, clock)
    out = await driver.say("Châu Minh Tuấn", "/vang ốm\x00 nặng")
    assert "Xin lỗi, hệ thống gặp sự cố" not in " ".join(out)
    assert _rows(driver, mid)["Châu Minh Tuấn"].rsvp_reason == "ốm nặng"


async def test_five_thousand_digit_numbers_are_refused_with_a_reason(
        driver: Driver, clock: FakeClock) -> None:
    _cid, mid = await _setup(driver, clock)
    clock.set(DEC_MEETING + timedelta(hours=2))
    await driver.press(SEC, f"rc:{mid}")
    await driver.say(SEC, "07:45")
    await driver.say(SEC, "09:30")
    huge = "9" * 5000
    out = await driver.say(SEC, huge)  # the speakers' count
    assert "Số quá dài" in out[0]
    out = await driver.say(SEC, "-" + huge)
    assert "Số quá dài" in out[0]
    await driver.say(SEC, "3")
    out = await driver.say(SEC, f"{huge} c")
    assert "Không hiểu" in out[0] and "sự cố" not in out[0]
    out = await driver.say(SEC, "* c")
    out = await driver.say(SEC, "Đúng")
    assert "Tỷ lệ dự họp" in out[0]


async def test_a_member_moved_away_mid_form_cannot_submit(
        driver: Driver, clock: FakeClock) -> None:
    _cid, mid = await _setup(driver, clock)
    out = await driver.press("Châu Minh Tuấn", f"rsvp:{mid}:n")
    assert any("lý do vắng" in t for t in out)
    with Session(driver.app.engine) as s:  # re-import: "Đã chuyển đi"
        m = s.exec(select(Member).where(Member.full_name == "Châu Minh Tuấn")).one()
        m.on_leave = True
        s.add(m)
        s.commit()
    out = await driver.say("Châu Minh Tuấn", "2")
    assert "không có quyền" in out[0]
    with Session(driver.app.engine) as s:
        assert s.exec(select(FormState)).first() is None
        rows = list(s.exec(select(Attendance).where(Attendance.meeting_id == mid)))
        assert all(a.rsvp_reason is None for a in rows)


# Past PostgreSQL's INTEGER id columns (2**31 - 1), past BIGINT, and the largest BIGINT.
HUGE_IDS = ["2147483648", "9223372036854775807", "9223372036854775808"]


async def test_ids_out_of_range_answer_as_an_unknown_id(driver: Driver) -> None:
    """A number or id from outside past the id columns' range is refused before SQL: the
    bot answers as it does for an id that does not exist, on SQLite and on PostgreSQL
    (which raised "integer out of range" there)."""
    an = "Nguyễn Văn An"  # secretary of Chi bộ Văn phòng Sở
    for cmd in ("/chamdiem {n}", "/diemdanh {n}", "/ghibienban {n}", "/hopchiuy {n}",
                "/chuongtrinh {n}"):
        unknown = await driver.say(an, cmd.format(n="99999"))
        for n in HUGE_IDS:
            out = await driver.say(an, cmd.format(n=n))
            assert "sự cố" not in " ".join(out), (cmd, n)
            assert out == [t.replace("99999", n) for t in unknown], (cmd, n, out)
    for data in ("rc:{n}", "sc:{n}", "bb:ok:{n}:1", "sm:{n}", "rsvp:{n}:yes"):
        unknown = await driver.press(an, data.format(n="99999"))
        for n in HUGE_IDS:
            out = await driver.press(an, data.format(n=n))
            assert out == unknown, (data, n, out)
    for cmd in ("/bienban", "/nghiquyet", "/dangphi", "/danhgia"):  # read as a period
        for n in HUGE_IDS:
            out = await driver.say(an, f"{cmd} {n}")
            assert out and "sự cố" not in " ".join(out), (cmd, n)
