"""Figures a bloc can sign, the records (issue 24): deadlines typed without a year, the
minute-taker named before the meeting, tasks offered only to members who can take them."""

from __future__ import annotations

import io
from dataclasses import replace as dc_replace
from datetime import UTC, date, datetime, timedelta

import pytest
from docx import Document
from sqlmodel import Session, select

from handlers.forms.engine import Invalid
from handlers.forms.validators import parse_deadline
from handlers.records.data import (
    CommitteeData,
    Heading,
    ResolutionData,
    TaskLine,
    minutes_data,
    recipients,
)
from handlers.records.doctext import resolution_text
from handlers.records.documents import committee_docx, minutes_docx, resolution_docx
from models.meeting import Meeting, Task
from models.member import Member
from models.org import Organisation
from models.records import MeetingRecord
from models.score import Score, ScoreItem
from tests.helpers import Driver, FakeClock
from tests.test_cycle import DEC_MEETING, _materialise
from tests.test_minutes import SEC as VP_SEC
from tests.test_minutes import _cell as vp_cell
from tests.test_minutes import _final, capture, setup_month
from tests.test_minutes import score as minutes_score
from tests.test_scoring import ANSWERS, _held
from tests.test_scoring import SEC as QLNS_SEC
from tests.yearplay import held


@pytest.mark.parametrize(("typed", "today", "due"), [
    ("20/01", date(2026, 12, 15), date(2027, 1, 20)),  # the next 20 January
    ("20/12", date(2026, 12, 15), date(2026, 12, 20)),
    ("15/12", date(2026, 12, 15), date(2026, 12, 15)),  # today is not past
    ("29/02", date(2026, 3, 1), date(2028, 2, 29)),
    ("20/01/2027", date(2026, 12, 15), date(2027, 1, 20))])
def test_a_day_and_month_means_the_next_such_date(typed: str, today: date, due: date) -> None:
    assert parse_deadline(typed, today) == due


@pytest.mark.parametrize("typed", ["20/01/2026", "14/12/2026", "31/02"])
def test_a_past_or_impossible_deadline_is_refused(typed: str) -> None:
    with pytest.raises(Invalid):
        parse_deadline(typed, date(2026, 12, 15))


async def test_scoring_form_deadlines_and_no_exempted_member(driver: Driver,
                                                             clock: FakeClock) -> None:
    mid = await _held(driver, clock)
    out = await driver.press(QLNS_SEC, f"sc:{mid}")
    for a in ANSWERS[:7]:
        out = await driver.say(QLNS_SEC, a)
    prompt = out[-1]
    assert "Hồ Đức Thắng" in prompt and "Trịnh Văn Hùng" not in prompt  # exempted
    out = await driver.say(QLNS_SEC, "3 | Báo cáo | 01/12/2026")
    assert "Hạn 01/12/2026 đã qua" in out[0]
    for a in ("3 | Báo cáo quyết toán | 20/01", "5 | Rà soát hồ sơ | 15/12", "Xong", "1"):
        out = await driver.say(QLNS_SEC, a)
    assert "Đã ghi điểm" in out[-1]
    with Session(driver.app.engine) as s:
        tasks = {t.description: t for t in s.exec(select(Task).where(Task.meeting_id == mid))}
        names = {t.description: s.get(Member, t.assignee_id) for t in tasks.values()}
    assert tasks["Báo cáo quyết toán"].due_date == date(2027, 1, 20)
    assert names["Rà soát hồ sơ"].full_name == "Phan Thị Thúy"  # 5th once Hùng is left out


async def test_minute_taker_goes_to_the_next_meeting_not_last_months(
        driver: Driver, clock: FakeClock) -> None:
    cell = vp_cell(driver)
    with Session(driver.app.engine) as s:
        november = held(s, cell, 2026, 11, {})
        s.commit()
        nov_id = november.id
    clock.set(datetime(2026, 11, 29, 2, 0, tzinfo=UTC))  # four days before December's
    _materialise(driver.app)
    out = await driver.say(VP_SEC, "/thuky thu ha")
    assert "Phạm Thị Thu Hà ghi biên bản buổi" in out[-1]
    with Session(driver.app.engine) as s:
        [rec] = s.exec(select(MeetingRecord)).all()
        meeting = s.get(Meeting, rec.meeting_id)
        assert meeting is not None and rec.meeting_id != nov_id
        assert meeting.period == "2026-12" and meeting.status == "planned"
    # On the day of a meeting, just after it, the taker goes to that meeting.
    clock.set(datetime(2026, 12, 3, 4, 0, tzinfo=UTC))
    await driver.say(VP_SEC, "/thuky minh")
    with Session(driver.app.engine) as s:
        recs = s.exec(select(MeetingRecord)).all()
        assert len(recs) == 1 and s.get(Meeting, recs[0].meeting_id).period == "2026-12"  # type: ignore[union-attr]


# -- the form of the documents (DOMAIN "The form of Party documents") ----------------------
def _doc_text(blob: bytes) -> str:
    doc = Document(io.BytesIO(blob))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def _sign_space_mm(blob: bytes) -> list[float]:
    """The space left to sign under each signature block's title, in mm."""
    doc = Document(io.BytesIO(blob))
    out = []
    for t in doc.tables[1:]:
        for cell in t.rows[0].cells:
            for p in cell.paragraphs:
                after = p.paragraph_format.space_after
                if after is not None and after.pt > 20:
                    out.append(after.mm)
    return out


async def test_minutes_and_resolution_keep_the_form(driver: Driver, clock: FakeClock) -> None:
    _cid, mid = await setup_month(driver, clock)
    await minutes_score(driver, mid)
    await capture(driver, mid)
    for answer in ("Xong", "Chi bộ hoàn thành 90% nhiệm vụ tháng 11.",
                   "Thống nhất nhiệm vụ tháng 12 như dự thảo.", "-", "4 0 1", "1"):
        await driver.say(VP_SEC, answer)
    # The secretary's confirmation of the form makes the minutes final at once: no draft.
    minutes = _doc_text(_final(driver, mid, "bienban"))
    assert "DỰ THẢO" not in minutes
    with Session(driver.app.engine) as s:  # a minute-taker's draft carries the mark
        m = s.get(Meeting, mid)
        d = minutes_data(s, m, s.get(Organisation, m.cell_id), driver.app.settings.place)
        assert d.final
        assert "DỰ THẢO" in _doc_text(minutes_docx(dc_replace(d, final=False))).splitlines()
    assert "- Khách mời: đồng chí Dương Văn Thành, Đảng ủy viên, phụ trách chi bộ (cấp ủy " \
        "cấp trên dự); đồng chí Trần Văn Khách, Phó Chánh Văn phòng Sở." in minutes
    spaces = _sign_space_mm(_final(driver, mid, "bienban"))
    assert len(spaces) == 2 and all(mm >= 28 for mm in spaces)  # chair and minute-taker
    nq_blob = _final(driver, mid, "nghiquyet")
    nq = _doc_text(nq_blob)
    assert "- Chi bộ có 9 đảng viên phải dự, có mặt 5/9 (55,6%), vắng 4." in nq
    assert "- Đảng ủy Sở Tài chính (báo cáo),\n- Lãnh đạo Văn phòng Sở,\n- Các đảng viên " \
        "trong chi bộ,\n- Lưu chi bộ." in nq
    assert "Đảng bộ Sở Tài chính (báo cáo)" not in nq
    spaces = _sign_space_mm(nq_blob)
    assert spaces and all(mm >= 28 for mm in spaces)


def _heading() -> Heading:
    return Heading(parent="Đảng bộ Sở Tài chính", cell="Chi bộ Văn phòng Sở", place="Hà Tĩnh",
                   day=date(2026, 12, 3))


def test_last_months_tasks_read_as_a_document_not_a_chat() -> None:
    d = ResolutionData(
        heading=_heading(), number=1, month=12, year=2026, due=14, present=12, absent=[],
        score=92, band="tot", conclusions=[], tasks=[], vote=(12, 0, 0),
        secretary="Nguyễn Văn An", parent="Đảng bộ Sở Tài chính",
        recipients=recipients("Đảng bộ Sở Tài chính", "Chi bộ Văn phòng Sở"),
        last_tasks=[TaskLine("Báo cáo quý", "Lê Hoàng Minh", None, True),
                    TaskLine("Rà soát hồ sơ", "Phạm Thị Thu Hà", None, False)])
    text = _doc_text(resolution_docx(d))
    assert "có mặt 12/14 (85,7%)" in text
    assert "+ Báo cáo quý (đồng chí Lê Hoàng Minh): đã hoàn thành." in text.splitlines()
    assert "+ Rà soát hồ sơ (đồng chí Phạm Thị Thu Hà): chưa hoàn thành." in text.splitlines()
    assert "✓" not in text and "✗" not in text
    chat = resolution_text(d)
    assert "✓" not in chat and "Nơi nhận:\n- Đảng ủy Sở Tài chính (báo cáo)," in chat


def test_committee_minutes_have_no_unnamed_signature() -> None:
    base = {"heading": _heading(), "month": 12, "year": 2026,
            "held": datetime(2026, 11, 29, 9, 0), "attendees": ["Nguyễn Văn An"], "absent": [],
            "content": "Thống nhất chương trình.", "secretary": "Nguyễn Văn An"}
    alone = _doc_text(committee_docx(CommitteeData(**base, recorder="Nguyễn Văn An")))
    assert "THƯ KÝ" not in alone and "T/M CHI ỦY" in alone and "Nguyễn Văn An" in alone
    two = _doc_text(committee_docx(CommitteeData(**base, recorder="Lê Hoàng Minh")))
    assert "THƯ KÝ\n\nLê Hoàng Minh" in two


@pytest.mark.parametrize("posted", [True, False])
async def test_sotay_is_asked_with_one_tap_when_the_documents_went_out(
        driver: Driver, clock: FakeClock, posted: bool) -> None:
    mid = await _held(driver, clock)
    with Session(driver.app.engine) as s:
        m = s.get(Meeting, mid)
        assert m is not None
        m.docs_posted_at = DEC_MEETING - timedelta(hours=72)  # the agenda carried documents
        s.add(m)
        s.commit()
    out = await driver.press(QLNS_SEC, f"sc:{mid}")
    assert "Tài liệu buổi họp được bot gửi lúc 07:30 30/11/2026 (trước 72 giờ), nhưng chưa " \
        "ghi đăng lên Sổ tay đảng viên. Đồng chí đã đăng lên Sổ tay lúc đó?" in out[-1]
    assert [b[0] for b in driver.last_buttons()][:2] == ["Đã đăng lên Sổ tay", "Chưa đăng"]
    out = await driver.say(QLNS_SEC, "Đã đăng lên Sổ tay" if posted else "Chưa đăng")
    assert ("2/2 — bí thư xác nhận đăng Sổ tay trước 72 giờ" in out[-1]) == posted
    for a in [*ANSWERS, "1"]:
        out = await driver.say(QLNS_SEC, a)
    assert "Đã ghi điểm" in out[-1]
    with Session(driver.app.engine) as s:
        score = s.exec(select(Score).where(Score.meeting_id == mid)).one()
        item = s.exec(select(ScoreItem).where(ScoreItem.score_id == score.id,
                                              ScoreItem.criterion_id == "prep_documents")).one()
        assert (item.points, item.auto) == ((2.0 if posted else 0.0), True)
        rec = s.exec(select(MeetingRecord).where(MeetingRecord.meeting_id == mid)).first()
        at = rec.sotay_before_at if rec else None
        assert (at is not None and at.replace(tzinfo=UTC) == DEC_MEETING - timedelta(hours=72)) \
            == posted
