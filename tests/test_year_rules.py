"""The year's rules, corrected (issue 12): Điều 8 counts only unexcused absences and
unpaid fee months; the HD 42 bonus run stays inside the calendar year."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.app import App
from models import dieu8, streaks
from tests.helpers import Driver, FakeClock
from tests.yearplay import fee, held, org

QLNS = ("Chi bộ Phòng Quản lý ngân sách", "Đảng bộ Sở Tài chính")
TUAN, HANH = "Châu Minh Tuấn", "Tạ Thị Hạnh"


def _watch(s: Session, upto: str) -> dict[str, tuple[int, int, str]]:
    bloc = org(s, "Đảng bộ Khối các cơ quan tỉnh")
    return {r["name"]: (r["unexcused"], r["unpaid"], r["level"].value)
            for r in dieu8.members_to_watch(s, bloc, upto)}


def test_three_excused_in_a_row_flag_nobody(sample: App) -> None:
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        for mo in (3, 4, 5):
            held(s, cell, 2026, mo, {TUAN: "excused"})
        s.commit()
        assert _watch(s, "2026-05") == {}
        assert streaks.long_runs(s, cell, 2026, datetime(2026, 12, 31, tzinfo=UTC)) == []


def test_unexcused_need_not_be_consecutive_and_warn_at_two(sample: App) -> None:
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        for mo in range(1, 10):
            held(s, cell, 2026, mo, {TUAN: "unexcused"} if mo in (2, 5, 9) else {})
        s.commit()
        assert _watch(s, "2026-04") == {}
        assert _watch(s, "2026-05") == {TUAN: (2, 0, "warn")}
        assert _watch(s, "2026-09") == {TUAN: (3, 0, "flag")}
        # A new calendar year starts from zero.
        held(s, cell, 2027, 1, {TUAN: "unexcused"})
        s.commit()
        assert _watch(s, "2027-01") == {}


def test_unpaid_months_count_on_their_own_and_mixed_is_attention(sample: App) -> None:
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        held(s, cell, 2026, 1, {HANH: "unexcused", TUAN: "unexcused"})
        held(s, cell, 2026, 2, {TUAN: "unexcused"})
        fee(s, cell, HANH, 2026, 1, None)
        fee(s, cell, HANH, 2026, 2, 50_000)
        fee(s, cell, TUAN, 2026, 1, None)
        fee(s, cell, TUAN, 2026, 2, None)
        s.commit()
        # Hạnh: one of each -> cần lưu ý; Tuấn: 2 and 2 -> warned, not flagged.
        assert _watch(s, "2026-02") == {HANH: (1, 1, "attention"), TUAN: (2, 2, "warn")}
        fee(s, cell, TUAN, 2026, 3, None)
        s.commit()
        assert _watch(s, "2026-03")[TUAN] == (2, 3, "flag")
        # A paid month recorded later overwrites the unpaid one.
        fee(s, cell, TUAN, 2026, 3, 50_000)
        s.commit()
        assert _watch(s, "2026-03")[TUAN] == (2, 2, "warn")


@pytest.mark.parametrize(("level", "u", "p"), [
    (None, 0, 0), (None, 1, 0), (None, 0, 1), ("attention", 1, 1), ("warn", 2, 0),
    ("warn", 0, 2), ("warn", 2, 2), ("flag", 3, 0), ("flag", 0, 3), ("flag", 3, 1)])
def test_level_table(level: str | None, u: int, p: int) -> None:
    got = dieu8.level_of(u, p)
    assert (got.value if got else None) == level


def test_bonus_run_is_more_than_three_and_stays_in_the_year(sample: App) -> None:
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        # Excused Nov, Dec 2026 and Jan, Feb 2027: four in a row across New Year.
        for y, mo in ((2026, 10), (2026, 11), (2026, 12), (2027, 1), (2027, 2), (2027, 3)):
            held(s, cell, y, mo, {TUAN: "excused"} if (y, mo) != (2026, 10) else {})
        s.commit()
        end = datetime(2027, 12, 31, tzinfo=UTC)
        assert streaks.keeps_bonus(s, cell, 2026, end)
        # 2027: Jan, Feb, Mar = 3 in a row: still not *more* than 3.
        assert streaks.keeps_bonus(s, cell, 2027, end)
        held(s, cell, 2027, 4, {TUAN: "unexcused"})  # any absence extends the run
        s.commit()
        assert not streaks.keeps_bonus(s, cell, 2027, end)
        assert streaks.keeps_bonus(s, cell, 2027, datetime(2027, 3, 31, tzinfo=UTC))
        bloc = org(s, "Đảng bộ Khối các cơ quan tỉnh")
        [row] = streaks.long_runs(s, bloc, 2027, end)
        assert (row["name"], row["run"], row["parent"]) == (TUAN, 4, QLNS[1])
        # The bloc's candidates are everyone absent that often in the year (the yearly
        # counts); the run itself still stops at ``upto``.
        assert streaks.long_runs(s, bloc, 2027, datetime(2027, 3, 31, tzinfo=UTC)) == []


@pytest.mark.parametrize(("marks", "run"), [
    ("EPEEPEEPU", None),  # five absences, never more than two in a row
    ("EEXEE", 4),  # an exempted month neither breaks nor extends a run
    ("PEEUE", 4), ("EEUPEEU", None), ("UUUUUP", 5)])
def test_longest_run_among_many_absences(sample: App, marks: str, run: int | None) -> None:
    """A member absent more than three times in the year is only flagged when the
    absences are in a row (the query numbers only such members' rows)."""
    status = {"E": "excused", "U": "unexcused", "P": "present", "X": "exempted"}
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        for mo, mark in enumerate(marks, start=1):
            held(s, cell, 2026, mo, {TUAN: status[mark], HANH: "excused"} if mo == 1
                 else {TUAN: status[mark]})
        s.commit()
        end = datetime(2026, 12, 31, tzinfo=UTC)
        for root in (cell, org(s, "Đảng bộ Khối các cơ quan tỉnh")):  # below and at the top
            rows = streaks.long_runs(s, root, 2026, end)
            assert [(r["name"], r["run"]) for r in rows] == ([(TUAN, run)] if run else [])


# -- a meeting never held -----------------------------------------------------------------
async def test_meeting_without_roll_call_becomes_not_held_and_reason_goes_up(
        driver: Driver, clock: FakeClock) -> None:
    from datetime import timedelta

    from handlers.meetings.cycle import materialise
    from models.meeting import Meeting
    from tests.helpers import link_cell, tick

    cell = link_cell(driver, QLNS[0])
    driver.member("Nguyễn Văn An")  # officer above the cell
    with Session(driver.app.engine) as s:
        materialise(s, driver.app.settings, clock())
        s.commit()
        dec = s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                           Meeting.period == "2026-12")).one()
    clock.set(dec.scheduled_at + timedelta(hours=71))
    await tick(driver.app)
    with Session(driver.app.engine) as s:
        assert s.get(Meeting, dec.id).status == "planned"
    clock.set(dec.scheduled_at + timedelta(hours=72))
    await tick(driver.app)
    with Session(driver.app.engine) as s:
        assert s.get(Meeting, dec.id).status == "not_held"
    sec = driver.messenger.texts(f"dm-{driver.member('Dương Văn Thành').id}")
    assert "KHÔNG TỔ CHỨC" in sec[-1] and "/lydo 12/2026 LÝ DO" in sec[-1]
    officer = driver.messenger.texts(f"dm-{driver.member('Nguyễn Văn An').id}")
    assert "không tổ chức buổi sinh hoạt" in officer[-1] and QLNS[1] in officer[-1]
    # A member may not give the reason; a too-short reason is refused; then it is passed up.
    out = await driver.say("Hồ Đức Thắng", f"/lydo {dec.id} Trùng lịch")
    assert out[0] == ("Xin lỗi, đồng chí không có quyền dùng lệnh /lydo: chỉ Bí thư hoặc Phó "
                      "Bí thư của chi bộ mới được dùng.")
    out = await driver.say("Dương Văn Thành", "/lydo ok")
    assert "3–300 ký tự" in out[0]
    out = await driver.say("Dương Văn Thành", "/lydo Trùng lịch công tác đột xuất")
    assert "Đã ghi lý do" in out[-1]
    with Session(driver.app.engine) as s:
        assert s.get(Meeting, dec.id).cancel_reason == "Trùng lịch công tác đột xuất"
    officer = driver.messenger.texts(f"dm-{driver.member('Nguyễn Văn An').id}")
    assert "Trùng lịch công tác đột xuất" in officer[-1]
    out = await driver.say("Dương Văn Thành", "/lydo lần nữa")
    assert "Không có buổi sinh hoạt nào đang chờ" in out[0]


# -- same-name cells ----------------------------------------------------------------------
def test_code_cell_lists_same_name_cells_with_parent_and_path(
        sample: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.__main__ import main

    monkeypatch.setenv("CHIBOT_DATABASE__URL", sample.settings.database_url)
    assert main(["code", "--cell", "Chi bộ Văn phòng Sở"]) == 1
    out = capsys.readouterr().out
    assert "tìm thấy 2" in out
    assert "Chi bộ Văn phòng Sở — Đảng bộ Sở Tài chính" in out
    assert "Chi bộ Văn phòng Sở — Đảng bộ Sở Giáo dục và Đào tạo" in out
    with Session(sample.engine) as s:
        gd = org(s, "Chi bộ Văn phòng Sở", "Đảng bộ Sở Giáo dục và Đào tạo")
    assert f'--cell "{gd.path}"' in out
    assert main(["code", "--cell", gd.path]) == 0
    assert "Chi bộ Văn phòng Sở — Đảng bộ Sở Giáo dục và Đào tạo: gửi /link" in \
        capsys.readouterr().out
    assert main(["code", "--cell", "Chi bộ Văn phòng Sở — Sở Tài chính"]) == 0
    assert "— Đảng bộ Sở Tài chính: gửi /link" in capsys.readouterr().out
    assert main(["code", "--cell", "Chi bộ không có"]) == 1


# -- targets marked per cell ------------------------------------------------------------
async def test_status_and_missing_mark_low_attendance_and_unexcused(
        sample: App, driver: Driver) -> None:
    with Session(sample.engine) as s:
        cell = org(s, *QLNS)
        # 5 of 7 present (71%), one unexcused; not scored, so /missing lists it.
        held(s, cell, 2026, 11, {TUAN: "unexcused", HANH: "excused"})
        s.commit()
    out = await driver.say("Nguyễn Văn An", "/status 11/2026")  # base officer: its cells
    line = next(x for x in out[0].splitlines() if x.startswith(f"• {QLNS[0]}"))
    assert "⚠️ dự họp dưới 85%" in line and "❗ 1 vắng không lý do" in line
    out = await driver.say("Đỗ Mạnh Cường", "/missing 11/2026")
    line = next(x for x in out[0].splitlines() if x.startswith(f"• {QLNS[0]}"))
    assert f"{QLNS[0]} — {QLNS[1]}: chưa chấm điểm" in line and "dưới 85%" in line


# -- rubric sources -------------------------------------------------------------------------
def test_rubrics_name_their_source_or_say_they_are_examples(tmp_path: Path) -> None:
    from handlers.core.labels import rubric_source
    from models.rubric import RubricError, load_rubric
    from models.settings import REPO_ROOT

    rubrics = REPO_ROOT / "locales" / "rubrics"
    hd42 = load_rubric(rubrics, "hd42-2025")
    assert rubric_source(hd42) == "42-HD/BTCTW ngày 28/10/2025 của Ban Tổ chức Trung ương"
    for rid in ("phutho-2024", "binhthuan-2025"):  # no document number at hand
        r = load_rubric(rubrics, rid)
        assert r.example and rubric_source(r).startswith("VÍ DỤ MINH HỌA")
    text = (rubrics / "hd42-2025.toml").read_text(encoding="utf-8")
    unsourced = "\n".join(x for x in text.splitlines()
                          if not x.startswith(("document_number", "issuer")))
    (tmp_path / "tinh-x.toml").write_text(unsourced.replace('"hd42-2025"', '"tinh-x"'),
                                         encoding="utf-8")
    with pytest.raises(RubricError, match="names its source"):
        load_rubric(tmp_path, "tinh-x")
    # Extending a sourced rubric does not lend its source.
    (tmp_path / "hd42-2025.toml").write_text(text, encoding="utf-8")
    (tmp_path / "tinh-y.toml").write_text('extends = "hd42-2025"\nid = "tinh-y"\n'
                                          'version = "1"\ntitle = "Y"\ndocument = "Y"\n',
                                          encoding="utf-8")
    with pytest.raises(RubricError, match="names its source"):
        load_rubric(tmp_path, "tinh-y")
