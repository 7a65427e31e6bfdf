"""Imports bound their memory and explain what they refuse (issue 14, items 7 and 8)."""

from __future__ import annotations

import csv
import io
import re
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from bot import sheet_reader
from bot.app import App
from bot.importer import import_file
from models.member import Member
from models.org import Organisation

BLOC, TZ = "Đảng bộ Khối", "Asia/Ho_Chi_Minh"
HEAD = ["Đảng bộ cơ sở", "Chi bộ", "Họ và tên", "Chức vụ"]
ROWS = [["Đảng bộ Sở Tư pháp", "Chi bộ Văn phòng", "Nguyễn Văn Ễnh", "Bí thư"],
        ["Đảng bộ Sở Tư pháp", "Chi bộ Văn phòng", "Trần Thị Hường", "Đảng viên"]]


def _members(engine: Engine) -> list[str]:
    with Session(engine) as s:
        return sorted(m.full_name for m in s.exec(select(Member)))


def _nothing_written(engine: Engine) -> bool:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Organisation)).one() == 0


def _csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows([HEAD, *rows])
    return buf.getvalue()


TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook, dot below


def _to_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Excel writes it: a base letter, then a combining tone."""
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", ch)
            tones = [c for c in d if c in TONES]
            letter = unicodedata.normalize("NFC", "".join(c for c in d if c not in TONES))
            out += (letter + "".join(tones)).encode("cp1258")
    return out


@pytest.mark.parametrize("encoding", ["cp1258", "utf-16", "utf-16-le", "utf-8-sig", "utf-8"])
def test_vietnamese_csv_encodings_are_decoded(engine: Engine, tmp_path: Path,
                                              encoding: str) -> None:
    text = _csv_text(ROWS)
    raw = _to_cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    path = tmp_path / "ds.csv"
    path.write_bytes(raw)
    report = import_file(engine, path, bloc_name=BLOC, timezone=TZ)
    assert report.ok, report.errors
    assert _members(engine) == sorted(r[2] for r in ROWS)


def test_undecodable_csv_is_refused_in_vietnamese(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "ds.csv"
    path.write_bytes(_csv_text(ROWS).encode() + b"\x81\x8d\x8f\x90\x9d")
    report = import_file(engine, path, bloc_name=BLOC, timezone=TZ)
    assert not report.ok and "bảng mã" in report.errors[0].reason
    assert "CSV UTF-8" in report.errors[0].reason and "codec" not in report.errors[0].reason
    assert _nothing_written(engine)


def test_overlong_names_are_refused_with_a_reason(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "ds.csv"
    rows = [["Đảng bộ " + "Sở " * 100, "Chi bộ A", "Lê Văn Dài", ""],
            ["Đảng bộ B", "Chi bộ " + "X" * 300, "Lê Văn Dài Hơn", ""],
            ["Đảng bộ B", "Chi bộ C", "Lê " + "Văn " * 40 + "Tên", ""]]
    path.write_text(_csv_text(rows), encoding="utf-8")
    report = import_file(engine, path, bloc_name=BLOC, timezone=TZ)
    reasons = [e.reason for e in report.errors]
    assert len(reasons) == 3 and all("tối đa" in r for r in reasons), reasons
    assert _nothing_written(engine)


def _xlsx(path: Path, rows: list[list[object]], far_cell: str | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    for r in [HEAD, *rows]:
        ws.append(r)
    if far_cell:
        ws[far_cell] = "x"
    wb.save(path)
    return path


def test_xlsx_claiming_16384_columns_is_refused_before_loading(engine: Engine,
                                                               tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "wide.xlsx", ROWS, far_cell="XFD3")
    assert path.stat().st_size < 20_000
    tracemalloc.start()
    try:
        report = import_file(engine, path, bloc_name=BLOC, timezone=TZ)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not report.ok and "16384 cột" in report.errors[0].reason
    assert peak < 20 * 1024 * 1024, peak
    assert _nothing_written(engine)


def _set_dimension(path: Path, ref: str) -> None:
    """Rewrite the first sheet's dimension claim (a lying file)."""
    with zipfile.ZipFile(path) as z:
        files = {i.filename: z.read(i.filename) for i in z.infolist()}
    name = "xl/worksheets/sheet1.xml"
    files[name] = re.sub(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(),
                         files[name])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in files.items():
            z.writestr(n, data)


def test_xlsx_with_a_false_small_claim_is_still_bounded(engine: Engine, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheet_reader, "MAX_ROWS", 50)
    many = [["Đảng bộ Sở Tư pháp", "Chi bộ Văn phòng", f"Người Thứ {chr(65 + i % 26)}", ""]
            for i in range(120)]
    path = _xlsx(tmp_path / "long.xlsx", many, far_cell="ZZ2")
    _set_dimension(path, "A1:D2")
    report = import_file(engine, path, bloc_name=BLOC, timezone=TZ)
    assert not report.ok and "hơn 50 dòng" in report.errors[0].reason
    assert _nothing_written(engine)


def test_xlsx_that_inflates_too_much_is_refused(engine: Engine, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = _xlsx(tmp_path / "ok.xlsx", ROWS)
    monkeypatch.setattr(sheet_reader, "MAX_UNZIPPED", 2_000)
    report = import_file(engine, path, bloc_name=BLOC, timezone=TZ)
    assert not report.ok and "giải nén" in report.errors[0].reason
    monkeypatch.setattr(sheet_reader, "MAX_UNZIPPED", 50 * 1024 * 1024)
    assert import_file(engine, path, bloc_name=BLOC, timezone=TZ).ok


def test_oversize_file_is_refused(engine: Engine, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheet_reader, "MAX_BYTES", 100)
    path = tmp_path / "ds.csv"
    path.write_text(_csv_text(ROWS), encoding="utf-8")
    report = import_file(engine, path, bloc_name=BLOC, timezone=TZ)
    assert not report.ok and "vượt giới hạn" in report.errors[0].reason


def test_bidi_controls_and_lookalike_letters_are_cleaned_and_reported(app: App) -> None:
    """A right-to-left override flips the chat line after a name; a Cyrillic "а" makes
    another name that looks the same. Both are cleaned, each naming its row in the report;
    a name mixing scripts beyond look-alikes is refused."""
    from bot.importer import format_report, import_rows
    from models.org import Organisation

    head = ["Đảng bộ cơ sở", "Chi bộ", "Họ và tên"]
    rows = [head, ["Đảng bộ Sở Nội vụ", "Chi bộ Văn phòng", "Lê \u202eVăn\u202c Bình"],
            ["Đảng bộ Sở Nội vụ", "Chi bộ Văn phòng", "Nguyễn Văn \u0410n"],  # Cyrillic А
            ["Đảng bộ Sở Nội vụ", "Chi bộ Văn phòng", "Trần \u2067Thị\u2069 Hoa"],
            ["Đảng bộ Sở Nội vụ", "Chi bộ Văn ph\u043eng", "Phạm Văn Dũng"]]  # Cyrillic о
    report = import_rows(app.engine, rows, bloc_name="Khối", timezone="Asia/Ho_Chi_Minh")
    assert report.ok, report.errors
    lines = list(format_report(report))
    assert any(line.startswith("  dòng 2:") and "hướng chữ" in line for line in lines)
    assert any(line.startswith("  dòng 3:") and "“Nguyễn Văn An”" in line for line in lines)
    assert any(line.startswith("  dòng 4:") and "hướng chữ" in line for line in lines)
    assert any(line.startswith("  dòng 5:") and "tên chi bộ" in line for line in lines)
    with Session(app.engine) as s:
        names = sorted(m.full_name for m in s.exec(select(Member)))
        assert names == ["Lê Văn Bình", "Nguyễn Văn An", "Phạm Văn Dũng", "Trần Thị Hoa"]
        cells = [o.name for o in s.exec(select(Organisation).where(
            Organisation.name.startswith("Chi bộ")))]
        assert cells == ["Chi bộ Văn phòng"]  # one cell, not a look-alike twin
    mixed = [head, ["Đảng bộ Sở Nội vụ", "Chi bộ Văn phòng", "Lê Văn Жиnh"]]
    report = import_rows(app.engine, mixed, bloc_name="Khối", timezone="Asia/Ho_Chi_Minh")
    assert [(e.row, "trộn chữ Latinh" in e.reason) for e in report.errors] == [(2, True)]
