"""The bloc's year in the workbook: member and organisation classification with the
targets and the distance to them, fee totals, and a chart of the levels."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlmodel import Session

from handlers.core.labels import cell_label, label
from handlers.year import classify
from models.classification import LEVELS, rank
from models.i18n import N_, _, fmt_percent
from models.org import Organisation
from models.review import org_reviews, year_record
from models.settings import Settings
from models.yearreport import fee_totals

_STAGES = {"confirmed": N_("đã duyệt"), "proposed": N_("chi bộ đề xuất"),
           "prefilled": N_("tự động từ ghi nhận"), "not_rated": N_("không xếp loại")}


def _stage(stage: str) -> str:
    return _(_STAGES[stage])  # one lookup: a page of 100 cells called it 100 times


def _rate(a: int, d: int) -> float | None:
    return round(a / d, 4) if d else None


def classification(s: Session, root: Organisation, year: int, settings: Settings,
                   as_of: date | None = None,
                   member_levels: Callable[[], dict[str | None, int]] | None = None
                   ) -> dict[str, Any]:
    """Everything the year sheets, the chart and the demo summary show, computed once.
    A cell or member whose year is not rated (classify.not_rated) has level None and its
    reason in "not_rated", and is left out of the target percentages ("unrated" counts
    them apart). "member_levels": members per level (None: not rated). Given
    ``member_levels``, the members per level are what it returns, called once the cells
    are done (the web view's lists count them in SQL), and "members"
    is empty."""
    rules = classify.rules_for(settings)
    members = []
    levels: dict[str | None, int] = {}
    if member_levels is None:
        for r in year_record(s, root, year, as_of):
            level, stage = classify.member_level(r, rules, settings)
            members.append({**r, "level": level, "stage": stage,
                            "not_rated": classify.not_rated("member", r, settings)})
        for m in members:
            levels[m["level"]] = levels.get(m["level"], 0) + 1
    cells = []
    rows = classify.year_cells(s, root, year)
    reviews = org_reviews(s, root, year)
    for row in rows:
        rv = reviews.get(row["cell_id"])
        reason, band, quality, proposal = classify.cell_year(row, rules, settings)
        level: str | None
        if reason is not None:
            level, stage = None, "not_rated"
        elif rv is not None and rv.confirmed_level:
            level, stage = rv.confirmed_level, "confirmed"
        elif rv is not None and rv.proposed_level:
            level, stage = rv.proposed_level, "proposed"
        else:
            level, stage = proposal, "prefilled"
        cells.append({**row, "band": band, "quality": quality, "level": level,
                      "stage": stage, "not_rated": reason})

    if member_levels is not None:
        levels = member_levels()  # counted in SQL, once the cells are done

    def share(items: list[dict[str, Any]], best: str) -> float | None:
        rated = [i for i in items if i["level"]]
        return _rate(sum(1 for i in rated if rank(i["level"]) <= rank(best)), len(rated))

    def member_share(best: str) -> float | None:
        return _rate(sum(n for lv, n in levels.items() if lv and rank(lv) <= rank(best)),
                     sum(n for lv, n in levels.items() if lv))

    t = rules.targets
    targets = [
        (_("Tổ chức đảng hoàn thành tốt nhiệm vụ trở lên"), t.org_good_or_better,
         share(cells, "httnv")),
        (_("Tổ chức đảng hoàn thành xuất sắc nhiệm vụ"), t.org_excellent,
         share(cells, "htxsnv")),
        (_("Đảng viên hoàn thành tốt nhiệm vụ trở lên"), t.member_good_or_better,
         member_share("httnv")),
    ]
    unrated = {"cells": sum(1 for c in cells if c["level"] is None),
               "members": levels.get(None, 0)}
    return {"members": members, "member_levels": levels, "cells": cells, "targets": targets,
            "rules": rules, "unrated": unrated}


def _level_cell(x: dict[str, Any]) -> str:
    return label(x["level"]) if x["level"] else classify.not_rated_text(x["not_rated"])


def add_year_sheets(wb: Any, s: Session, root: Organisation, year: int, settings: Settings,
                    sheet: Any) -> None:
    """``sheet`` is exports._sheet (one style for every sheet of the workbook)."""
    c = classification(s, root, year, settings)
    sheet(wb, _("Chỉ tiêu năm"), [_("Chỉ tiêu"), _("Mục tiêu"), _("Đạt"), _("Khoảng cách")],
          [[name, goal, got, round(got - goal, 4) if got is not None else None]
           for name, goal, got in c["targets"]] +
          [[_("Chi bộ không xếp loại (không tính vào tỷ lệ)"), None,
            str(c["unrated"]["cells"]), None],
           [_("Đảng viên không xếp loại (không tính vào tỷ lệ)"), None,
            str(c["unrated"]["members"]), None]], percent_cols=(2, 3, 4))
    sheet(wb, _("Xếp loại tổ chức"),
          [_("Chi bộ"), _("Buổi thường kỳ đã họp"), _("Tỷ lệ dự họp"),
           _("Chất lượng sinh hoạt cả năm"), _("Xếp loại"), _("Giai đoạn")],
          [[cell_label(x["cell"], x["parent"]), x["held"], _rate(x["attended"], x["due"]),
            x["quality"], _level_cell(x), _stage(x["stage"])] for x in c["cells"]],
          percent_cols=(3,))
    sheet(wb, _("Xếp loại đảng viên"),
          [_("Chi bộ"), _("Họ và tên"), _("Số buổi phải dự"), _("Có mặt"), _("Tỷ lệ dự họp"),
           _("Vắng không lý do"), _("Tháng chưa đóng đảng phí"), _("Nhiệm vụ được giao"),
           _("Nhiệm vụ hoàn thành"), _("Tự xếp loại"), _("Xếp loại"), _("Giai đoạn")],
          [[cell_label(m["cell"], m["parent"]), m["name"], m["due"], m["attended"],
            _rate(m["attended"], m["due"]), m["unexcused"], m["unpaid"], m["tasks"],
            m["tasks_done"], label(m["self_level"]) if m["self_level"] else None,
            _level_cell(m), _stage(m["stage"])] for m in c["members"]], percent_cols=(5,))
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
    import matplotlib.pyplot as plt

    fig = levels_chart_figure(s, root, year, settings)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def levels_chart_figure(s: Session, root: Organisation, year: int, settings: Settings) -> Any:
    """Two bars: organisations and members per level by its Vietnamese name, and those
    not rated; whole-number ticks and the count on each bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    c = classification(s, root, year, settings)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), dpi=100)
    colours = ["#2E7D32", "#1565C0", "#F9A825", "#C62828", "#9E9E9E"]
    names = [label(lv).replace(" nhiệm vụ", "\nnhiệm vụ") for lv in LEVELS] + \
        [_("Không xếp loại")]
    for ax, items, title, unrated in (
            (axes[0], c["cells"], _("Tổ chức đảng"), c["unrated"]["cells"]),
            (axes[1], c["members"], _("Đảng viên"), c["unrated"]["members"])):
        counts = level_counts(items)
        bars = ax.bar(names, [counts[lv] for lv in LEVELS] + [unrated], color=colours)
        ax.bar_label(bars)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="x", labelsize=8)
        ax.set_title(title)
    fig.suptitle(_("Xếp loại năm {y} — {org}").format(y=year, org=root.name))
    fig.tight_layout()
    return fig


def summary_lines(s: Session, root: Organisation, year: int, settings: Settings) -> list[str]:
    """The year's classification summary in a few lines (the end of chibot demo --year):
    how many cells and members are not rated, and the target percentages without them."""
    c = classification(s, root, year, settings)
    lines = [_("Tổng kết năm {y} — {org}").format(y=year, org=root.name)]
    for x in c["cells"]:
        cell = cell_label(x["cell"], x["parent"])
        if x["level"] is None:
            lines.append(_("• {cell}: {lv}").format(cell=cell, lv=_level_cell(x)))
            continue
        lines.append(_("• {cell}: chất lượng sinh hoạt {band}; xếp loại {lv} ({stage})").format(
            cell=cell, band=x["quality"], lv=label(x["level"]), stage=_stage(x["stage"])))
    counts = level_counts(c["members"])
    lines.append(_("Đảng viên: {a} xuất sắc, {b} tốt, {c} hoàn thành, {d} không hoàn thành.")
                 .format(a=counts["htxsnv"], b=counts["httnv"], c=counts["htnv"],
                         d=counts["khtnv"]))
    lines.append(_("Không xếp loại: {c} chi bộ, {m} đảng viên (không tính vào các tỷ lệ dưới "
                   "đây).").format(c=c["unrated"]["cells"], m=c["unrated"]["members"]))
    for name, goal, got in c["targets"]:
        lines.append(_("• {name}: {got} (chỉ tiêu {goal})").format(
            name=name, got=fmt_percent(got) if got is not None else "—",
            goal=fmt_percent(goal)))
    return lines
