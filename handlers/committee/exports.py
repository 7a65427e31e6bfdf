"""Report files for the committee: an Excel workbook and a CSV of cells (the chart:
:mod:`handlers.committee.charts`)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlmodel import Session

from handlers.core.cellsafe import safe_row
from handlers.core.labels import cell_label, label
from handlers.year import classify as yearclassify
from handlers.year import marks as yearmarks
from handlers.year import sheets as yearsheets
from models import reports
from models.collation import sort_within
from models.i18n import _
from models.org import Organisation
from models.reports import Period
from models.settings import Settings

DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
MONTH_FORMAT = "mm/yyyy"
CSV_STYLES = {"comma": (";", ","), "dot": (",", ".")}  # decimal mark -> (delimiter, mark)


def _rate(attended: int, due: int) -> float | None:
    return round(attended / due, 4) if due else None


def _sheet(wb: Any, title: str, headers: list[str], rows: list[list[Any]],
           percent_cols: tuple[int, ...] = (), date_cols: tuple[int, ...] = (),
           month_cols: tuple[int, ...] = ()) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title[:31])
    ws.append(safe_row(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="B22222")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        ws.append(safe_row(row))
    ws.freeze_panes = "A2"
    for col in percent_cols:
        for (c,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            c.number_format = "0.0%"
    for col in date_cols:  # Vietnamese dates, not ISO datetimes
        for (c,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            c.number_format = DATETIME_FORMAT
    for col in month_cols:  # a month as a date Excel sorts and filters, shown "09/2026"
        for (c,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            c.number_format = MONTH_FORMAT
    ws.auto_filter.ref = ws.dimensions  # every sheet filters and sorts from its header
    for i, h in enumerate(headers, 1):
        values = [len(str(h))] + [len(str(r[i - 1])) for r in rows[:500] if r[i - 1] is not None]
        ws.column_dimensions[get_column_letter(i)].width = min(max(values) + 2, 50)


def _rating_headers(period: Period) -> list[str]:
    """A month has one regular meeting and its rating; longer periods count meetings per
    band, and a year adds the yearly meeting-quality rating of the cell's rubric."""
    if period.kind == "month":
        return [_("Xếp loại")]
    counts = [_("Số buổi {band}").format(band=label(b)) for b in reports.BANDS]
    return counts + ([_("Xếp loại cả năm")] if period.kind == "year" else [])


def _rating_values(row: Any, period: Period, settings: Settings) -> list[Any]:
    if period.kind == "month":
        return [label(row["rating"]) if row["rating"] else None]
    counts = {b: row[f"r_{b}"] for b in reports.BANDS}
    if period.kind != "year":
        return list(counts.values())
    return [*counts.values(), yearly_rating(row, settings)]


def yearly_rating(row: Any, settings: Settings) -> str | None:
    """The cell's meeting-quality year under its rubric, or why it is not rated (one
    wording with the chat: handlers/year/classify.year_quality)."""
    return yearclassify.year_quality(row, settings)


def workbook(session: Session, root: Organisation, period: Period,
             settings: Settings) -> bytes:
    """One sheet per level: bloc summary, organisations, cells, meetings, members."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    s = reports.summary(session, root, period)
    rat = s["ratings"]
    _sheet(wb, _("Tổng hợp"), [_("Chỉ tiêu"), _("Giá trị")], [
        [_("Đơn vị"), root.name], [_("Kỳ báo cáo"), period.label],
        [_("Số chi bộ"), s["cells"]], [_("Chi bộ đã sinh hoạt"), s["met"]],
        [_("Chi bộ chưa sinh hoạt"), s["not_met"]], [_("Chưa chấm điểm"), s["unscored"]],
        [_("Buổi không đủ điều kiện"), s["not_held"]],
        [_("Lượt phải dự"), s["due"]], [_("Lượt có mặt"), s["attended"]],
        [_("Tỷ lệ dự họp"), _rate(s["attended"], s["due"])],
        [_("Vắng không lý do"), s["unexcused"]],
        *[[label(r), rat.get(r, 0)] for r in ("tot", "kha", "trung_binh", "kem")],
        *yearmarks.summary_notes(period, settings)])
    for name_cell, value_cell in wb[_("Tổng hợp")].iter_rows(min_row=2):
        if name_cell.value == _("Tỷ lệ dự họp"):
            value_cell.number_format = "0.0%"
    orgs = sort_within(reports.child_rows(session, root, period))
    _sheet(wb, _("Tổ chức cơ sở"),
           [_("Tổ chức"), _("Số chi bộ"), _("Đã sinh hoạt"), _("Chưa chấm điểm"),
            _("Lượt phải dự"), _("Lượt có mặt"), _("Tỷ lệ dự họp"), _("Vắng không lý do"),
            _("Điểm bình quân")],
           [[o["name"], o["cells"], o["met"], o["unscored"], o["due"], o["attended"],
             _rate(o["attended"], o["due"]), o["unexcused"],
             round(o["score"], 1) if o["score"] is not None else None] for o in orgs],
           percent_cols=(7,))
    cells = reports.cell_rows(session, root, period)
    _sheet(wb, _("Chi bộ"),
           [_("Chi bộ"), _("Số buổi"), _("Đã họp"), _("Không đủ điều kiện"),
            _("Chưa chấm điểm"), _("Lượt phải dự"), _("Lượt có mặt"), _("Tỷ lệ dự họp"),
            _("Vắng không lý do"), _("Điểm"), *_rating_headers(period)],
           [[cell_label(c["cell"], c["parent"]), c["meetings"], c["held"], c["not_held"],
             c["unscored"], c["due"],
             c["attended"], _rate(c["attended"], c["due"]), c["unexcused"],
             round(c["score"], 1) if c["score"] is not None else None,
             *_rating_values(c, period, settings)] for c in cells],
           percent_cols=(8,))
    yearmarks.mark_cells(wb[_("Chi bộ")], cells, settings, rate_col=8, unexcused_col=9)
    meeting_sheet(wb, reports.meeting_rows(session, root, period))
    member_sheet(wb, sort_within(reports.member_rows(session, root, period), group="cell"))
    if period.kind == "year":
        yearsheets.add_year_sheets(wb, session, root, int(period.first[:4]), settings, _sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def meeting_sheet(wb: Any, meetings: list[Any]) -> None:
    """The "Buổi sinh hoạt" sheet (``reports.meeting_rows``): the committee's workbook and
    a meeting's own download (the web view) write it alike."""
    _sheet(wb, _("Buổi sinh hoạt"),
           [_("Chi bộ"), _("Loại"), _("Tháng"), _("Thời gian"), _("Trạng thái"),
            _("Thời lượng (phút)"), _("Lượt phải dự"), _("Lượt có mặt"), _("Tỷ lệ dự họp"),
            _("Vắng không lý do"), _("Điểm chi bộ"), _("Xếp loại"), _("Điểm cấp trên")],
           [[cell_label(m["cell"], m["parent"]), label(m["kind"]), month_date(m["period"]),
             _naive(m["scheduled_at"]),
             label(m["status"]),
             round((m["ended_at"] - m["started_at"]).total_seconds() / 60)
             if m["started_at"] and m["ended_at"] else None,
             m["due"], m["attended"], _rate(m["attended"], m["due"]), m["unexcused"],
             m["cell_score"], label(m["cell_rating"]) if m["cell_rating"] else None,
             m["confirmed_score"]] for m in meetings],
           percent_cols=(9,), date_cols=(4,), month_cols=(3,))


def member_sheet(wb: Any, members: list[Any]) -> None:
    """The "Đảng viên" sheet (``reports.member_rows``), in the order given."""
    _sheet(wb, _("Đảng viên"),
           [_("Chi bộ"), _("Họ và tên"), _("Số buổi phải dự"), _("Có mặt"),
            _("Vắng có lý do"), _("Vắng không lý do"), _("Tỷ lệ dự họp")],
           [[cell_label(m["cell"], m["parent"]), m["name"], m["due"], m["attended"],
             m["excused"], m["unexcused"],
             _rate(m["attended"], m["due"])] for m in members],
           percent_cols=(7,))


Sheet = tuple[str, list[str], list[list[Any]], dict[str, Any]]  # title, headers, rows, style


def sheets_workbook(sheets: list[Sheet], before: Any = None) -> bytes:
    """A workbook of ``sheets`` written by ``_sheet`` (its header style, filters, widths and
    formula guard); ``before(wb)`` may add sheets first (meeting_sheet, member_sheet)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    if before is not None:
        before(wb)
    for title, headers, rows, style in sheets:
        _sheet(wb, title, headers, rows, **style)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def table_csv(headers: list[str], rows: list[list[Any]], decimal: str = "comma") -> bytes:
    """One table as CSV, as :func:`cells_csv` writes it: ``;`` and a decimal comma by
    default, every text cell through the formula guard, UTF-8 with a BOM. A float is
    written with 4 decimals (a rate) unless it is whole."""
    delimiter, mark = CSV_STYLES[decimal]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter)
    w.writerow(safe_row(headers))
    for row in rows:
        w.writerow(safe_row(
            "" if v is None else
            (str(int(v)) if v.is_integer() else f"{v:.4f}".replace(".", mark))
            if isinstance(v, float) else v for v in row))
    return buf.getvalue().encode("utf-8-sig")


def month_date(period: str) -> datetime:
    """"2026-09" -> 01/09/2026 (a real date; the cell shows "09/2026")."""
    return datetime(int(period[:4]), int(period[5:7]), 1)


def _naive(dt: datetime | None) -> datetime | None:
    """Excel has no timezones: write local Vietnamese time."""
    if dt is None:
        return None
    from zoneinfo import ZoneInfo

    return dt.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None)


def cells_csv(session: Session, root: Organisation, period: Period,
              settings: Settings, decimal: str = "comma") -> bytes:
    """Cells of the subtree. ``decimal="comma"`` (default): ``;`` between fields and a
    decimal comma, as a Vietnamese-locale Excel reads them; ``"dot"``: ``,`` and ``.``."""
    delimiter, mark = CSV_STYLES[decimal]
    rows = reports.cell_rows(session, root, period)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter)
    w.writerow(safe_row([_("Chi bộ"), _("Đã họp"), _("Chưa chấm điểm"), _("Lượt phải dự"),
                _("Lượt có mặt"), _("Tỷ lệ dự họp"), _("Vắng không lý do"), _("Điểm"),
                *_rating_headers(period)]))
    for c in rows:
        rate = _rate(c["attended"], c["due"])
        w.writerow(safe_row([cell_label(c["cell"], c["parent"]), c["held"], c["unscored"],
                             c["due"], c["attended"],
                    f"{rate:.4f}".replace(".", mark) if rate is not None else "",
                    c["unexcused"],
                    f"{c['score']:.1f}".replace(".", mark) if c["score"] is not None else "",
                    *("" if v is None else v for v in _rating_values(c, period, settings))]))
    return buf.getvalue().encode("utf-8-sig")  # Excel opens UTF-8 with a BOM correctly
