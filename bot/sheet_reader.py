"""Reading a member sheet (CSV or XLSX) within fixed bounds, before any row is parsed.

Limits (a whole bloc of ~8,500 members fits with room to spare):

- the file: at most ``MAX_BYTES`` (5 MB);
- an .xlsx: its zip members at most ``MAX_UNZIPPED`` (50 MB) once inflated, checked from
  the zip directory before openpyxl opens it; the first sheet's dimension claim (``<dimension
  ref="A1:XFD3">``) at most ``MAX_ROWS`` rows and ``MAX_COLS`` columns, checked in
  openpyxl's read-only mode before any row is read; rows are then read with those bounds,
  so a sheet whose claim is false cannot grow past them either;
- a .csv: at most ``MAX_ROWS`` rows; UTF-8 (with or without BOM), UTF-16 (BOM, or the
  NUL pattern of Excel's "Unicode text") and Windows-1258 are decoded; anything else is
  refused with a Vietnamese explanation.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

MAX_BYTES = 5 * 1024 * 1024
MAX_UNZIPPED = 50 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLS = 50
MAX_FIELD = 2_000  # characters in one CSV field

SAVE_AS_UTF8 = ("đồng chí mở tệp bằng Excel và chọn Lưu thành “CSV UTF-8 (Comma delimited)” "
                "hoặc lưu dạng .xlsx, rồi nhập lại")


class SheetError(ValueError):
    """The sheet is refused as a whole; the message (Vietnamese) says why."""


def read_rows(path: Path) -> list[list[Any]]:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SheetError(f"tệp lớn {size / 1024 / 1024:.1f} MB, vượt giới hạn "
                         f"{MAX_BYTES // 1024 // 1024} MB; đồng chí chia thành nhiều tệp")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    return _read_csv(path.read_bytes())


def _read_xlsx(path: Path) -> list[list[Any]]:
    try:
        with zipfile.ZipFile(path) as z:
            inflated = sum(i.file_size for i in z.infolist())
    except zipfile.BadZipFile:
        raise SheetError("tệp .xlsx bị hỏng hoặc không phải tệp Excel") from None
    if inflated > MAX_UNZIPPED:
        raise SheetError(f"tệp Excel giải nén ra {inflated // 1024 // 1024} MB, vượt giới hạn "
                         f"{MAX_UNZIPPED // 1024 // 1024} MB")
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        rows, cols = ws.max_row or 0, ws.max_column or 0  # the sheet's dimension claim
        if rows > MAX_ROWS + 1 or cols > MAX_COLS:
            raise SheetError(f"trang tính khai báo {rows} dòng × {cols} cột, vượt giới hạn "
                             f"{MAX_ROWS} dòng × {MAX_COLS} cột")
        out = [list(r) for r in ws.iter_rows(max_row=MAX_ROWS + 2, max_col=MAX_COLS,
                                             values_only=True)]
    finally:
        wb.close()
    if len(out) > MAX_ROWS + 1:
        raise SheetError(f"trang tính có hơn {MAX_ROWS} dòng")
    return out


def decode_csv(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    elif raw[:4096].count(b"\x00") > len(raw[:4096]) // 4:  # UTF-16 without a BOM
        head = raw[:4096]
        odd_nuls = head[1::2].count(b"\x00")  # ASCII in little-endian: "A\x00"
        encodings = ["utf-16-le" if odd_nuls >= head[0::2].count(b"\x00") else "utf-16-be"]
    else:
        encodings = ["utf-8", "cp1258"]
    for enc in encodings:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if "\x00" in text or "\ufffd" in text:
            continue
        # Windows-1258 writes some tones as combining marks: compose them.
        return unicodedata.normalize("NFC", text)
    raise SheetError(f"không đọc được bảng mã của tệp CSV; {SAVE_AS_UTF8}")


def _read_csv(raw: bytes) -> list[list[Any]]:
    text = decode_csv(raw)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") \
            if text.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    rows: list[list[Any]] = []
    try:
        for row in csv.reader(io.StringIO(text), dialect):
            if len(rows) > MAX_ROWS:
                raise SheetError(f"tệp có hơn {MAX_ROWS} dòng; đồng chí chia thành nhiều tệp")
            if any(len(c) > MAX_FIELD for c in row):
                raise SheetError(f"dòng {len(rows) + 1} có ô dài quá {MAX_FIELD} ký tự")
            rows.append(row[:MAX_COLS])
    except csv.Error as exc:
        raise SheetError(f"tệp CSV sai định dạng ở dòng {len(rows) + 1} ({exc})") from None
    return rows
