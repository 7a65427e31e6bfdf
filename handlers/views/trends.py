"""Trends for the web view: twelve months of attendance and mean score per organisation
under the one shown, and how many cells did not meet each month, as one SVG drawn on the
server from a template (no script, no CDN; matplotlib took ~1.5 s and 60–100 KB a chart,
this takes milliseconds and a few KB).

Each month's figures are the drill-down's own (``models.reports.cell_rows`` of each month,
read in one statement and added up by ``handlers.views.rollup``). A month without a held
meeting is a gap in a line, never 0; the bars under the lines count the cells that did not meet."""

from __future__ import annotations

import math
from typing import Any

from sqlmodel import Session

from handlers.views import rollup
from handlers.views.cache import by_name, cached
from models import reports
from models.org import Organisation
from models.reports import Period

MAX_LINES = 8  # more organisations than this: the eight largest, the rest in the tables
TARGET = 85


def series(s: Session, org: Organisation, period: Period) -> dict[str, Any]:
    """Month labels, per child organisation its rates (%) and mean scores (NaN: no
    meeting), and per month the cells that did not meet."""
    months = reports.months_back(period.months[-1], 12)
    names: dict[int, str] = {}
    rate: dict[int, list[float]] = {}
    score: dict[int, list[float]] = {}
    not_met: list[int] = []
    per_month = rollup.months_of(s, org, months)
    children = [] if org.is_cell else cached(rollup.children, s, org)
    for i, mo in enumerate(months):
        cells = per_month[mo]
        if org.is_cell:  # the cell itself: its row of the "Chi bộ" sheet
            rows = [{**r, "org_id": org.id, "name": org.name} for r in cells]
        else:
            rows = by_name(rollup.trend_of(org, children, cells))
        for r in rows:
            oid = r["org_id"]
            names.setdefault(oid, r["name"])
            rate.setdefault(oid, [math.nan] * 12)[i] = \
                100 * float(r["attended"]) / float(r["due"]) if r["due"] else math.nan
            sc = r.get("score")
            score.setdefault(oid, [math.nan] * 12)[i] = float(sc) if sc is not None \
                else math.nan
        not_met.append(sum(1 for c in cells if not c["held"]))
    return {"labels": [f"{m[5:]}/{m[2:4]}" for m in months], "names": names, "rate": rate,
            "score": score, "not_met": not_met}


PALETTE = ("#B22222", "#1565C0", "#2E7D32", "#F9A825", "#6A1B9A", "#00838F", "#EF6C00",
           "#5D4037")
W, LEFT, RIGHT, PANEL, GAP, BARS = 720, 44, 24, 150, 56, 70


def _paths(values: list[float], top: float, y0: float) -> list[str]:
    """SVG polyline point lists, one per run of months with data (a gap at each NaN)."""
    step = (W - LEFT - RIGHT) / 11
    runs: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if math.isnan(v):
            runs.append([])
            continue
        runs[-1].append(f"{LEFT + i * step:.1f},{y0 + PANEL * (1 - min(v, top) / top):.1f}")
    return [" ".join(r) for r in runs if r]


def chart(s: Session, org: Organisation, period: Period) -> dict[str, Any]:
    """Everything the SVG template draws, in pixels."""
    data = series(s, org, period)
    ids = sorted(data["names"], key=lambda i: -sum(1 for v in data["rate"][i]
                                                   if not math.isnan(v)))[:MAX_LINES]
    step = (W - LEFT - RIGHT) / 11
    y_rate, y_score = 36.0, 36.0 + PANEL + GAP
    y_bars = y_score + PANEL + GAP
    most = max(data["not_met"]) or 1
    lines = [{"name": data["names"][oid], "colour": PALETTE[k % len(PALETTE)],
              "rate": _paths(data["rate"][oid], 100, y_rate),
              "score": _paths(data["score"][oid], 100, y_score),
              "dots": [(LEFT + i * step, y_rate + PANEL * (1 - v / 100))
                       for i, v in enumerate(data["rate"][oid]) if not math.isnan(v)]}
             for k, oid in enumerate(ids)]
    bars = [(LEFT + i * step - 8, y_bars + BARS * (1 - n / most), BARS * n / most, n)
            for i, n in enumerate(data["not_met"])]
    legend_y = y_bars + BARS + 40
    return {"w": W, "h": legend_y + 18 * ((len(lines) + 1) // 2) + 8, "left": LEFT,
            "right": W - RIGHT, "panel": PANEL, "y_rate": y_rate, "y_score": y_score,
            "y_bars": y_bars, "bars_h": BARS, "step": step, "labels": data["labels"],
            "lines": lines, "bars": bars, "legend_y": legend_y,
            "target_y": y_rate + PANEL * (1 - TARGET / 100), "more": len(data["names"]) - len(ids)}
