"""Targets marked where the committee looks: attendance under the target (HD 12: above
85%) and any unexcused absence, per cell, in /status, /missing and the workbook."""

from __future__ import annotations

from typing import Any

from models.i18n import _, fmt_percent
from models.reports import Period
from models.settings import Settings

BELOW = "FFC7CE"  # Excel's "bad" fill
NOT_MET = "D9D9D9"  # grey: the cell held no meeting in the period


def below_target(attended: int, due: int, settings: Settings) -> bool:
    return bool(due) and attended / due < settings.year.attendance_target


def marks(row: Any, settings: Settings) -> str:
    """" ⚠️ dự họp dưới 85%; ❗ 2 vắng không lý do" for a cell row, or ""."""
    out = []
    if below_target(row["attended"], row["due"], settings):
        out.append(_("⚠️ dự họp dưới {t}").format(
            t=fmt_percent(settings.year.attendance_target)))
    if row["unexcused"]:
        out.append(_("❗ {n} vắng không lý do").format(n=row["unexcused"]))
    return (" — " + "; ".join(out)) if out else ""


def summary_notes(period: Period, settings: Settings) -> list[list[Any]]:
    notes = [[_("Ô màu đỏ"), _("Tỷ lệ dự họp dưới {t} hoặc có vắng không lý do").format(
        t=fmt_percent(settings.year.attendance_target))],
             [_("Dòng tô xám"), _("Chi bộ không họp trong kỳ")]]
    if period.kind == "year":
        from handlers.year.classify import min_held

        notes.append([_("Xếp loại cả năm"), _(
            "Chỉ xếp loại khi chi bộ đã họp ít nhất {n}/12 buổi thường kỳ").format(
            n=min_held(settings))])
    return notes


def mark_cells(ws: Any, rows: list[Any], settings: Settings, *, rate_col: int,
               unexcused_col: int) -> None:
    """Fill the rate cell red under the target, the unexcused cell red when not zero, and
    the row of a cell that did not meet grey."""
    from openpyxl.styles import PatternFill

    fill = PatternFill("solid", fgColor=BELOW)
    grey = PatternFill("solid", fgColor=NOT_MET)
    for i, r in enumerate(rows, start=2):
        if not r["held"]:  # the cell did not meet: the whole row is marked
            for cell in ws[i]:
                cell.fill = grey
            continue
        if below_target(r["attended"], r["due"], settings):
            ws.cell(row=i, column=rate_col).fill = fill
        if r["unexcused"]:
            ws.cell(row=i, column=unexcused_col).fill = fill
