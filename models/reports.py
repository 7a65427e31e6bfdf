"""Aggregate queries for the committee: SQL GROUP BY over indexed columns, no row loops.

A period is one month, a quarter or a year, always as its list of "YYYY-MM" months.
The month's *regular* meeting (seq 0) is what "met / scored" refers to; attendance
aggregates count every held meeting of the period.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models.attendance import Attendance
from models.meeting import Meeting
from models.member import Member
from models.org import CELL_KINDS, Organisation
from models.score import Score

ATTENDED = ("present", "late")
DUE = ("present", "late", "excused", "unexcused")
BANDS = ("tot", "kha", "trung_binh", "kem")


@dataclass(frozen=True)
class Period:
    kind: str  # month | quarter | year
    months: tuple[str, ...]
    label: str

    @property
    def first(self) -> str:
        return self.months[0]


def month(y: int, m: int) -> Period:
    return Period("month", (f"{y:04d}-{m:02d}",), f"{m:02d}/{y:04d}")


def quarter(y: int, q: int) -> Period:
    return Period("quarter", tuple(f"{y:04d}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)),
                  f"Q{q}/{y:04d}")


def year(y: int) -> Period:
    return Period("year", tuple(f"{y:04d}-{m:02d}" for m in range(1, 13)), f"{y:04d}")


def parse_period(text: str, today: date) -> Period | None:
    """"11/2026", "2026-11", "tháng 11", "Q4/2026", "quý 4", "2026", "" (this month)."""
    from models.text import fold

    t = fold(text).replace("thang", "").replace("quy", "q").strip()
    if not t:
        return month(today.year, today.month)
    if m := re.fullmatch(r"(\d{1,2})\s*[/-]\s*(\d{4})", t):
        mo, y = int(m.group(1)), int(m.group(2))
    elif m := re.fullmatch(r"(\d{4})\s*-\s*(\d{1,2})", t):
        y, mo = int(m.group(1)), int(m.group(2))
    elif m := re.fullmatch(r"(\d{1,2})", t):
        y, mo = today.year, int(m.group(1))
    elif m := re.fullmatch(r"q\s*([1-4])(?:\s*[/-]\s*(\d{4}))?", t):
        return quarter(int(m.group(2) or today.year), int(m.group(1)))
    elif m := re.fullmatch(r"(?:nam\s*)?(\d{4})", t):
        return year(int(m.group(1)))
    else:
        return None
    return month(y, mo) if 1 <= mo <= 12 and 2000 <= y <= 2100 else None


def plain(value: Any) -> Any:
    """A figure as Python code expects it, whichever database computed it: PostgreSQL
    returns SUM over a BIGINT and every AVG as NUMERIC (Decimal), SQLite returns int and
    float. Decimal * float raises, so no Decimal leaves a query: a whole NUMERIC (a sum of
    counts) becomes int, a fractional one (an average) float."""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent  # a letter for NaN/Infinity, never from a sum
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    return value


def plain_rows(result: Any) -> list[dict[str, Any]]:
    """Every row of an aggregate query's result as a dict of plain Python values: for
    queries that sum sums or average (per cell, per child, totals); a plain count of rows
    is a BIGINT, an int already."""
    keys = list(result.keys())  # over plain tuples: a bloc's year lists build 1,500 rows,
    # and going through each row's mapping cost more than the query behind some of them
    return [dict(zip(keys, [v if v.__class__ is not Decimal else plain(v) for v in row],
                     strict=True)) for row in result]


# Statements are built once, with bind parameters, and reused: building one of these costs
# more than running it, and a reused statement also keeps its compiled-cache key.
PREFIX = bindparam("prefix")
MONTHS = bindparam("months", expanding=True)


def _c(value: str | int) -> Any:
    """A constant written into the SQL text (the statements are built once, from this
    module's own values): SQLite tests ``status IN ('present', 'late')`` faster than the
    same test against bound parameters (the month's member sheet 36 -> 31 ms)."""
    return literal_column(str(value) if isinstance(value, int) else f"'{value}'")


def _in(column: Any, values: tuple[str, ...]) -> Any:
    return column.in_([_c(v) for v in values])


ONE, ZERO = _c(1), _c(0)


def _count(condition: Any) -> Any:
    """How many rows of the group meet ``condition``."""
    return func.sum(case((condition, ONE), else_=ZERO))


def _params(root: Organisation, months: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    return {"prefix": root.path + "%", "months": list(months), **extra}


def _in_subtree() -> Any:
    return Organisation.path.like(PREFIX)


def in_year(period: Any) -> Any:
    """``period`` ("YYYY-MM") within the year whose bounds :func:`year_bounds` gives: a
    range, which an index on (cell, period) searches; ``LIKE 'YYYY-%'`` with a bound
    pattern read every period of the cell (a bloc's thematic plan read its ten years of
    meetings, 60,000 rows, 15 ms of the cold year lists)."""
    return period.between(bindparam("year_first"), bindparam("year_last"))


def year_bounds(y: int) -> dict[str, str]:
    return {"year_first": f"{y:04d}-01", "year_last": f"{y:04d}-12"}


def counted(m: Any, column: str) -> Any:
    """A meeting's roll-call count (``attended_count``, ``due_count``,
    ``unexcused_count``: kept on its row by the triggers of migration 0016) where the
    figures count its roll call: a held or not-held meeting; 0 for any other.

    Read from the meeting row, not added up from ``attendance``: a bloc's year was 93,000
    roll-call rows per statement (60-80 ms), twice on a year page (this year and last)."""
    return case((_in(m.status, ("held", "not_held")), getattr(m, column)), else_=ZERO)


def current_score(kind: str) -> tuple[Any, Callable[[Any], Any]]:
    """An alias of ``score`` and its join condition on (meeting, kind, current). A direct
    join uses the (meeting_id, kind, is_current) index; a derived table scanned all."""
    sc = aliased(Score, name=f"sc_{kind}")
    return sc, lambda meeting_id: and_(sc.meeting_id == meeting_id, sc.kind == kind,
                                       sc.is_current == True)  # noqa: E712


@cache
def _cells_subquery(detail: bool = True, by_month: bool = False) -> Any:
    """Per cell of the subtree: its regular meetings of the months, attendance, scores.
    Without ``detail`` only the counts the summary adds up (no names, parent, averages);
    ``by_month`` (with ``detail`` False): per cell and month, only what the trend draws (a
    cell without a meeting in the months: one row, period NULL)."""
    m = aliased(Meeting)
    # The current scores as the triggers of migration 0018 keep them on the meeting row:
    # joined to the score table, a bloc's year read all its ten years' scores twice.
    rating = func.coalesce(m.confirmed_rating, m.cell_rating)
    total = func.coalesce(m.confirmed_total, m.cell_total)
    parent = aliased(Organisation, name="parent")
    names = (Organisation.name.label("cell"), parent.name.label("parent"),
             Organisation.path.label("path"), Organisation.rubric_id.label("rubric_id"))
    q = (
        select(Organisation.id.label("cell_id"),
               _count(m.status == _c("held")).label("held"),
               _count(m.status == _c("not_held")).label("not_held"),
               _count(and_(m.status == _c("held"), m.cell_rating.is_(None))).label("unscored"),
               func.coalesce(func.sum(counted(m, "attended_count")), 0).label("attended"),
               func.coalesce(func.sum(counted(m, "due_count")), 0).label("due"),
               func.coalesce(func.sum(counted(m, "unexcused_count")), 0).label("unexcused"),
               *(_count(rating == _c(band)).label(f"r_{band}") for band in BANDS))
        .select_from(Organisation))
    if detail:  # joined first, as before: later, it doubled the drill-down's time on SQLite
        q = q.outerjoin(parent, parent.id == Organisation.parent_id)
    q = (q.outerjoin(m, and_(m.cell_id == Organisation.id, m.period.in_(MONTHS),
                             m.kind == _c("regular"), m.seq == _c(0),
                             m.status != _c("cancelled")))
         .where(_in_subtree(), _in(Organisation.kind, CELL_KINDS),
                Organisation.active == True)  # noqa: E712
         .group_by(Organisation.id))
    if detail:
        q = (q.add_columns(*names, func.count(m.id).label("meetings"),
                           func.avg(total).label("score"),
                           func.max(rating).label("rating"))
             .group_by(*names[:2]))  # path and rubric follow from the cell's id
    if by_month:  # the trend's few columns, per month
        q = (q.with_only_columns(
            Organisation.id.label("cell_id"), Organisation.path.label("path"),
            m.period.label("period"), _count(m.status == _c("held")).label("held"),
            func.coalesce(func.sum(counted(m, "attended_count")), 0).label("attended"),
            func.coalesce(func.sum(counted(m, "due_count")), 0).label("due"),
            func.avg(total).label("score"))
             .group_by(m.period))
    return q.subquery("cells")


@cache
def _cell_rows_stmt() -> Any:
    cells = _cells_subquery()
    return select(cells).order_by(cells.c.path)


def cell_rows(session: Session, root: Organisation, period: Period) -> list[Any]:
    """One row per cell of the subtree: its regular meetings' status, attendance, score."""
    return plain_rows(session.execute(_cell_rows_stmt(), _params(root, period.months)))


@cache
def _cell_month_rows_stmt() -> Any:
    cells = _cells_subquery(detail=False, by_month=True)
    return select(cells).order_by(cells.c.path, cells.c.period)


def cell_month_rows(session: Session, root: Organisation, months: tuple[str, ...]
                    ) -> list[Any]:
    """Per cell and month of ``months``, in one statement (the trend's twelve months were
    24 statements), :func:`cell_rows`'s held, attended, due and score, with the cell's
    path; a cell with no meeting in any of the months: one row, ``period`` None."""
    return plain_rows(session.execute(_cell_month_rows_stmt(), _params(root, months)))


@cache
def _child_rows_stmt() -> Any:
    cells = _cells_subquery()
    child = aliased(Organisation)
    return (
        select(child.id.label("org_id"), child.name.label("name"), child.kind.label("kind"),
               func.count(cells.c.cell_id).label("cells"),
               _count(cells.c.held > 0).label("met"),
               _count(cells.c.unscored > 0).label("unscored"),
               func.sum(cells.c.attended).label("attended"),
               func.sum(cells.c.due).label("due"),
               func.sum(cells.c.unexcused).label("unexcused"),
               func.avg(cells.c.score).label("score"))
        .select_from(child)
        .join(cells, cells.c.path.startswith(child.path))
        .where(child.parent_id == bindparam("root_id"))
        .group_by(child.id, child.name, child.kind)
        .order_by(child.name))


def child_rows(session: Session, root: Organisation, period: Period) -> list[Any]:
    """The same figures summed per direct child of ``root`` (drill-down one level)."""
    return plain_rows(session.execute(_child_rows_stmt(),
                                      _params(root, period.months, root_id=root.id)))


@cache
def _summary_stmt() -> Any:
    cells = _cells_subquery(detail=False)
    return select(
        func.count(cells.c.cell_id).label("cells"),
        func.coalesce(_count(cells.c.held > 0), 0).label("met"),
        func.coalesce(_count(cells.c.unscored > 0), 0).label("unscored"),
        func.coalesce(func.sum(cells.c.not_held), 0).label("not_held"),
        func.coalesce(func.sum(cells.c.attended), 0).label("attended"),
        func.coalesce(func.sum(cells.c.due), 0).label("due"),
        func.coalesce(func.sum(cells.c.unexcused), 0).label("unexcused"),
        *(func.coalesce(func.sum(cells.c[f"r_{b}"]), 0).label(f"r_{b}") for b in BANDS))


def summary(session: Session, root: Organisation, period: Period) -> dict[str, Any]:
    """Subtree totals in one query: cells, met, not yet, not scored, not valid,
    attendance, unexcused absences and the distribution of ratings."""
    row = plain_rows(session.execute(_summary_stmt(), _params(root, period.months)))[0]
    out = {k: v for k, v in row.items() if not k.startswith("r_")}
    out["not_met"] = out["cells"] - out["met"]
    out["ratings"] = {b: row[f"r_{b}"] for b in BANDS if row[f"r_{b}"]}
    return out


def ratings(session: Session, root: Organisation, period: Period) -> dict[str, int]:
    return summary(session, root, period)["ratings"]


@cache
def _meeting_rows_stmt() -> Any:
    (cell_sc, cell_on), (conf_sc, conf_on) = current_score("cell"), current_score("confirmed")
    parent = aliased(Organisation, name="parent")
    return (select(Meeting.id.label("meeting_id"), Organisation.name.label("cell"),
                   parent.name.label("parent"), Meeting.kind, Meeting.period,
                   Meeting.scheduled_at, Meeting.status,
                   Meeting.started_at, Meeting.ended_at,
                   counted(Meeting, "attended_count").label("attended"),
                   counted(Meeting, "due_count").label("due"),
                   counted(Meeting, "unexcused_count").label("unexcused"),
                   cell_sc.total.label("cell_score"), cell_sc.rating.label("cell_rating"),
                   conf_sc.total.label("confirmed_score"))
            .join(Organisation, Organisation.id == Meeting.cell_id)
            .outerjoin(parent, parent.id == Organisation.parent_id)
            .outerjoin(cell_sc, cell_on(Meeting.id))
            .outerjoin(conf_sc, conf_on(Meeting.id))
            .where(_in_subtree(), Meeting.period.in_(MONTHS))
            .order_by(Organisation.path, Meeting.scheduled_at))


def meeting_rows(session: Session, root: Organisation, period: Period) -> list[Any]:
    """Every meeting of the subtree in the period, with attendance and scores."""
    return plain_rows(session.execute(_meeting_rows_stmt(), _params(root, period.months)))


@cache
def _member_rows_stmt(one: bool) -> Any:
    parent = aliased(Organisation, name="parent")
    q = (select(Member.id.label("member_id"), Member.full_name.label("name"),
                Organisation.name.label("cell"), parent.name.label("parent"),
                _count(_in(Attendance.status, DUE)).label("due"),
                _count(_in(Attendance.status, ATTENDED)).label("attended"),
                _count(Attendance.status == _c("excused")).label("excused"),
                _count(Attendance.status == _c("unexcused"))
                .label("unexcused"))
         .join(Attendance, Attendance.member_id == Member.id)
         .join(Meeting, Meeting.id == Attendance.meeting_id)
         .join(Organisation, Organisation.id == Meeting.cell_id)
         .outerjoin(parent, parent.id == Organisation.parent_id)
         .where(_in_subtree(), Meeting.period.in_(MONTHS),
                _in(Meeting.status, ("held", "not_held")))
         .group_by(Member.id, Member.full_name, Organisation.name, parent.name,
                   Organisation.path)
         .order_by(Organisation.path, Member.full_name))
    return q.where(Member.id == bindparam("member_id")) if one else q


def member_rows(session: Session, root: Organisation, period: Period,
                member_id: int | None = None) -> list[Any]:
    """Per member: meetings due, attended, excused, unexcused over the period."""
    params = _params(root, period.months)
    if member_id is not None:
        params["member_id"] = member_id
    # Counts of rows only (BIGINT: int on both databases), so no plain_rows: 8,000 members
    # through it cost 60-85 ms more (bench/bench_reports.py, SQLite).
    return list(session.execute(_member_rows_stmt(member_id is not None), params).mappings())


def months_back(upto: str, n: int) -> tuple[str, ...]:
    """The ``n`` months ending with ``upto`` ("YYYY-MM"), oldest first."""
    yr, mo = int(upto[:4]), int(upto[5:7])
    return tuple(f"{(yr * 12 + mo - 1 - k) // 12:04d}-{(yr * 12 + mo - 1 - k) % 12 + 1:02d}"
                 for k in range(n - 1, -1, -1))


@cache
def _without_thematic_stmt() -> Any:
    thematic = (select(literal(1)).select_from(Meeting)
                .where(Meeting.cell_id == Organisation.id, Meeting.period.in_(MONTHS),
                       Meeting.status != "cancelled",
                       or_(Meeting.kind == "thematic", Meeting.thematic_part == True))  # noqa: E712
                .exists())
    parent = aliased(Organisation, name="parent")
    return (select(Organisation.id.label("cell_id"), Organisation.name.label("cell"),
                   parent.name.label("parent"))
            .outerjoin(parent, parent.id == Organisation.parent_id)
            .where(_in_subtree(), _in(Organisation.kind, CELL_KINDS),
                   Organisation.active == True, ~thematic)  # noqa: E712
            .order_by(Organisation.path))


def cells_without_thematic(session: Session, root: Organisation,
                           months: tuple[str, ...]) -> list[Any]:
    return plain_rows(session.execute(_without_thematic_stmt(), _params(root, months)))


@cache
def _trend_stmt() -> Any:
    return (select(Meeting.period.label("period"),
                   func.sum(Meeting.attended_count).label("attended"),
                   func.sum(Meeting.due_count).label("due"))
            .join(Organisation, Organisation.id == Meeting.cell_id)
            .where(_in_subtree(), Meeting.period.in_(MONTHS),
                   _in(Meeting.status, ("held", "not_held")),
                   Meeting.due_count > ZERO)  # a month without a roll call: no row
            .group_by(Meeting.period).order_by(Meeting.period))


def trend(session: Session, root: Organisation, months: tuple[str, ...]) -> list[Any]:
    """Attendance rate per month over the subtree (for the chart)."""
    return plain_rows(session.execute(_trend_stmt(), _params(root, months)))
