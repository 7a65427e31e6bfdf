"""The bloc's year in the workbook: member and organisation classification with the
targets and the distance to them, fee totals, and a chart of the levels."""

from __future__ import annotations

import io
from typing import Any

from sqlmodel import Session

from handlers.core.labels import cell_label, label
from handlers.year import classify
from models.classification import LEVELS, rank
from models.i18n import _
from models.org import Organisation
from models.review import org_review, year_record
from models.settings import Settings
from models.yearreport import fee_totals


def _stage(stage: str) -> str:
    return {"confirmed": _("đã duyệt"), "proposed": _("chi bộ đề xuất"),
            "prefilled": _("tự động từ ghi nhận")}[stage]


def _rate(a: int, d: int) -> float | None:
    return round(a / d, 4) if d else None


def classification(s: Session, root: Organisation, year: int,
                   settings: Settings) -> dict[str, Any]:
    """Everything the year sheets and the demo summary show, computed once."""
    rules = classify.rules_for(settings)
    members = []
    for r in year_record(s, root, year):
        level, stage = classify.member_level(r, rules, settings)
        members.append({**r, "level": level, "stage": stage})
    cells = []
    for row in classify.year_cells(s, root, year):
        rv = org_review(s, org_id=row["cell_id"], year=year)
        if rv.confirmed_level:
            level, stage = rv.confirmed_level, "confirmed"
        elif rv.proposed_level:
            level, stage = rv.proposed_level, "proposed"
        else:
            level, stage = classify.cell_proposal(row, rules, settings), "prefilled"
        cells.append({**dict(row), "band": classify.cell_year_band(row, settings),
                      "level": level, "stage": stage})

    def share(items: list[dict[str, Any]], best: str) -> float | None:
        return _rate(sum(1 for i in items if rank(i["level"]) <= rank(best)), len(items))

    t = rules.targets
    targets = [
        (_("Tổ chức đảng hoàn thành tốt nhiệm vụ trở lên"), t.org_good_or_better,
         share(cells, "httnv")),
        (_("Tổ chức đảng hoàn thành xuất sắc nhiệm vụ"), t.org_excellent,
         share(cells, "htxsnv")),
        (_("Đảng viên hoàn thành tốt nhiệm vụ trở lên"), t.member_good_or_better,
         share(members, "httnv")),
    ]
    return {"members": members, "cells": cells, "targets": targets, "rules": rules}


def add_year_sheets(wb: Any, s: Session, root: Organisation, year: int, settings: Settings,
                    sheet: Any) -> None:
    """``sheet`` is exports._sheet (one style for every sheet of the workbook)."""
    c = classification(s, root, year, settings)
    sheet(wb, _("Chỉ tiêu năm"), [_("Chỉ tiêu"), _("Mục tiêu"), _("Đạt"), _("Khoảng cách")],
          [[name, goal, got, round(got - goal, 4) if got is not None else None]
           for name, goal, got in c["targets"]], percent_cols=(2, 3, 4))
    sheet(wb, _("Xếp loại tổ chức"),
          [_("Chi bộ"), _("Buổi thường kỳ đã họp"), _("Tỷ lệ dự họp"),
           _("Chất lượng sinh hoạt cả năm"), _("Xếp loại"), _("Giai đoạn")],
          [[cell_label(x["cell"], x["parent"]), x["held"], _rate(x["attended"], x["due"]),
            label(x["band"]) if x["band"] else _("Chưa đủ buổi ({held}/{need})").format(
                held=x["held"], need=settings.year.min_held_meetings),
            label(x["level"]), _stage(x["stage"])] for x in c["cells"]], percent_cols=(3,))
    sheet(wb, _("Xếp loại đảng viên"),
          [_("Chi bộ"), _("Họ và tên"), _("Số buổi phải dự"), _("Có mặt"), _("Tỷ lệ dự họp"),
           _("Vắng không lý do"), _("Tháng chưa đóng đảng phí"), _("Nhiệm vụ được giao"),
           _("Nhiệm vụ hoàn thành"), _("Tự xếp loại"), _("Xếp loại"), _("Giai đoạn")],
          [[cell_label(m["cell"], m["parent"]), m["name"], m["due"], m["attended"],
            _rate(m["attended"], m["due"]), m["unexcused"], m["unpaid"], m["tasks"],
            m["tasks_done"], label(m["self_level"]) if m["self_level"] else None,
            label(m["level"]), _stage(m["stage"])] for m in c["members"]], percent_cols=(5,))
    from handlers.year.plan import category_title, plan_categories
    from models.plan import category_mix, link_topics, plan_rows

    for cell in c["cells"]:
        link_topics(s, cell_id=cell["cell_id"], year=year)
    cats = plan_categories(settings.locales_dir)
    mix = category_mix(s, root, year)
    total = sum(mix.values())
    sheet(wb, _("Kế hoạch chuyên đề"),
          [_("Chi bộ"), _("Chủ đề đăng ký"), _("Đã thực hiện"), _("Diễn đàn")],
          [[cell_label(p["cell"], p["parent"]), p["registered"], p["done"] or 0, p["forums"]]
           for p in plan_rows(s, root, year)] +
          [[_("Loại chủ đề: {cat}").format(cat=category_title(k)), mix.get(k.id, 0),
            round(mix.get(k.id, 0) / total, 4) if total else None, None] for k in cats])
    fees = fee_totals(s, root, year)
    sheet(wb, _("Đảng phí"),
          [_("Chi bộ"), _("Quý 1"), _("Quý 2"), _("Quý 3"), _("Quý 4"), _("Cả năm"),
           _("Lượt đã đóng"), _("Lượt chưa đóng")],
          [[cell_label(f["cell"], f["parent"]), f["q1"], f["q2"], f["q3"], f["q4"], f["total"],
            f["paid_months"], f["unpaid_months"]] for f in fees])


def level_counts(items: list[dict[str, Any]]) -> dict[str, int]:
    return {lv: sum(1 for i in items if i["level"] == lv) for lv in LEVELS}


def levels_chart_png(s: Session, root: Organisation, year: int, settings: Settings) -> bytes:
    """Two bars: organisations and members per level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = classification(s, root, year, settings)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
    colours = ["#2E7D32", "#1565C0", "#F9A825", "#C62828"]
    short = ["HTXSNV", "HTTNV", "HTNV", "KHTNV"]
    for ax, items, title in ((axes[0], c["cells"], _("Tổ chức đảng")),
                             (axes[1], c["members"], _("Đảng viên"))):
        counts = level_counts(items)
        ax.bar(short, [counts[lv] for lv in LEVELS], color=colours)
        ax.set_title(title)
    fig.suptitle(_("Xếp loại năm {y} — {org}").format(y=year, org=root.name))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def summary_lines(s: Session, root: Organisation, year: int, settings: Settings) -> list[str]:
    """The year's classification summary in a few lines (the end of chibot demo --year)."""
    c = classification(s, root, year, settings)
    lines = [_("Tổng kết năm {y} — {org}").format(y=year, org=root.name)]
    for x in c["cells"]:
        lines.append(_("• {cell}: chất lượng sinh hoạt {band}; xếp loại {lv} ({stage})").format(
            cell=cell_label(x["cell"], x["parent"]),
            band=label(x["band"]) if x["band"] else _("chưa đủ buổi"), lv=label(x["level"]),
            stage=_stage(x["stage"])))
    counts = level_counts(c["members"])
    lines.append(_("Đảng viên: {a} xuất sắc, {b} tốt, {c} hoàn thành, {d} không hoàn thành.")
                 .format(a=counts["htxsnv"], b=counts["httnv"], c=counts["htnv"],
                         d=counts["khtnv"]))
    for name, goal, got in c["targets"]:
        lines.append(_("• {name}: {got} (chỉ tiêu {goal})").format(
            name=name, got=f"{got:.0%}" if got is not None else "—", goal=f"{goal:.0%}"))
    return lines
