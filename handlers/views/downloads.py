"""The web view's own downloads: a meeting, a member and the year's lists as .xlsx (every
table of the page, one sheet each) and .csv (one table), with the rows the page shows
(the lists in full, the page lists the first ones). Written by the committee workbook's
writers (``handlers.committee.exports``): its sheets, header style and formula guard
(``handlers.core.cellsafe``), its CSV dialect."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.committee.exports import (
    Sheet,
    meeting_sheet,
    member_sheet,
    sheets_workbook,
    table_csv,
)
from handlers.core.labels import cell_label, label
from handlers.views.lists import Lists
from handlers.views.pages import MeetingView, MemberView
from handlers.year.flags import _level_text as level_text
from handlers.year.sheets import _stage as stage_text
from models.i18n import _, fmt_datetime

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
LIST_TABLES = ("dieu8", "runs", "plan", "fees", "classification")  # ?t= of a lists CSV


def _local(dt: datetime | None, tz: str) -> datetime | None:
    """Excel has no timezones: the meeting's local time, as the page shows it."""
    return dt.astimezone(ZoneInfo(tz)).replace(tzinfo=None) if dt is not None else None


def _source(auto: bool) -> str:
    return _("bot tính từ dữ liệu đã ghi") if auto else _("chi bộ nhập")


def meeting_file(mv: MeetingView, fmt: str) -> bytes:
    """.csv: the roll call; .xlsx: the workbook's meeting row, the roll call and each
    score by criterion."""
    headers = [_("Họ và tên"), _("Trạng thái"), _("Lý do")]
    rows: list[list[Any]] = [[name, label(st) if st else None, why]
                             for _mid, name, st, why in mv.attendance]
    if fmt == "csv":
        return table_csv(headers, rows)
    sheets: list[Sheet] = [(_("Điểm danh"), headers, rows, {})]
    for sc in mv.scores:
        items: list[list[Any]] = [[it.title, it.points, it.max or None, _source(it.auto)]
                                  for it in sc.items]
        items += [[_("Tổng điểm"), sc.total, None, label(sc.rating)]]
        if sc.reason:
            items += [[_("Ghi chú: {reason}").format(reason=sc.reason), None, None, None]]
        sheets.append((_("Điểm chi bộ") if sc.kind == "cell" else _("Điểm cấp trên"),
                       [_("Tiêu chí"), _("Điểm"), _("Tối đa"), _("Nguồn")], items, {}))
    row = [mv.row] if mv.row is not None else []
    return sheets_workbook(sheets, before=lambda wb: meeting_sheet(wb, row))


def member_file(mv: MemberView, year: int, fmt: str) -> bytes:
    """.csv: the member's meetings of the period; .xlsx: the workbook's member row, the
    meetings, the fees of the year, the tasks and the Điều 8 counts."""
    headers = [_("Thời gian"), _("Loại"), _("Trạng thái"), _("Lý do")]
    when = (lambda m: fmt_datetime(m.scheduled_at, m.timezone)) if fmt == "csv" else \
        (lambda m: _local(m.scheduled_at, m.timezone))
    rows: list[list[Any]] = [[when(m), label(m.kind), label(st) if st else None, why]
                             for m, st, why in mv.meetings]
    if fmt == "csv":
        return table_csv(headers, rows)
    sheets: list[Sheet] = [
        (_("Điểm danh"), headers, rows, {"date_cols": (1,)}),
        (_("Đảng phí năm {y}").format(y=year), [_("Tháng"), _("Trạng thái"),
                                                 _("Số tiền (đồng)")],
         [[per, _("đã đóng") if paid else _("chưa đóng"), amount]
          for per, paid, amount in mv.fees], {}),
        (_("Nhiệm vụ được giao"), [_("Nhiệm vụ"), _("Hạn"), _("Trạng thái")],
         [[t.description, t.due_date.strftime("%d/%m/%Y") if t.due_date else None,
           label(t.status)] for t in mv.tasks], {}),
        (_("Điều 8 (từ đầu năm)"), [_("Chỉ tiêu"), _("Giá trị")],
         [[_("Vắng không lý do"), mv.flags.unexcused],
          [_("Tháng chưa đóng đảng phí"), mv.flags.unpaid],
          [_("Mức"), mv.flag_level]], {})]
    totals = [{**mv.totals, "name": mv.member.full_name}] if mv.totals else []
    return sheets_workbook(sheets, before=lambda wb: member_sheet(wb, totals))


def _list_sheets(ls: Lists) -> dict[str, Sheet]:
    return {
        "dieu8": (_("Điều 8"), [_("Họ và tên"), _("Chi bộ"), _("Vắng không lý do"),
                                _("Tháng chưa đóng đảng phí"), _("Mức")],
                  [[r["name"], cell_label(r["cell"], r["parent"]), r["unexcused"], r["unpaid"],
                    level_text(r["level"])] for r in ls.dieu8], {}),
        "runs": (_("Vắng liên tiếp (HD 42)"), [_("Họ và tên"), _("Chi bộ"),
                                              _("Số buổi vắng liên tiếp")],
                 [[r["name"], cell_label(r["cell"], r["parent"]), r["run"]] for r in ls.runs],
                 {}),
        "plan": (_("Kế hoạch chuyên đề"), [_("Chi bộ"), _("Chuyên đề đăng ký"),
                                           _("Đã thực hiện"), _("Diễn đàn")],
                 [[cell_label(r["cell"], r["parent"]), r["registered"], r["done"] or 0,
                   r["forums"]] for r in ls.plan], {}),
        "fees": (_("Đảng phí theo quý"), [_("Chi bộ"), _("Quý 1"), _("Quý 2"), _("Quý 3"),
                                          _("Quý 4"), _("Cả năm"),
                                          _("Tháng chưa đóng đảng phí")],
                 [[cell_label(r["cell"], r["parent"]), r["q1"], r["q2"], r["q3"], r["q4"],
                   r["total"], r["unpaid_months"]] for r in ls.fees], {}),
        "classification": (_("Xếp loại năm {y}").format(y=ls.year),
                           [_("Chi bộ"), _("Chất lượng sinh hoạt"), _("Xếp loại"),
                            _("Giai đoạn")],
                           [[cell_label(x["cell"], x["parent"]),
                             label(x["band"]) if x["band"] else _("Không xếp loại"),
                             label(x["level"]) if x["level"] else None,
                             stage_text(x["stage"])] for x in ls.cells], {}),
    }


def lists_file(ls: Lists, fmt: str, table: str) -> bytes:
    """.csv: one list (``table``, one of LIST_TABLES); .xlsx: every list, the cells
    without a thematic meeting or an upper-level attendee this quarter, the targets."""
    sheets = _list_sheets(ls)
    if fmt == "csv":
        _title, headers, rows, _style = sheets[table]
        return table_csv(headers, rows)
    out = [sheets[k] for k in LIST_TABLES]
    out.insert(2, (_("Chưa sinh hoạt chuyên đề"), [_("Chi bộ")],
                   [[cell_label(c["cell"], c["parent"])] for c in ls.no_thematic], {}))
    out.insert(3, (_("Chưa có cấp ủy cấp trên dự"), [_("Chi bộ")],
                   [[name] for _cid, name in ls.no_upper], {}))
    out.append((_("Chỉ tiêu năm"), [_("Chỉ tiêu"), _("Mục tiêu"), _("Hiện tại")],
                [[name, goal, got] for name, goal, got in ls.targets] +
                [[_("Hoàn thành xuất sắc không quá {cap} số hoàn thành tốt trở lên").format(
                    cap=f"{ls.cap:.0%}"), ls.cap, _("đạt") if ls.cap_ok else _("vượt")]] +
                [[_("Đảng viên: {level}").format(level=label(lv)), None, ls.members.get(lv, 0)]
                 for lv in ("htxsnv", "httnv", "htnv", "khtnv")],
                {"percent_cols": (2,)}))
    return sheets_workbook(out)
