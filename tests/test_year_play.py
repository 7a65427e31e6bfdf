"""A year of one cell played month by month (issue 12): Chi bộ Phòng Quản lý ngân sách,
12 regular meetings in 2026; Châu Minh Tuấn excused four times in a row (Mar–Jun), Tạ Thị
Hạnh absent without reason twice (Feb, Sep) and one month unpaid (Jul). Checks the flags
and the HD 42 attendance bonus month by month, the cell's year level, the review's checks
and the classification sheets."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlmodel import Session

from bot.app import App
from handlers.scoring.autoscore import attendance as attendance_points
from models import dieu8, reports, streaks
from models.rubric import load_rubric
from tests.helpers import Driver, FakeClock
from tests.yearplay import fee, held, org

QLNS = ("Chi bộ Phòng Quản lý ngân sách", "Đảng bộ Sở Tài chính")
TUAN, HANH, THANG, PHUONG = "Châu Minh Tuấn", "Tạ Thị Hạnh", "Hồ Đức Thắng", "Mai Thị Phương"
SEC, BASE_OFFICER = "Dương Văn Thành", "Nguyễn Văn An"
MEMBERS = ["Dương Văn Thành", "Lý Thị Kim Oanh", THANG, PHUONG, "Trịnh Văn Hùng",
           "Phan Thị Thúy", TUAN, HANH]
MARKS = {2: {HANH: "unexcused"}, 3: {TUAN: "excused"}, 4: {TUAN: "excused"},
         5: {TUAN: "excused"}, 6: {TUAN: "excused"}, 9: {HANH: "unexcused"}}
# Attendance points (hd42-2025): 7/7 -> 4, 6/7 (85.7%) -> 3, any unexcused -> capped at 1;
# +1 while no member has been absent more than 3 times in a row this year (lost in June).
EXPECTED_POINTS = [5, 2, 4, 4, 4, 3, 4, 4, 1, 4, 4, 4]


def _play_year(app: App) -> list[tuple[str, float | None, dict[str, tuple[int, int, str]]]]:
    rubric = load_rubric(app.settings.rubrics_dir, "hd42-2025")
    crit = rubric.criterion("attendance")
    seen = []
    with Session(app.engine) as s:
        cell = org(s, *QLNS)
        bloc = org(s, "Đảng bộ Khối các cơ quan tỉnh")
        for mo in range(1, 13):
            m = held(s, cell, 2026, mo, MARKS.get(mo, {}), (92, "tot"))
            for name in MEMBERS:
                fee(s, cell, name, 2026, mo, None if (name, mo) == (HANH, 7) else 50_000)
            s.commit()
            watch = {r["name"]: (r["unexcused"], r["unpaid"], r["level"].value)
                     for r in dieu8.members_to_watch(s, bloc, f"2026-{mo:02d}")}
            seen.append((m.period, attendance_points(s, m, crit).points, watch))
    return seen


async def test_a_year_of_one_cell(sample: App, driver: Driver, clock: FakeClock) -> None:
    seen = _play_year(sample)
    # The HD 42 bonus, month by month, as the rubric's attendance criterion computes it.
    assert [p for _m, p, _w in seen] == EXPECTED_POINTS
    # Điều 8, month by month: Tuấn (excused only) never; Hạnh: one of each in July is
    # "cần lưu ý", two unexcused in September a warning; nobody reaches a flag.
    by_month = {period: watch for period, _p, watch in seen}
    assert all(TUAN not in w for w in by_month.values())
    assert by_month["2026-06"] == {}
    assert by_month["2026-07"] == {HANH: (1, 1, "attention")}
    assert by_month["2026-09"] == by_month["2026-12"] == {HANH: (2, 1, "warn")}
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        [run] = streaks.long_runs(s, cell, 2026, datetime(2026, 12, 31, tzinfo=UTC))
        assert (run["name"], run["run"]) == (TUAN, 4)
        row = reports.cell_rows(s, cell, reports.year(2026))[0]
        assert (row["held"], row["attended"], row["due"]) == (12, 78, 84)

    # December: the review. /flags shows both rules, privately.
    clock.set(datetime(2026, 12, 20, 2, 0, tzinfo=UTC))
    out = await driver.say(SEC, "/flags")
    assert f"{HANH} ({QLNS[0]} — {QLNS[1]}): vắng không lý do 2, chưa đóng đảng phí 1 " \
        "tháng — cảnh báo" in out[0]
    assert f"{TUAN} ({QLNS[0]} — {QLNS[1]}): 4 buổi liên tiếp" in out[0]
    out = await driver.say(HANH, "/tudanhgia 2 Hoàn thành các nhiệm vụ chuyên môn được giao.")
    assert "Đã ghi bản tự kiểm điểm năm 2026: Hoàn thành tốt nhiệm vụ" in out[0]
    out = await driver.say(SEC, "/danhgia")
    listing = out[0]
    assert f"8. {HANH}: dự 10/12 (vắng có lý do 0), vắng không lý do 2, chưa đóng đảng phí " \
        "1 tháng" in listing
    assert "tự xếp loại: Hoàn thành tốt nhiệm vụ; đề xuất: Hoàn thành nhiệm vụ (tự động" \
        in listing
    # Tuấn's four absences all had reasons: they do not lower his proposal.
    assert f"7. {TUAN}: dự 8/12 (vắng có lý do 4)" in listing
    assert "Chi bộ: chất lượng sinh hoạt cả năm Tốt; xếp loại đề xuất: Hoàn thành tốt nhiệm " \
        "vụ (tự động từ ghi nhận)" in listing
    # A level above what the conditions allow is refused, naming the condition.
    out = await driver.say(SEC, "/danhgia 2026 8 1")
    assert "Không thể xếp loại “Hoàn thành xuất sắc nhiệm vụ”" in out[0]
    assert "Có vắng sinh hoạt không lý do hoặc tháng chưa đóng đảng phí" in out[0]
    assert "mức cao nhất là “Hoàn thành tốt nhiệm vụ”" in out[0]
    out = await driver.say(SEC, "/danhgia 2026 3 xuất sắc")
    assert "Đã ghi đề xuất của chi bộ: đồng chí Hồ Đức Thắng — Hoàn thành xuất sắc" in out[0]
    # The 20% cap in the cell: 6 rated "tốt" or better, a second "xuất sắc" is too many.
    out = await driver.say(SEC, "/danhgia 2026 4 1")
    assert "Vượt tỷ lệ 20% “hoàn thành xuất sắc”" in out[0] and "2/6" in out[0]
    # Hùng is exempted from meetings: no meeting due, so his year is not rated.
    out = await driver.say(SEC, "/danhgia 2026 5 2")
    assert "Trịnh Văn Hùng không xếp loại năm 2026: không có buổi sinh hoạt phải dự" in out[0]
    out = await driver.say(SEC, "/danhgia 2026 6 kyluat")
    assert "bị kỷ luật" in out[0]
    out = await driver.say(SEC, "/danhgia 2026 6 2")
    assert "Bị kỷ luật trong năm" in out[0] and "Quy định 366-QĐ/TW" in out[0]
    out = await driver.say(SEC, "/danhgia 2026 chibo 1")
    assert "Đã ghi đề xuất xếp loại" in out[0]
    out = await driver.say(THANG, "/danhgia 2026 3 1")
    assert "không có quyền" in out[0]
    # The base organisation confirms the cell (2nd in its list) at the cell's proposal.
    out = await driver.say(BASE_OFFICER, "/duyet 2026")
    assert f"2. {QLNS[0]} — {QLNS[1]}: đề xuất: Hoàn thành xuất sắc nhiệm vụ" in out[0]
    # A cell that did not meet is not rated, with the reason (the same words as the workbook).
    assert f"1. Chi bộ Văn phòng Sở — {QLNS[1]}: Không xếp loại (chưa đủ buổi sinh hoạt " \
        "thường kỳ: đã họp 0/12, cần ít nhất 9)" in out[0]
    # At the base organisation the cap counts cells too: 1 of 1 rated "tốt" or better.
    out = await driver.say(BASE_OFFICER, "/duyet 2026 2")
    assert "Vượt tỷ lệ 20% “hoàn thành xuất sắc” trong Đảng bộ Sở Tài chính: 1/1" in out[0]
    out = await driver.say(BASE_OFFICER, "/duyet 2026 2 tốt")
    assert "Đã duyệt Chi bộ Phòng Quản lý ngân sách năm 2026: Hoàn thành tốt nhiệm vụ; 7 " \
        "đảng viên (71,4% hoàn thành tốt trở lên). 1 đảng viên không xếp loại" in out[0]
    out = await driver.say(SEC, "/duyet 2026 2")
    assert "không có quyền" in out[0]

    # The classification sheets of the year's workbook.
    from handlers.committee.exports import workbook

    with Session(sample.engine) as s:
        base = org(s, QLNS[1])
        wb = load_workbook(io.BytesIO(workbook(s, base, reports.year(2026), sample.settings)))
    orgs = {r[0]: r for r in wb["Xếp loại tổ chức"].iter_rows(min_row=2, values_only=True)}
    assert orgs[f"{QLNS[0]} — {QLNS[1]}"][1:] == (
        12, round(78 / 84, 4), "Tốt", "Hoàn thành tốt nhiệm vụ", "đã duyệt")
    assert orgs[f"Chi bộ Văn phòng Sở — {QLNS[1]}"][3:] == (
        "Không xếp loại (chưa đủ buổi sinh hoạt thường kỳ: đã họp 0/12, cần ít nhất 9)",
        "Không xếp loại (chưa đủ buổi sinh hoạt thường kỳ: đã họp 0/12, cần ít nhất 9)",
        "không xếp loại")
    members = {r[1]: r for r in wb["Xếp loại đảng viên"].iter_rows(min_row=2, values_only=True)
               if r[0].startswith(QLNS[0])}
    assert members[HANH][2:] == (12, 10, round(10 / 12, 4), 2, 1, 0, 0,
                                 "Hoàn thành tốt nhiệm vụ", "Hoàn thành nhiệm vụ", "đã duyệt")
    assert members[TUAN][4] == round(8 / 12, 4) and members[TUAN][10] == "Hoàn thành tốt nhiệm vụ"
    assert members[THANG][10] == "Hoàn thành xuất sắc nhiệm vụ"
    assert members["Phan Thị Thúy"][10] == "Hoàn thành nhiệm vụ"  # disciplined
    assert members["Trịnh Văn Hùng"][10:] == (
        "Không xếp loại (không có buổi sinh hoạt phải dự trong năm)", "không xếp loại")
    targets = {r[0]: r[1:] for r in wb["Chỉ tiêu năm"].iter_rows(min_row=2, values_only=True)}
    goal, got, gap = targets["Đảng viên hoàn thành tốt nhiệm vụ trở lên"]
    assert goal == 0.85 and gap == round(got - goal, 4)
    fees = {r[0]: r[1:] for r in wb["Đảng phí"].iter_rows(min_row=2, values_only=True)}
    assert fees[f"{QLNS[0]} — {QLNS[1]}"] == (1_200_000, 1_200_000, 1_150_000, 1_200_000,
                                             4_750_000, 95, 1)


async def test_review_bad_input_changes_nothing(sample: App, driver: Driver,
                                                clock: FakeClock) -> None:
    from sqlmodel import select

    from models.review import MemberReview

    clock.set(datetime(2026, 10, 5, 2, 0, tzinfo=UTC))
    out = await driver.say(HANH, "/tudanhgia 2 Hoàn thành các nhiệm vụ được giao.")
    assert "mở từ tháng 12/2026" in out[0]
    clock.set(datetime(2026, 12, 5, 2, 0, tzinfo=UTC))
    for text, reason in (("/tudanhgia 7 Hoàn thành các nhiệm vụ.", "Không rõ mức “7”"),
                         ("/tudanhgia 2 ngắn", "10–1000 ký tự"),
                         ("/tudanhgia giỏi lắm", "Không rõ mức")):
        out = await driver.say(HANH, text)
        assert reason in out[0], text
    for text, reason in (("/danhgia 2026 99 2", "Cú pháp"), ("/danhgia 2026 3 giỏi",
                                                             "Không rõ mức"),
                         ("/danhgia 1800", "Năm không hợp lệ"), ("/danhgia 2026 3", "Cú pháp")):
        out = await driver.say(SEC, text)
        assert reason in out[0], text
    out = await driver.say(BASE_OFFICER, "/duyet 2026 9")
    assert "Cú pháp" in out[0]
    with Session(sample.engine) as s:
        assert s.exec(select(MemberReview)).all() == []
    # January still reviews the past year.
    clock.set(datetime(2027, 1, 10, 2, 0, tzinfo=UTC))
    out = await driver.say(HANH, "/tudanhgia 3 Còn vắng sinh hoạt, cần cố gắng hơn.")
    assert "năm 2026" in out[0]


def test_classification_rules_are_sourced_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from models.classification import ClassificationError, load_rules
    from models.settings import REPO_ROOT

    rules = load_rules(REPO_ROOT / "locales" / "classification", "qd366-2025")
    assert rules.document_number == "366-QĐ/TW" and rules.excellent_cap == 0.2
    assert rules.ceiling("member", {"disciplined"}) == "htnv"
    assert rules.ceiling("member", {"dieu8", "disciplined"}) == "khtnv"
    text = (REPO_ROOT / "locales" / "classification" / "qd366-2025.toml").read_text(
        encoding="utf-8")
    (tmp_path / "x.toml").write_text(text.replace('document_number = "366-QĐ/TW"\n', ""),
                                     encoding="utf-8")
    with pytest.raises(ClassificationError, match="name their source"):
        load_rules(tmp_path, "x")


async def test_december_meeting_opens_the_self_assessment(driver: Driver,
                                                          clock: FakeClock) -> None:
    from datetime import timedelta

    from sqlmodel import select

    from handlers.meetings.cycle import materialise
    from models.meeting import Meeting
    from tests.helpers import link_cell, tick

    cell = link_cell(driver, QLNS[0])
    with Session(driver.app.engine) as s:
        materialise(s, driver.app.settings, clock())
        s.commit()
        dec = s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                           Meeting.period == "2026-12")).one()
        jan = s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                           Meeting.period == "2027-01")).one()
    clock.set(dec.scheduled_at + timedelta(hours=3))
    await tick(driver.app)
    told = driver.messenger.texts(f"dm-{driver.member(HANH).id}")
    assert "kiểm điểm, đánh giá, xếp loại năm 2026" in told[-1] and "/tudanhgia" in told[-1]
    with Session(driver.app.engine) as s:
        from models.schedule import ScheduledStep

        assert s.exec(select(ScheduledStep).where(ScheduledStep.meeting_id == jan.id,
                                                  ScheduledStep.step == "review_open")
                      ).first() is None  # only December's meeting opens the review
