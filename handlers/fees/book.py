"""The cell's fee book (sổ thu đảng phí) for a year: one row a member, one column a month,
totals per member, per month and per quarter (the sums passed up)."""

from __future__ import annotations

import io

from handlers.core.cellsafe import safe_cell
from handlers.forms.amounts import fmt_dong
from models.fees import FeePayment
from models.i18n import _
from models.member import Member
from models.org import Organisation

UNPAID_FILL = "FFC7CE"


def quarter_of(period: str) -> int:
    return (int(period[5:7]) - 1) // 3 + 1


def quarter_lines(cell: Organisation, year: int, rows: list[FeePayment]) -> list[str]:
    lines = [_("Đảng phí năm {y} — {cell} (tổng nộp lên theo quý):").format(y=year,
                                                                          cell=cell.name)]
    for q in range(1, 5):
        paid = [f for f in rows if f.paid and quarter_of(f.period) == q]
        unpaid = [f for f in rows if not f.paid and quarter_of(f.period) == q]
        lines.append(_("• Quý {q}: {total} ({n} lượt đóng, {u} lượt chưa đóng)").format(
            q=q, total=fmt_dong(sum(f.amount for f in paid)), n=len(paid), u=len(unpaid)))
    lines.append(_("Cả năm: {total}.").format(total=fmt_dong(sum(f.amount for f in rows
                                                                 if f.paid))))
    return lines


def fee_book_xlsx(cell: Organisation, year: int, members: list[Member],
                  rows: list[FeePayment]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    by = {(f.member_id, int(f.period[5:7])): f for f in rows}
    wb = Workbook()
    ws = wb.active
    ws.title = _("Sổ thu đảng phí")
    ws.append([safe_cell(_("Sổ thu đảng phí năm {y} — {cell}").format(y=year, cell=cell.name))])
    ws["A1"].font = Font(bold=True)
    ws.append([_("STT"), _("Họ và tên"), *[_("T{m}").format(m=m) for m in range(1, 13)],
               _("Cả năm"), _("Tháng chưa đóng")])
    for c in ws[2]:
        c.font = Font(bold=True)
    unpaid_fill = PatternFill("solid", fgColor=UNPAID_FILL)
    shown = [m for m in members if m.active or any(k[0] == m.id for k in by)]
    for i, m in enumerate(shown, 1):
        cells = [by.get((m.id or 0, mo)) for mo in range(1, 13)]
        ws.append([i, safe_cell(m.full_name), *[f.amount if f and f.paid else None
                                                   for f in cells],
                   sum(f.amount for f in cells if f and f.paid),
                   sum(1 for f in cells if f and not f.paid)])
        for mo, f in enumerate(cells, 1):
            if f is not None and not f.paid:
                ws.cell(row=ws.max_row, column=2 + mo).fill = unpaid_fill
    total_row = [None, _("Tổng")]
    for mo in range(1, 13):
        total_row.append(sum(f.amount for (mid, mm), f in by.items() if mm == mo and f.paid))
    total_row += [sum(f.amount for f in rows if f.paid),
                  sum(1 for f in rows if not f.paid)]
    ws.append(total_row)
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    for row in ws.iter_rows(min_row=3, min_col=3, max_col=15):
        for c in row:
            c.number_format = "#,##0"
    ws.freeze_panes = "C3"
    ws.column_dimensions["B"].width = 28
    qs = wb.create_sheet(_("Theo quý"))
    qs.append([_("Quý"), _("Số tiền nộp lên"), _("Lượt đóng"), _("Lượt chưa đóng")])
    for q in range(1, 5):
        paid = [f for f in rows if f.paid and quarter_of(f.period) == q]
        qs.append([q, sum(f.amount for f in paid), len(paid),
                   sum(1 for f in rows if not f.paid and quarter_of(f.period) == q)])
    for (c,) in qs.iter_rows(min_row=2, min_col=2, max_col=2):
        c.number_format = "#,##0"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
