import csv
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from bot.importer import import_file
from models.member import Member, RoleAssignment
from models.org import Organisation, OrgKind
from tests.conftest import SAMPLE

BLOC = "Đảng bộ Khối"
TZ = "Asia/Ho_Chi_Minh"


def snapshot(engine: Engine) -> tuple[list[tuple], list[tuple], list[tuple]]:
    with Session(engine) as s:
        orgs = [(o.id, o.parent_id, o.kind, o.name, o.path) for o in s.exec(select(Organisation))]
        members = [tuple(m.model_dump().values()) for m in s.exec(select(Member))]
        roles = [(r.member_id, r.org_id, r.role) for r in s.exec(select(RoleAssignment))]
    return sorted(orgs), sorted(members, key=repr), sorted(roles)


def test_sample_builds_the_tree(engine: Engine) -> None:
    report = import_file(engine, SAMPLE, bloc_name=BLOC, timezone=TZ)
    assert report.ok and report.created == 40
    with Session(engine) as s:
        kinds = [o.kind for o in s.exec(select(Organisation))]
        assert kinds.count(OrgKind.BLOC.value) == 1
        assert kinds.count(OrgKind.BASE_COMMITTEE.value) == 2
        assert kinds.count(OrgKind.CELL.value) == 4
        an = s.exec(select(Member).where(Member.full_name == "Nguyễn Văn An")).one()
        roles = {r.role for r in s.exec(select(RoleAssignment).where(
            RoleAssignment.member_id == an.id))}
        assert roles == {"secretary", "officer", "follower"}
        nhung = s.exec(select(Member).where(Member.full_name == "Bùi Thị Hồng Nhung")).one()
        assert nhung.exempted and nhung.exempt_reason == "Nghỉ thai sản"
        khanh = s.exec(select(Member).where(Member.full_name == "Lương Văn Khánh")).one()
        assert not khanh.active


def test_reimport_changes_nothing(engine: Engine) -> None:
    assert import_file(engine, SAMPLE, bloc_name=BLOC, timezone=TZ).ok
    before = snapshot(engine)
    again = import_file(engine, SAMPLE, bloc_name=BLOC, timezone=TZ)
    assert again.ok and again.unchanged == 40 and again.created == again.updated == 0
    assert snapshot(engine) == before


def _rewrite(src: Path, dst: Path, edit) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.reader(src.open(encoding="utf-8")))
    edit(rows)
    with dst.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def test_changed_row_updates_member(engine: Engine, tmp_path: Path) -> None:
    assert import_file(engine, SAMPLE, bloc_name=BLOC, timezone=TZ).ok
    changed = tmp_path / "changed.csv"

    def edit(rows: list[list[str]]) -> None:
        rows[4][6] = "Dự bị"  # Phạm Thị Thu Hà
        rows[4][5] = "Chi ủy viên"

    _rewrite(SAMPLE, changed, edit)
    report = import_file(engine, changed, bloc_name=BLOC, timezone=TZ)
    assert report.ok and report.updated == 1 and report.unchanged == 39
    with Session(engine) as s:
        ha = s.exec(select(Member).where(Member.full_name == "Phạm Thị Thu Hà")).one()
        assert ha.membership == "probationary"
        roles = [r.role for r in s.exec(select(RoleAssignment).where(
            RoleAssignment.member_id == ha.id))]
        assert roles == ["committee"]


def test_bad_file_is_rejected_whole(engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"

    def edit(rows: list[list[str]]) -> None:
        rows[3][5] = "Tổng Bí thư"  # unknown role
        rows[7][3] = ""  # missing name
        rows[9][9] = "31/02/1990"  # impossible date
        rows.append(list(rows[2]))  # duplicate of row 3

    _rewrite(SAMPLE, bad, edit)
    report = import_file(engine, bad, bloc_name=BLOC, timezone=TZ)
    assert not report.ok
    by_row = {e.row: e.reason for e in report.errors}
    assert "chức vụ" in by_row[4]
    assert "họ và tên" in by_row[8]
    assert "ngày sinh" in by_row[10]
    assert "trùng với dòng 3" in by_row[42]
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Member)).one() == 0
        assert s.exec(select(func.count()).select_from(Organisation)).one() == 0


def test_bad_follow_target_rolls_back_everything(engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"

    def edit(rows: list[list[str]]) -> None:
        rows[40][11] = "Chi bộ Không Tồn Tại"

    _rewrite(SAMPLE, bad, edit)
    report = import_file(engine, bad, bloc_name=BLOC, timezone=TZ)
    assert not report.ok and report.errors[0].row == 41
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Member)).one() == 0


def test_missing_header_and_missing_file(engine: Engine, tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    assert "tiêu đề" in import_file(engine, f, bloc_name=BLOC, timezone=TZ).errors[0].reason
    assert not import_file(engine, tmp_path / "none.csv", bloc_name=BLOC, timezone=TZ).ok


def test_xlsx_import_matches_csv(engine: Engine, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["DANH SÁCH ĐẢNG VIÊN"])  # a title row above the header, as offices do
    for row in csv.reader(SAMPLE.open(encoding="utf-8")):
        ws.append(row)
    path = tmp_path / "ds.xlsx"
    wb.save(path)
    report = import_file(engine, path, bloc_name=BLOC, timezone=TZ)
    assert report.ok and report.created == 40
    again = import_file(engine, SAMPLE, bloc_name=BLOC, timezone=TZ)
    assert again.unchanged == 40


def test_optional_fee_column_is_read_and_bad_amounts_refused(engine: Engine,
                                                            tmp_path: Path) -> None:
    """Issue 23: "Mức đóng" / "muc_dong" gives each member's usual monthly fee; a sheet
    without the column keeps what is known; a bad amount names its row."""
    report = import_file(engine, SAMPLE, bloc_name=BLOC, timezone=TZ)
    assert report.ok
    with Session(engine) as s:
        oanh = s.exec(select(Member).where(Member.full_name == "Lý Thị Kim Oanh")).one()
        assert oanh.fee_amount == 90_000
        an = s.exec(select(Member).where(Member.full_name == "Nguyễn Văn An")).one()
        assert an.fee_amount is None  # an empty cell
    header = ["Đảng bộ cơ sở", "Chi bộ", "Họ và tên", "Mã đảng viên"]
    row = ["Đảng bộ Sở Tài chính", "Chi bộ Phòng Quản lý ngân sách", "Lý Thị Kim Oanh",
           "52000112"]
    without = tmp_path / "without.csv"
    with without.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, row])
    assert import_file(engine, without, bloc_name=BLOC, timezone=TZ).ok
    with Session(engine) as s:
        assert s.exec(select(Member).where(Member.party_code == "52000112")).one() \
            .fee_amount == 90_000
    for value, ok in (("120k", True), ("năm chục", False)):
        sheet = tmp_path / "fee.csv"
        with sheet.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([[*header, "muc_dong"], [*row, value]])
        report = import_file(engine, sheet, bloc_name=BLOC, timezone=TZ)
        assert report.ok is ok
        if not ok:
            assert "mức đóng “năm chục”" in report.errors[0].reason
    with Session(engine) as s:
        assert s.exec(select(Member).where(Member.party_code == "52000112")).one() \
            .fee_amount == 120_000
