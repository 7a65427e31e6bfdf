"""An organisation's summary and per-child rows added up from its per-cell rows.

``models.reports.summary``, ``child_rows`` and ``cell_rows`` each add up the same
meetings (a bloc's year: 6,000, with their roll-call counts), and an organisation page
needed all three. Here the page runs ``cell_rows`` once (SQL GROUP BY) and adds up
its at most a few hundred rows per cell; the sums are the ones the SQL statements make
(tests/test_views_rollup.py compares them with the statements the workbook runs)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, select

from handlers.views.cache import cached
from models import reports
from models.org import Organisation
from models.reports import BANDS, Period

SUMS = ("attended", "due", "unexcused")


def summary_of(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """``reports.summary`` of the subtree whose cell rows are ``cells``."""
    out: dict[str, Any] = {
        "cells": len(cells), "met": sum(1 for c in cells if c["held"] > 0),
        "unscored": sum(1 for c in cells if c["unscored"] > 0),
        "not_held": sum(c["not_held"] for c in cells),
        **{k: sum(c[k] for c in cells) for k in SUMS}}
    out["not_met"] = out["cells"] - out["met"]
    counts = {b: sum(c[f"r_{b}"] for c in cells) for b in BANDS}
    out["ratings"] = {b: n for b, n in counts.items() if n}
    return out


def _mean(values: Iterable[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return math.fsum(found) / len(found) if found else None


def children_of(root: Organisation, children: list[tuple[int, str, str]],
                cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``reports.child_rows``: the cells grouped under each direct child of ``root`` (a
    cell's path is ``root.path`` + the child's id + …); children without a cell left out,
    as the statement's inner join leaves them."""
    under: dict[int, list[dict[str, Any]]] = {}
    for c in cells:
        head = c["path"][len(root.path):].split("/", 1)[0]
        under.setdefault(int(head), []).append(c)
    out = []
    for oid, name, kind in sorted(children, key=lambda c: c[1]):
        mine = under.get(oid)
        if not mine:
            continue
        out.append({"org_id": oid, "name": name, "kind": kind, "cells": len(mine),
                    "met": sum(1 for c in mine if c["held"] > 0),
                    "unscored": sum(1 for c in mine if c["unscored"] > 0),
                    **{k: sum(c[k] for c in mine) for k in SUMS},
                    "score": _mean(c["score"] for c in mine)})
    return out


def children(s: Session, root: Organisation) -> list[tuple[int, str, str]]:
    return [(i, n, k) for i, n, k in s.exec(
        select(Organisation.id, Organisation.name, Organisation.kind)
        .where(Organisation.parent_id == root.id)).all()]


def summary(s: Session, root: Organisation, period: Period) -> dict[str, Any]:
    return summary_of(cached(reports.cell_rows, s, root, period))


def child_rows(s: Session, root: Organisation, period: Period) -> list[dict[str, Any]]:
    return children_of(root, cached(children, s, root),
                       cached(reports.cell_rows, s, root, period))


def months_of(s: Session, root: Organisation, months: tuple[str, ...]
              ) -> dict[str, list[dict[str, Any]]]:
    """Per month of ``months``, every active cell of the subtree with the held, attended,
    due and score ``reports.cell_rows`` gives it that month, from one statement."""
    rows = cached(reports.cell_month_rows, s, root, months)
    empty = {"held": 0, "attended": 0, "due": 0, "score": None, "period": None}
    cells = {r["cell_id"]: r for r in rows}  # one row of each cell: its path
    per: dict[str, dict[int, dict[str, Any]]] = {m: {} for m in months}
    for r in rows:
        if r["period"] in per:
            per[r["period"]][r["cell_id"]] = r
    return {m: [per[m].get(cid) or {**c, **empty} for cid, c in cells.items()]
            for m in months}


def trend_of(root: Organisation, children: list[tuple[int, str, str]],
             cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per direct child: attended, due and mean score of its cells (``children_of``'s)."""
    under: dict[int, list[dict[str, Any]]] = {}
    for c in cells:
        under.setdefault(int(c["path"][len(root.path):].split("/", 1)[0]), []).append(c)
    return [{"org_id": oid, "name": name, "attended": sum(c["attended"] for c in mine),
             "due": sum(c["due"] for c in mine), "score": _mean(c["score"] for c in mine)}
            for oid, name, _kind in sorted(children, key=lambda c: c[1])
            if (mine := under.get(oid))]
