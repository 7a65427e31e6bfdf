"""Committee output read back from the files: the chart (gaps for months without a
meeting, whole-number ticks, a labelled target line), the CSV (';' and a decimal comma by
default, or ',' and '.'), Vietnamese dates in the workbook, names in Vietnamese order."""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.app import App
from handlers.committee.charts import chart_figure, chart_png, trend_series
from handlers.committee.exports import cells_csv, workbook
from models import reports
from models.collation import sorted_names, vi_key
from models.org import Organisation
from tests.test_status import month as month

NOV = reports.month(2026, 11)


def _bloc(s: Session) -> Organisation:
    return s.exec(select(Organisation).where(Organisation.kind == "bloc")).one()


def test_trend_has_gaps_for_months_without_meetings(month: App, tmp_path: Path) -> None:
    with Session(month.engine) as s:
        xs, ys = trend_series(s, _bloc(s), NOV)
        assert xs[0] == "12/25" and xs[-1] == "11/26" and len(xs) == 12
        assert all(math.isnan(y) for y in ys[:8])  # Dec 2025 .. Jul 2026: no meeting
        assert round(ys[-1], 1) == round(100 * 23 / 26, 1)  # November: 23 of 26
        fig = chart_figure(s, _bloc(s), NOV)
        trend_ax, ratings_ax = fig.axes[:2]
        line = trend_ax.lines[0]
        assert math.isnan(line.get_ydata()[0])  # drawn as a gap, not as 0 %
        legend = [t.get_text() for t in trend_ax.get_legend().get_texts()]
        assert "Mục tiêu 85%" in legend
        ticks = ratings_ax.get_yticks()
        assert all(float(t).is_integer() for t in ticks)
        png = tmp_path / "chart.png"
        png.write_bytes(chart_png(s, _bloc(s), NOV))
    import matplotlib.image as mpimg

    pixels = mpimg.imread(png)
    assert pixels.shape[:2] == (420, 1100)


def test_csv_uses_semicolons_and_decimal_comma_by_default(month: App) -> None:
    with Session(month.engine) as s:
        vi = cells_csv(s, _bloc(s), NOV, month.settings).decode("utf-8-sig")
        intl = cells_csv(s, _bloc(s), NOV, month.settings, decimal="dot").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(vi), delimiter=";"))
    assert all(len(r) == len(rows[0]) for r in rows)  # one field per column: no stray ';'
    vp = next(r for r in rows[1:] if r[7] == "92,0")  # VP (Tài chính): 7 of 9, 92 points
    assert rows[0][5] == "Tỷ lệ dự họp" and vp[5] == "0,7778"
    assert vp[0] == "Chi bộ Văn phòng Sở — Đảng bộ Sở Tài chính"
    rows = list(csv.reader(io.StringIO(intl), delimiter=","))
    assert all(len(r) == len(rows[0]) for r in rows)
    vp = next(r for r in rows[1:] if r[7] == "92.0")
    assert vp[5] == "0.7778"


def test_workbook_dates_and_name_order(month: App) -> None:
    with Session(month.engine) as s:
        data = workbook(s, _bloc(s), reports.quarter(2026, 4), month.settings)
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Buổi sinh hoạt"]
    assert ws["D1"].value == "Thời gian"
    assert isinstance(ws["D2"].value, datetime) and ws["D2"].number_format == "dd/mm/yyyy hh:mm"
    names: dict[str, list[str]] = {}
    for cell, name, *_rest in wb["Đảng viên"].iter_rows(min_row=2, values_only=True):
        names.setdefault(cell, []).append(name)
    vp = names["Chi bộ Văn phòng Sở — Đảng bộ Sở Tài chính"]
    assert vp == sorted_names(vp)
    assert vp.index("Đặng Quốc Huy") < vp.index("Ngô Thị Mai")  # not "Đ" after "Z"


def test_vietnamese_collation() -> None:
    assert sorted_names(["Đặng Quốc Huy", "Hà Văn Bình", "Dương Văn Thành", "Zô", "An",
                         "Ân", "Anh", "Ăn", "Ư", "Uy"]) == [
        "An", "Anh", "Ăn", "Ân", "Dương Văn Thành", "Đặng Quốc Huy", "Hà Văn Bình", "Uy",
        "Ư", "Zô"]
    # tones: ngang, huyền, sắc, hỏi, ngã, nặng; then lower case before upper case
    assert sorted_names(["mạ", "mã", "mả", "má", "mà", "ma"]) == [
        "ma", "mà", "má", "mả", "mã", "mạ"]
    assert vi_key("an") < vi_key("An") < vi_key("Anh")
    # decomposed input sorts like composed input
    assert vi_key("Đặng") == vi_key("Đặng".encode().decode())
    import unicodedata

    assert vi_key(unicodedata.normalize("NFD", "Trương")) == vi_key("Trương")
