"""Figures a bloc can sign, the year (issue 24): a year too thin to rate is "not rated"
with the reason everywhere and left out of the targets; excused absences and tasks not yet
due never lower a member; one wording for a cell's year; the HD 42 bonus note names its
reading of "trong năm"; a refusal names whose ceiling it is; the officer overrides one
member with a reason; the officer sets a cell's rubric from the chat."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.app import App
from handlers.committee.exports import workbook
from handlers.scoring.autoscore import attendance as attendance_points
from handlers.year import classify
from handlers.year.sheets import classification, summary_lines
from models import reports
from models.audit import AuditEntry
from models.meeting import Task
from models.org import Organisation
from models.review import MemberReview, year_record
from models.rubric import load_rubric
from tests.helpers import Driver, FakeClock
from tests.yearplay import held, member, org

BLOC = "Đảng bộ Khối các cơ quan tỉnh"
QLNS = ("Chi bộ Phòng Quản lý ngân sách", "Đảng bộ Sở Tài chính")
VP = "Chi bộ Văn phòng Sở"
TUAN, HANH, THANG = "Châu Minh Tuấn", "Tạ Thị Hạnh", "Hồ Đức Thắng"
SEC, BASE_OFFICER = "Dương Văn Thành", "Nguyễn Văn An"
DEC = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)


def _year(s: Session, months: int = 12, marks: dict[int, dict[str, str]] | None = None) -> None:
    cell = org(s, *QLNS)
    for mo in range(1, months + 1):
        held(s, cell, 2026, mo, (marks or {}).get(mo, {}), (92, "tot"))
    s.commit()


def test_empty_years_are_not_rated_and_left_out_of_the_targets(sample: App) -> None:
    settings = sample.settings
    with Session(sample.engine) as s:
        _year(s)
        bloc = org(s, BLOC)
        c = classification(s, bloc, 2026, settings)
        rated = [x for x in c["cells"] if x["level"]]
        assert [x["cell"] for x in rated] == [QLNS[0]]
        assert all(x["not_rated"].startswith("chưa đủ buổi sinh hoạt thường kỳ: đã họp 0/12")
                   for x in c["cells"] if not x["level"])
        assert c["unrated"]["cells"] == len(c["cells"]) - 1
        # Only the QLNS members with meetings due are rated; the exempted one is not.
        rated_members = [m for m in c["members"] if m["level"]]
        assert {m["cell"] for m in rated_members} == {QLNS[0]} and len(rated_members) == 7
        hung = next(m for m in c["members"] if m["name"] == "Trịnh Văn Hùng")
        assert (hung["level"], hung["not_rated"]) == (
            None, "không có buổi sinh hoạt phải dự trong năm")
        assert c["unrated"]["members"] == len(c["members"]) - 7
        # The targets count the rated only: 7 of 7 members "tốt" (none lower), 1 of 1 cell.
        got = {name: value for name, _goal, value in c["targets"]}
        assert got["Đảng viên hoàn thành tốt nhiệm vụ trở lên"] == 1.0
        assert got["Tổ chức đảng hoàn thành tốt nhiệm vụ trở lên"] == 1.0
        lines = summary_lines(s, bloc, 2026, settings)
        assert f"Không xếp loại: {c['unrated']['cells']} chi bộ, {c['unrated']['members']} " \
            "đảng viên (không tính vào các tỷ lệ dưới đây)." in lines
        wb = load_workbook(io.BytesIO(workbook(s, bloc, reports.year(2026), settings)))
    targets = {r[0]: r[1:] for r in wb["Chỉ tiêu năm"].iter_rows(min_row=2, values_only=True)}
    assert targets["Đảng viên không xếp loại (không tính vào tỷ lệ)"][1] == \
        str(c["unrated"]["members"])
    assert targets["Đảng viên hoàn thành tốt nhiệm vụ trở lên"][1] == 1.0


def test_excused_absences_and_tasks_not_yet_due_never_lower_a_member(sample: App) -> None:
    settings, rules = sample.settings, classify.rules_for(sample.settings)
    with Session(sample.engine) as s:
        _year(s, marks={mo: {TUAN: "excused"} for mo in (3, 4, 5, 6)})
        cell = org(s, *QLNS)
        first = s.exec(select(reports.Meeting).where(reports.Meeting.cell_id == cell.id)
                       .order_by(reports.Meeting.period)).first()
        assert first is not None
        hanh = member(s, HANH)
        # One task done, one due on 31/12 (not yet due on 20/12), one overdue.
        for due, status in ((date(2026, 6, 1), "done"), (date(2026, 12, 31), "open"),
                            (date(2026, 11, 1), "open")):
            s.add(Task(meeting_id=first.id or 0, assignee_id=hanh.id, description="việc",
                       due_date=due, status=status))
        s.commit()
        recs = {r["name"]: r for r in year_record(s, cell, 2026, date(2026, 12, 20))}
        assert (recs[TUAN]["attended"], recs[TUAN]["due"], recs[TUAN]["excused"]) == (8, 12, 4)
        assert classify.member_proposal(recs[TUAN], rules, settings) == "httnv"
        assert (recs[HANH]["tasks"], recs[HANH]["tasks_done"]) == (2, 1)
        after = {r["name"]: r for r in year_record(s, cell, 2026)}
        assert (after[HANH]["tasks"], after[HANH]["tasks_done"]) == (3, 1)


async def test_one_wording_for_a_thin_year_in_chat_and_workbook(sample: App, driver: Driver,
                                                              clock: FakeClock) -> None:
    with Session(sample.engine) as s:
        _year(s, months=8)
    clock.set(DEC)
    words = "Không xếp loại (chưa đủ buổi sinh hoạt thường kỳ: đã họp 8/12, cần ít nhất 9)"
    out = await driver.say(SEC, "/danhgia")
    assert f"Chi bộ: chất lượng sinh hoạt cả năm {words}; xếp loại {words}." in out[0]
    out = await driver.say(SEC, "/danhgia 2026 chibo 2")
    assert "không xếp loại năm 2026: chưa đủ buổi" in out[0]
    with Session(sample.engine) as s:
        base = org(s, QLNS[1])
        wb = load_workbook(io.BytesIO(workbook(s, base, reports.year(2026), sample.settings)))
    orgs = {r[0]: r for r in wb["Xếp loại tổ chức"].iter_rows(min_row=2, values_only=True)}
    assert orgs[f"{QLNS[0]} — {QLNS[1]}"][3] == words
    cells = [r for r in wb["Chi bộ"].iter_rows(values_only=True)]
    assert any(words in r for r in cells)
    # The number is the rule file's (data), not a config key: 9 from qd366-2025.toml.
    assert sample.settings.year.min_held_meetings is None
    assert classify.rules_for(sample.settings).min_held_meetings == 9


def test_lost_bonus_note_names_the_reading_of_the_year(sample: App) -> None:
    crit = load_rubric(sample.settings.rubrics_dir, "hd42-2025").criterion("attendance")
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        for mo in range(1, 13):
            m = held(s, cell, 2026, mo, {TUAN: "excused"} if mo in (3, 4, 5, 6) else {})
        s.commit()
        auto = attendance_points(s, m, crit)
    assert auto.points == 4  # 7/7 present in December, no bonus
    assert "có mặt 7/7 (100%)" in auto.note
    assert f"không +1: đồng chí {TUAN} đã vắng 4 buổi liên tiếp (kể cả có lý do) trong năm " \
        "2026; bot hiểu “trong năm” là năm dương lịch tính từ 01/01, nên điểm thưởng mất " \
        "đến hết năm 2026" in auto.note


async def test_dieu8_refusal_names_whose_ceiling_it_is(sample: App, driver: Driver,
                                                      clock: FakeClock) -> None:
    with Session(sample.engine) as s:
        _year(s, marks={mo: {HANH: "unexcused"} for mo in (2, 5, 9)})
    clock.set(DEC)
    out = await driver.say(SEC, "/danhgia 2026 8 3")
    assert "mức cao nhất là “Không hoàn thành nhiệm vụ”" in out[0]
    assert "(theo quy định của Đảng ủy Khối (mặc định của chibot, cần đối chiếu))" in out[0]
    assert "(Điều lệ Đảng, Điều 8)" not in out[0]
    # A condition of QĐ 366 itself still cites QĐ 366.
    out = await driver.say(SEC, "/danhgia 2026 3 kyluat")
    out = await driver.say(SEC, "/danhgia 2026 3 2")
    assert "theo Quy định 366-QĐ/TW" in out[0]


async def test_officer_overrides_one_member_and_approval_locks_the_cell(
        sample: App, driver: Driver, clock: FakeClock) -> None:
    with Session(sample.engine) as s:
        _year(s)
        officer = member(s, BASE_OFFICER)
        hanh = member(s, HANH)
    clock.set(DEC)
    out = await driver.say(BASE_OFFICER, "/duyet 2026 2 dv")
    assert f"8. {HANH}: đề xuất: Hoàn thành tốt nhiệm vụ (tự động từ ghi nhận)" in out[0]
    for text, reason in (("/duyet 2026 2 dv 8 3", "lý do điều chỉnh"),
                         ("/duyet 2026 2 dv 99 3 Lý do đủ dài ở đây", "Cú pháp"),
                         ("/duyet 2026 2 dv 5 3 Lý do đủ dài ở đây", "không xếp loại")):
        out = await driver.say(BASE_OFFICER, text)
        assert reason in out[0], text
    out = await driver.say(BASE_OFFICER, "/duyet 2026 2 dv 8 3 Chưa hoàn thành chỉ tiêu "
                                         "chuyên môn quý IV")
    assert f"Đã điều chỉnh xếp loại năm 2026 của đồng chí {HANH}: Hoàn thành tốt nhiệm vụ → " \
        "Hoàn thành nhiệm vụ" in out[0]
    with Session(sample.engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "review.override")).one()
        assert (entry.actor_id, entry.entity_id) == (officer.id, hanh.id)
        assert entry.detail == {"year": 2026, "previous": "httnv", "level": "htnv",
                                "reason": "Chưa hoàn thành chỉ tiêu chuyên môn quý IV"}
    out = await driver.say(BASE_OFFICER, "/duyet 2026 2")
    assert "Đã duyệt Chi bộ Phòng Quản lý ngân sách năm 2026" in out[0]
    # After approval the secretary's change is refused and changes nothing.
    out = await driver.say(SEC, "/danhgia 2026 3 3")
    assert "đã được cấp trên duyệt (Hoàn thành tốt nhiệm vụ); chi bộ không sửa được" in out[0]
    out = await driver.say(SEC, "/danhgia 2026 chibo 3")
    assert "đã được cấp trên duyệt" in out[0]
    with Session(sample.engine) as s:
        thang = s.exec(select(MemberReview).where(
            MemberReview.member_id == member(s, THANG).id)).one()
        assert (thang.proposed_level, thang.confirmed_level) == (None, "httnv")
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "review.propose")).all() \
            == []
    out = await driver.say(SEC, "/danhgia")
    assert f"8. {HANH}:" in out[0] and "đã duyệt: Hoàn thành nhiệm vụ" in out[0]
    assert "xếp loại đã duyệt: Hoàn thành tốt nhiệm vụ." in out[0]


async def test_officer_sets_a_cells_rubric_from_the_chat(sample: App, driver: Driver) -> None:
    out = await driver.say(BASE_OFFICER, "/thangdiem")
    assert "2. Chi bộ Phòng Quản lý ngân sách — Đảng bộ Sở Tài chính: hd42-2025 (mặc định)" \
        in out[0] and "phutho-2024" in out[0]
    out = await driver.say(BASE_OFFICER, "/thangdiem 2 khongco")
    assert "Không có thang điểm “khongco”" in out[0]
    out = await driver.say(SEC, "/thangdiem 2 phutho-2024")
    assert "không có quyền" in out[0]
    with Session(sample.engine) as s:
        assert org(s, *QLNS).rubric_id is None
    out = await driver.say(BASE_OFFICER, "/thangdiem 2 phutho-2024")
    assert "Đã đặt thang điểm của Chi bộ Phòng Quản lý ngân sách" in out[0]
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        assert cell.rubric_id == "phutho-2024"
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "cell.rubric")).one()
        assert entry.detail["previous"] == "hd42-2025"
        assert s.get(Organisation, cell.id).rubric_id == "phutho-2024"  # type: ignore[union-attr]
