"""Runs of absences in a row within one calendar year (HD 42 attendance bonus).

The HD 42 rubric gives +1 when no member of the cell was absent (even with a reason) more
than 3 times in a row this year; runs stop at 1 January. The rubric's attendance
criterion and /flags both ask this module, so they cannot disagree. Exempted rows do not
break or extend a run; a meeting attended ends it.

Gaps and islands in SQL: numbering each member's meetings once overall and once per
(absent or not) gives a constant difference along a run.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models.attendance import ABSENT, Attendance, MemberYearAttendance
from models.meeting import Meeting
from models.member import Member
from models.org import Organisation

DUE = ("present", "late", "excused", "unexcused")
STREAK_LIMIT = 3


def _year_rows(*where: Any) -> Any:
    """The subtree's roll-call rows of the year's held meetings up to ``upto``."""
    upto = bindparam("upto", type_=Meeting.__table__.c.scheduled_at.type)
    return (select().select_from(Attendance)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .join(Organisation, Organisation.id == Meeting.cell_id)
            .where(Organisation.path.like(bindparam("prefix")),
                   Meeting.period.in_(bindparam("months", expanding=True)),
                   Meeting.status.in_(("held", "not_held")), Meeting.scheduled_at <= upto,
                   *where))


@cache
def _candidates_stmt(top: bool) -> Any:
    """Members absent more than ``limit`` times in the year: only they can have such a
    run. For the top of the tree, from the yearly counts the triggers of migration 0017
    keep (absent that often anywhere in the year: a superset; counting the bloc's absences
    up to ``upto`` read the year's 6,000 meetings, 20-45 ms of its cold year lists). Below
    it, from the subtree's own meetings, a few hundred at most (the counts' superset was
    the whole bloc's absentees, whose runs then cost a base organisation 10 ms more)."""
    if top:
        t = MemberYearAttendance
        return select(t.member_id).where(t.year == bindparam("year"),
                                         t.excused + t.unexcused > bindparam("limit"))
    return (_year_rows(Attendance.status.in_(ABSENT))
            .add_columns(Attendance.member_id)
            .group_by(Attendance.member_id)
            .having(func.count() > bindparam("limit")))


@cache
def _stmt() -> Any:
    """The runs of the candidates, numbered by window functions over their rows alone
    (a separate first query: inlined, the planners guessed thousands of candidates and
    numbered the whole bloc's year)."""
    absent = case((Attendance.status.in_(ABSENT), 1), else_=0)
    candidates = bindparam("members", expanding=True)
    numbered = (
        _year_rows(Attendance.status.in_(DUE), Attendance.member_id.in_(candidates))
        .add_columns(Attendance.member_id.label("member_id"), absent.label("absent"),
                     (func.row_number().over(partition_by=Attendance.member_id,
                                             order_by=(Meeting.scheduled_at, Meeting.id))
                      - func.row_number().over(partition_by=(Attendance.member_id, absent),
                                               order_by=(Meeting.scheduled_at, Meeting.id)))
                     .label("island"))
        .subquery("numbered"))
    runs = (select(numbered.c.member_id, func.count().label("run"))
            .where(numbered.c.absent == 1)
            .group_by(numbered.c.member_id, numbered.c.island).subquery("runs"))
    longest = (select(runs.c.member_id, func.max(runs.c.run).label("run"))
               .group_by(runs.c.member_id)
               .having(func.max(runs.c.run) > bindparam("limit")).subquery("longest"))
    cell, parent = aliased(Organisation, name="cell"), aliased(Organisation, name="parent")
    return (select(Member.id.label("member_id"), Member.full_name.label("name"),
                   cell.id.label("cell_id"), cell.name.label("cell"),
                   parent.name.label("parent"), longest.c.run)
            .join(longest, longest.c.member_id == Member.id)
            .join(cell, cell.id == Member.cell_id)
            .outerjoin(parent, parent.id == cell.parent_id)
            .order_by(cell.path, Member.full_name))


def long_runs(session: Session, root: Organisation, year: int, upto: Any,
              limit: int = STREAK_LIMIT) -> list[dict[str, Any]]:
    """Members of the subtree whose longest run of absences in ``year``, counting meetings
    up to the moment ``upto``, is more than ``limit``."""
    params = {"prefix": root.path + "%", "months": [f"{year:04d}-{m:02d}" for m in range(1, 13)],
              "upto": upto, "limit": limit, "year": year}
    members = list(session.scalars(_candidates_stmt(root.parent_id is None), params))
    if not members:
        return []
    return [dict(r) for r in session.execute(_stmt(), {**params, "members": members})
            .mappings()]


def keeps_bonus(session: Session, cell: Organisation, year: int, upto: Any,
                limit: int = STREAK_LIMIT) -> bool:
    """HD 42: True when no member of the cell has been absent more than ``limit`` times in
    a row so far in ``year`` (up to ``upto``)."""
    return not long_runs(session, cell, year, upto, limit)
