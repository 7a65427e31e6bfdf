"""Committee summaries checked figure by figure on a small hand-built month (11/2026),
the Excel file re-read with openpyxl, the chart as a real PNG, and the scope matrix."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlmodel import Session, select

from bot.app import App
from models import dieu8, reports
from models.attendance import Attendance
from models.meeting import Meeting
from models.member import Member
from models.org import Organisation
from models.score import Score
from tests.helpers import Driver

NOV = datetime(2026, 11, 3, 0, 30, tzinfo=UTC)
VP_TC = ("Chi bộ Văn phòng Sở", "Đảng bộ Sở Tài chính")
QLNS = ("Chi bộ Phòng Quản lý ngân sách", "Đảng bộ Sở Tài chính")
VP_GD = ("Chi bộ Văn phòng Sở", "Đảng bộ Sở Giáo dục và Đào tạo")
GDTH = ("Chi bộ Phòng Giáo dục Trung học", "Đảng bộ Sở Giáo dục và Đào tạo")


def _org(s: Session, name: str, parent: str | None = None) -> Organisation:
    q = select(Organisation).where(Organisation.name == name)
    if parent:
        pid = s.exec(select(Organisation.id).where(Organisation.name == parent)).one()
        q = q.where(Organisation.parent_id == pid)
    return s.exec(q).one()


def _meeting(s: Session, cell: Organisation, period: str, status: str, at: datetime,
             marks: dict[str, str] | None = None, score: tuple[float, str] | None = None,
             confirmed: tuple[float, str] | None = None, thematic: bool = False) -> Meeting:
    m = Meeting(cell_id=cell.id, period=period, scheduled_at=at, status=status,
                thematic_part=thematic)
    s.add(m)
    s.flush()
    members = list(s.exec(select(Member).where(Member.cell_id == cell.id,
                                               Member.active == True)))  # noqa: E712
    if marks is not None:
        for mem in members:
            st = "exempted" if not mem.due_to_attend else marks.get(mem.full_name, "present")
            s.add(Attendance(meeting_id=m.id, member_id=mem.id, status=st))
    for kind, sc in (("cell", score), ("confirmed", confirmed)):
        if sc:
            s.add(Score(meeting_id=m.id, kind=kind, rubric_id="hd42-2025",
                        rubric_version="2025.10", total=sc[0], rating=sc[1]))
    return m


@pytest.fixture
def month(sample: App) -> App:
    with Session(sample.engine) as s:
        vp, ql = _org(s, *VP_TC), _org(s, *QLNS)
        vpgd, gdth = _org(s, *VP_GD), _org(s, *GDTH)
        # Chi bộ VP (Tài chính): 9 due; one unexcused; scored 92 (Tốt).
        _meeting(s, vp, "2026-11", "held", NOV, {"Ngô Thị Mai": "unexcused"}, (92, "tot"))
        # QLNS: 7 due; 5 present, 1 late, 1 excused; cell 81, confirmed 75 (Khá).
        _meeting(s, ql, "2026-11", "held", NOV,
                 {"Hồ Đức Thắng": "late", "Châu Minh Tuấn": "excused"}, (81, "kha"),
                 (75, "kha"), thematic=True)
        # VP (Giáo dục): not met yet.
        _meeting(s, vpgd, "2026-11", "planned", NOV)
        # GDTH: 10 due, all present, not scored.
        _meeting(s, gdth, "2026-11", "held", NOV, {})
        # Earlier months for the Điều 8 flags: Ngô Thị Mai unexcused in Sep and Oct too;
        # Đặng Quốc Huy excused three times running.
        for mo in (9, 10):
            at = datetime(2026, mo, 3, 0, 30, tzinfo=UTC)
            _meeting(s, vp, f"2026-{mo:02d}", "held", at,
                     {"Ngô Thị Mai": "unexcused", "Đặng Quốc Huy": "excused"}, (85, "kha"))
        huy = s.exec(select(Member).where(Member.full_name == "Đặng Quốc Huy")).one()
        nov_vp = s.exec(select(Meeting).where(Meeting.cell_id == vp.id,
                                              Meeting.period == "2026-11")).one()
        a = s.exec(select(Attendance).where(Attendance.meeting_id == nov_vp.id,
                                            Attendance.member_id == huy.id)).one()
        a.status = "excused"  # Huy: excused in Sep, Oct and Nov; VP now has 7 attended
        s.add(a)
        s.commit()
    return sample


def test_summary_figures(month: App) -> None:
    with Session(month.engine) as s:
        bloc = s.exec(select(Organisation).where(Organisation.kind == "bloc")).one()
        sm = reports.summary(s, bloc, reports.month(2026, 11))
        assert {k: sm[k] for k in ("cells", "met", "not_met", "unscored", "not_held",
                                   "attended", "due", "unexcused")} == {
            "cells": 4, "met": 3, "not_met": 1, "unscored": 1, "not_held": 0,
            "attended": 7 + 6 + 10, "due": 9 + 7 + 10, "unexcused": 1}
        assert sm["ratings"] == {"tot": 1, "kha": 1}  # QLNS counts with its confirmed rating
        children = {r["name"]: r for r in reports.child_rows(s, bloc, reports.month(2026, 11))}
        tc, gd = children["Đảng bộ Sở Tài chính"], children["Đảng bộ Sở Giáo dục và Đào tạo"]
        assert (tc["cells"], tc["met"], tc["unscored"], tc["attended"], tc["due"]) == \
            (2, 2, 0, 13, 16)
        assert tc["score"] == pytest.approx((92 + 75) / 2)
        assert (gd["cells"], gd["met"], gd["unscored"], gd["attended"], gd["due"]) == \
            (2, 1, 1, 10, 10)
        # Q4 sums October and November (September is Q3); only VP (Tài chính) met in Oct.
        q = reports.summary(s, bloc, reports.quarter(2026, 4))
        assert (q["attended"], q["due"], q["unexcused"]) == (23 + 7, 26 + 9, 1 + 1)
        q3 = reports.summary(s, bloc, reports.quarter(2026, 3))
        assert (q3["met"], q3["attended"], q3["due"]) == (1, 7, 9)


def test_flags_and_thematic(month: App) -> None:
    with Session(month.engine) as s:
        bloc = s.exec(select(Organisation).where(Organisation.kind == "bloc")).one()
        watch = {r["name"]: (r["unexcused"], r["unpaid"], r["level"].value)
                 for r in dieu8.members_to_watch(s, bloc, "2026-11")}
        # Đặng Quốc Huy was excused three times running: Điều 8 never counts that.
        assert watch == {"Ngô Thị Mai": (3, 0, "flag")}
        assert [(r["name"], r["level"].value) for r in dieu8.members_to_watch(
            s, bloc, "2026-10")] == [("Ngô Thị Mai", "warn")]  # two by October
        no_thematic = [r["cell"] for r in reports.cells_without_thematic(
            s, bloc, reports.quarter(2026, 4).months)]
        assert "Chi bộ Phòng Quản lý ngân sách" not in no_thematic and len(no_thematic) == 3


@pytest.mark.parametrize(("text", "months"), [
    ("11/2026", ("2026-11",)), ("2026-11", ("2026-11",)), ("tháng 11", ("2026-11",)),
    ("", ("2026-11",)), ("quý 4", ("2026-10", "2026-11", "2026-12")),
    ("Q1/2027", ("2027-01", "2027-02", "2027-03")), ("2026", tuple(
        f"2026-{m:02d}" for m in range(1, 13))),
])
def test_period_parsing(text: str, months: tuple[str, ...]) -> None:
    assert reports.parse_period(text, date(2026, 11, 24)).months == months


@pytest.mark.parametrize("bad", ["13/2026", "tháng mười", "2026-13", "q5", "hôm qua"])
def test_bad_periods(bad: str) -> None:
    assert reports.parse_period(bad, date(2026, 11, 24)) is None


async def test_status_drill_down(month: App, driver: Driver) -> None:
    out = await driver.say("Đỗ Mạnh Cường", "/status 11/2026")  # bloc officer
    assert "Chi bộ đã sinh hoạt: 3/4" in out[0] and "88,5%" in out[0]
    assert "Xếp loại: Tốt 1, Khá 1, Trung bình 0, Kém 0." in out[0]
    tc_button = next(d for lbl, d in driver.last_buttons() if "Tài chính" in lbl)
    out = await driver.press("Đỗ Mạnh Cường", tc_button)
    assert "Đảng bộ Sở Tài chính" in out[0] and "2/2" in out[0]
    cell_button = next(d for lbl, d in driver.last_buttons() if "ngân sách" in lbl)
    out = await driver.press("Đỗ Mạnh Cường", cell_button)
    assert "có mặt 6/7" in out[0] and "điểm 75" in out[0]
    meeting_button = driver.last_buttons()[0][1]
    out = await driver.press("Đỗ Mạnh Cường", meeting_button)
    assert "Hồ Đức Thắng: Đến muộn" in out[0] and "Châu Minh Tuấn: Vắng có lý do" in out[0]
    out = await driver.say("Đỗ Mạnh Cường", "/status tháng mười ba")
    assert "Không hiểu kỳ" in out[0]


async def test_missing_and_reminders_once_a_day(month: App, driver: Driver) -> None:
    driver.member("Nguyễn Thị Thanh Hương")  # secretary of VP (Giáo dục): reachable
    out = await driver.say("Đỗ Mạnh Cường", "/missing 11/2026")
    assert "2 chi bộ" in out[0]
    # Same-name cells are told apart by their parent.
    assert "Chi bộ Văn phòng Sở — Đảng bộ Sở Giáo dục và Đào tạo: chưa sinh hoạt — " \
        "Nguyễn Thị Thanh Hương" in out[0]
    assert "Chi bộ Phòng Giáo dục Trung học — Đảng bộ Sở Giáo dục và Đào tạo: chưa chấm " \
        "điểm — Lâm Văn Sơn" in out[0]
    button = driver.last_buttons()[0][1]
    out = await driver.press("Đỗ Mạnh Cường", button)
    assert "Đã gửi 1 lời nhắc" in out[-1] and "3 chưa kết nối" in out[-1]
    huong = driver.messenger.texts(f"dm-{driver.member('Nguyễn Thị Thanh Hương').id}")
    assert "chưa hoàn thành sinh hoạt hoặc chấm điểm kỳ 11/2026" in huong[-1]
    out = await driver.press("Đỗ Mạnh Cường", button)  # the same day: nothing again
    assert "Đã gửi 0 lời nhắc; 1 đã được nhắc hôm nay" in out[-1]
    driver.app.clock.advance(days=1)  # type: ignore[attr-defined]
    out = await driver.press("Đỗ Mạnh Cường", button)
    assert "Đã gửi 1 lời nhắc" in out[-1]


async def test_report_excel_and_chart(month: App, driver: Driver) -> None:
    out = await driver.say("Nguyễn Văn An", "/report thang 11/2026")  # base officer
    sent = driver.messenger.sent[-2:]
    xlsx, png = sent[0].attachment, sent[1].attachment
    assert xlsx.filename == "bao-cao-m2026-11.xlsx" and png.kind == "photo"
    wb = load_workbook(io.BytesIO(xlsx.data))
    assert wb.sheetnames == ["Tổng hợp", "Tổ chức cơ sở", "Chi bộ", "Buổi sinh hoạt",
                             "Đảng viên"]
    cells = wb["Chi bộ"]
    assert cells.freeze_panes == "A2"
    assert [c.value for c in cells[1]][:3] == ["Chi bộ", "Số buổi", "Đã họp"]
    rows = {r[0]: r for r in cells.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"Chi bộ Văn phòng Sở — Đảng bộ Sở Tài chính",
                         "Chi bộ Phòng Quản lý ngân sách — Đảng bộ Sở Tài chính"}
    ql = rows["Chi bộ Phòng Quản lý ngân sách — Đảng bộ Sở Tài chính"]
    assert ql[5:10] == (7, 6, pytest.approx(6 / 7, abs=1e-4), 0, 75)
    assert isinstance(ql[5], int) and cells["H3"].number_format == "0.0%"
    summary = {r[0]: r[1] for r in wb["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Số chi bộ"] == 2 and summary["Lượt phải dự"] == 16
    members = list(wb["Đảng viên"].iter_rows(min_row=2, values_only=True))
    assert ("Chi bộ Văn phòng Sở — Đảng bộ Sở Tài chính", "Ngô Thị Mai", 1, 0, 0, 1, 0) \
        in members
    # Under the 85% target and unexcused absences are marked red per cell.
    vp_row = next(i for i, r in enumerate(cells.iter_rows(min_row=2, values_only=True), 2)
                  if r[0].startswith("Chi bộ Văn phòng Sở"))
    assert cells.cell(vp_row, 8).fill.fgColor.rgb.endswith("FFC7CE")  # 7/9 < 85%
    assert cells.cell(vp_row, 9).fill.fgColor.rgb.endswith("FFC7CE")  # 1 unexcused
    assert cells.column_dimensions["A"].width >= len("Chi bộ Phòng Quản lý ngân sách")
    img = Image.open(io.BytesIO(png.data))
    img.verify()
    assert img.format == "PNG" and img.size[0] > 500
    assert "Đảng bộ Sở Tài chính" in out[0]


def test_year_report_rates_each_cell_by_its_rubrics_yearly_rule(month: App) -> None:
    from handlers.committee.exports import cells_csv, workbook

    with Session(month.engine) as s:
        ql = _org(s, *QLNS)
        ql.rubric_id = "phutho-2024"  # Tốt: every meeting Khá or better and 7 Tốt
        s.add(ql)
        for mo in range(1, 11):
            _meeting(s, ql, f"2026-{mo:02d}", "held", datetime(2026, mo, 3, 0, 30, tzinfo=UTC),
                     {}, (92, "tot") if mo <= 7 else (85, "kha"))
        s.commit()
        bloc = s.exec(select(Organisation).where(Organisation.kind == "bloc")).one()
        wb = load_workbook(io.BytesIO(workbook(s, bloc, reports.year(2026), month.settings)))
        sheet = wb["Chi bộ"]
        headers = [c.value for c in sheet[1]]
        assert headers[10:] == ["Số buổi Tốt", "Số buổi Khá", "Số buổi Trung bình",
                                "Số buổi Kém", "Xếp loại cả năm"]
        rows = {(r[0].split(" — ")[0], r[1]): r
                for r in sheet.iter_rows(min_row=2, values_only=True)}
        assert rows[(QLNS[0], 11)][9:] == (pytest.approx((7 * 92 + 3 * 85 + 75) / 11, abs=0.05),
                                           7, 4, 0, 0, "Tốt")
        # Three held meetings are too few to rate a year (default minimum 9 of 12).
        assert rows[(VP_TC[0], 3)][10:] == (
            1, 2, 0, 0, "Không xếp loại (chưa đủ buổi sinh hoạt thường kỳ: đã họp 3/12, cần ít "
            "nhất 9)")
        assert rows[(GDTH[0], 1)][10:] == (
            0, 0, 0, 0, "Không xếp loại (chưa đủ buổi sinh hoạt thường kỳ: đã họp 1/12, cần ít "
            "nhất 9)")
        ql.rubric_id = None  # under hd42-2025 the same year goes by its mean, 88.5: Khá
        s.add(ql)
        s.flush()
        text = cells_csv(s, bloc, reports.year(2026), month.settings).decode("utf-8-sig")
        line = next(x for x in text.splitlines() if x.startswith(QLNS[0]))
        assert line.startswith(f"{QLNS[0]} — {QLNS[1]};11;0;") and \
            line.endswith(";7;4;0;0;Khá")
        quarter = load_workbook(io.BytesIO(workbook(s, bloc, reports.quarter(2026, 4),
                                                    month.settings)))["Chi bộ"]
        assert [c.value for c in quarter[1]][-1] == "Số buổi Kém"  # no yearly rating


def test_cli_report_formats(month: App, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.__main__ import main

    monkeypatch.setenv("CHIBOT_DATABASE__URL", month.settings.database_url)
    for fmt in ("xlsx", "csv", "png"):
        out = tmp_path / f"r.{fmt}"
        assert main(["report", "--period", "2026-11", "--format", fmt, "--out",
                     str(out)]) == 0
        assert out.stat().st_size > 100
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert "Chi bộ Phòng Giáo dục Trung học — Đảng bộ Sở Giáo dục và Đào tạo;1;1;10;10;" \
        "1,0000;0;;" in text  # Vietnamese Excel
    out = tmp_path / "dot.csv"
    assert main(["report", "--period", "2026-11", "--format", "csv", "--csv-decimal", "dot",
                 "--out", str(out)]) == 0
    assert "Chi bộ Phòng Giáo dục Trung học — Đảng bộ Sở Giáo dục và Đào tạo,1,1,10,10," \
        "1.0000,0,," in out.read_text(encoding="utf-8-sig")
    assert main(["report", "--period", "2026-13"]) == 2


# -- scope matrix -----------------------------------------------------------------------
BLOC_OFFICER, BASE_OFFICER = "Đỗ Mạnh Cường", "Nguyễn Văn An"
SECRETARY, DEPUTY, MEMBER = "Dương Văn Thành", "Lý Thị Kim Oanh", "Hồ Đức Thắng"
DENIED = "không có quyền"
MATRIX = {
    # command: {role: expected fragment in the first reply, or DENIED}
    "/status 11/2026": {BLOC_OFFICER: "Đảng bộ Khối các cơ quan tỉnh",
                        BASE_OFFICER: "Đảng bộ Sở Tài chính — kỳ 11/2026",
                        SECRETARY: "Chi bộ Phòng Quản lý ngân sách — kỳ 11/2026",
                        DEPUTY: "Chi bộ Phòng Quản lý ngân sách — kỳ 11/2026",
                        MEMBER: "Đồng chí Hồ Đức Thắng — kỳ 11/2026: phải dự 1 buổi, có mặt 1"},
    "/missing 11/2026": {BLOC_OFFICER: "2 chi bộ", BASE_OFFICER: "mọi chi bộ",
                         SECRETARY: DENIED, DEPUTY: DENIED, MEMBER: DENIED},
    "/flags": {BLOC_OFFICER: "Ngô Thị Mai", BASE_OFFICER: "Ngô Thị Mai",
               SECRETARY: "Chi bộ Phòng Quản lý ngân sách", DEPUTY: "Cảnh báo",
               MEMBER: DENIED},
    "/report thang 11/2026": {BLOC_OFFICER: "Đảng bộ Khối", BASE_OFFICER: "Sở Tài chính",
                              SECRETARY: "Chi bộ Phòng Quản lý ngân sách", DEPUTY: "kỳ 11/2026",
                              MEMBER: DENIED},
}


@pytest.mark.parametrize("command", list(MATRIX))
@pytest.mark.parametrize("role", [BLOC_OFFICER, BASE_OFFICER, SECRETARY, DEPUTY, MEMBER])
async def test_scope_matrix(month: App, driver: Driver, command: str, role: str) -> None:
    out = await driver.say(role, command)
    expected = MATRIX[command][role]
    assert expected in out[0], (command, role, out[0])
    if expected != DENIED:
        assert DENIED not in out[0]
    if role != BLOC_OFFICER and "/flags" in command and role in (SECRETARY, DEPUTY):
        assert "Ngô Thị Mai" not in out[0]  # another cell's member


async def test_drill_down_outside_scope_is_denied(month: App, driver: Driver) -> None:
    with Session(month.engine) as s:
        gd = _org(s, "Đảng bộ Sở Giáo dục và Đào tạo")
        gdth = _org(s, *GDTH)
        vp = _org(s, *VP_TC)
        other_meeting = s.exec(select(Meeting).where(Meeting.cell_id == gdth.id)).first()
    for who, data in ((BASE_OFFICER, f"st:{gd.id}:m2026-11"),
                      (SECRETARY, f"st:{vp.id}:m2026-11"),
                      (SECRETARY, f"sm:{other_meeting.id}"),
                      (MEMBER, f"st:{gdth.id}:m2026-11"),
                      (BASE_OFFICER, f"ms:{gd.id}:m2026-11"),
                      (BLOC_OFFICER, f"st:{gd.id}:bogus")):
        out = await driver.press(who, data)
        assert DENIED in out[0], (who, data)
    out = await driver.press(BLOC_OFFICER, f"st:{gd.id}:m2026-11")
    assert "Đảng bộ Sở Giáo dục và Đào tạo" in out[0]


async def test_unlinked_user_gets_nothing(month: App, driver: Driver) -> None:
    from models.messages import Chat, Incoming, Sender

    driver.app.handle(Incoming(platform="telegram", update_id="x1", chat=Chat("9", "private"),
                               sender=Sender("9", "Lạ"), text="/status"))
    await driver.app.sender.drain()
    with Session(month.engine) as s:
        from models.outbox import OutboxMessage

        row = s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == "9")).one()
        assert "chưa được liên kết" in row.payload["text"]


@pytest.fixture
def busy(month: App) -> App:
    """Every band with two or more meetings in Q4 and in the year: PostgreSQL sums the
    per-cell counts as NUMERIC (Decimal), which the chart multiplied by a float."""
    plan = {VP_TC: {10: None, 12: (95, "tot")}, QLNS: {10: (93, "tot"), 12: (91, "tot")},
            VP_GD: {10: (60, "trung_binh"), 12: (55, "trung_binh")},
            GDTH: {10: (40, "kem"), 12: (45, "kem")}}
    with Session(month.engine) as s:
        for who, months in plan.items():
            cell = _org(s, *who)
            for mo, score in months.items():
                if score is None:  # VP (Tài chính) already met in October (85, Khá)
                    continue
                _meeting(s, cell, f"2026-{mo:02d}", "held",
                         datetime(2026, mo, 3, 0, 30, tzinfo=UTC), {}, score)
        vpgd = _org(s, *VP_GD)
        for mo in (7, 8):  # two more Khá in the year, outside Q4
            _meeting(s, vpgd, f"2026-{mo:02d}", "held", datetime(2026, mo, 3, 0, 30, tzinfo=UTC),
                     {}, (80, "kha"))
        s.commit()
    return month


@pytest.mark.parametrize(("period", "command", "expected"), [
    (reports.quarter(2026, 4), "/baocao quy 4/2026", {"tot": 4, "kha": 2, "trung_binh": 2,
                                                       "kem": 2}),
    (reports.year(2026), "/baocao nam 2026", {"tot": 4, "kha": 5, "trung_binh": 2, "kem": 2})])
async def test_quarter_and_year_with_several_meetings_per_band(
        busy: App, driver: Driver, period: reports.Period, command: str,
        expected: dict[str, int]) -> None:
    from handlers.committee.charts import chart_figure

    with Session(busy.engine) as s:
        bloc = s.exec(select(Organisation).where(Organisation.kind == "bloc")).one()
        sm = reports.summary(s, bloc, period)
        assert sm["ratings"] == expected
        # Plain Python numbers on both databases: counts are int, averages float.
        assert all(type(v) is int for k, v in sm.items() if k != "ratings")
        assert all(type(v) is int for v in sm["ratings"].values())
        for row in reports.child_rows(s, bloc, period) + reports.cell_rows(s, bloc, period):
            assert all(type(v) in (int, float, str, type(None)) for v in row.values()), row
        fig = chart_figure(s, bloc, period)
        bars = [p.get_height() for p in fig.axes[1].patches]
        # one bar per band, then the cells that did not meet ("Không họp")
        assert bars[:-1] == [expected[b] for b in reports.BANDS]
        assert len(bars) == len(reports.BANDS) + 1
    before = len(driver.messenger.sent)
    out = await driver.say(BLOC_OFFICER, command)
    assert "sự cố" not in " ".join(out)
    files = [o.attachment for o in driver.messenger.sent[before:] if o.attachment]
    assert [f.kind for f in files][:2] == ["document", "photo"]
    xlsx = files[0]
    wb = load_workbook(io.BytesIO(xlsx.data))
    summary = {r[0]: r[1] for r in wb["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Số chi bộ"] == 4
