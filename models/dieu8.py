"""Điều lệ Đảng, Điều 8 (xóa tên): unexcused absences and unpaid fee months in a year.

Only *unexcused* absences (vắng không lý do) and *unpaid* months count, not necessarily in
a row, within one calendar year; excused absences never count. Each kind is counted on
its own: three of one kind flags the member; two of one kind warns; a member with some
of each but three of neither is "cần lưu ý" (whether the two kinds add up is not settled
in the texts, so the bot does not flag it). One SQL statement, built once, per subtree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models.attendance import Attendance
from models.fees import FeePayment
from models.meeting import Meeting
from models.member import Member
from models.org import Organisation

FLAG_AT = 3
WARN_AT = 2


class Level(StrEnum):
    FLAG = "flag"  # thuộc diện xem xét xóa tên
    WARN = "warn"  # cảnh báo: 2 of one kind
    ATTENTION = "attention"  # cần lưu ý: some of each kind


@dataclass(frozen=True)
class Counts:
    unexcused: int
    unpaid: int

    @property
    def level(self) -> Level | None:
        return level_of(self.unexcused, self.unpaid)


def level_of(unexcused: int, unpaid: int, flag_at: int = FLAG_AT,
             warn_at: int = WARN_AT) -> Level | None:
    if unexcused >= flag_at or unpaid >= flag_at:
        return Level.FLAG
    if unexcused >= warn_at or unpaid >= warn_at:
        return Level.WARN
    if unexcused and unpaid:
        return Level.ATTENTION
    return None


MONTHS = bindparam("months", expanding=True)
PREFIX = bindparam("prefix")


@cache
def _stmt(one: bool) -> Any:
    unexcused = (select(Attendance.member_id.label("member_id"),
                        func.count().label("n"))
                 .join(Meeting, Meeting.id == Attendance.meeting_id)
                 .join(Organisation, Organisation.id == Meeting.cell_id)
                 .where(Organisation.path.like(PREFIX), Meeting.period.in_(MONTHS),
                        Meeting.status.in_(("held", "not_held")),
                        # the meeting's own count (migration 0016): only meetings with an
                        # unexcused absence are searched (a bloc's year: 1 in 4 of 5,400)
                        Meeting.unexcused_count > 0,
                        Attendance.status == "unexcused")
                 .group_by(Attendance.member_id).subquery("unexcused"))
    unpaid = (select(FeePayment.member_id.label("member_id"), func.count().label("n"))
              .join(Organisation, Organisation.id == FeePayment.cell_id)
              .where(Organisation.path.like(PREFIX), FeePayment.period.in_(MONTHS),
                     FeePayment.paid == False)  # noqa: E712
              .group_by(FeePayment.member_id).subquery("unpaid"))
    cell, parent = aliased(Organisation, name="cell"), aliased(Organisation, name="parent")
    u, p = func.coalesce(unexcused.c.n, 0), func.coalesce(unpaid.c.n, 0)
    q = (select(Member.id.label("member_id"), Member.full_name.label("name"),
                cell.id.label("cell_id"), cell.name.label("cell"),
                parent.name.label("parent"), u.label("unexcused"), p.label("unpaid"))
         .join(cell, cell.id == Member.cell_id)
         .outerjoin(parent, parent.id == cell.parent_id)
         .outerjoin(unexcused, unexcused.c.member_id == Member.id)
         .outerjoin(unpaid, unpaid.c.member_id == Member.id)
         .where(Member.active == True, cell.path.like(PREFIX),  # noqa: E712
                or_(u >= bindparam("warn_at"), p >= bindparam("warn_at"),
                    and_(u > 0, p > 0)))
         .order_by(cell.path, Member.full_name))
    return q.where(Member.id == bindparam("member_id")) if one else q


def year_months(upto: str) -> list[str]:
    """January to ``upto`` ("YYYY-MM") of its calendar year."""
    return [f"{upto[:4]}-{m:02d}" for m in range(1, int(upto[5:7]) + 1)]


def members_to_watch(session: Session, root: Organisation, upto: str) -> list[dict[str, Any]]:
    """Every member of the subtree at warning level or above, as of month ``upto``, with
    their counts and level (flag / warn / attention)."""
    rows = session.execute(_stmt(False), {"prefix": root.path + "%",
                                          "months": year_months(upto), "warn_at": WARN_AT})
    return [{**r, "level": level_of(r["unexcused"], r["unpaid"])} for r in rows.mappings()]


def counts_for(session: Session, cell: Organisation, member_id: int, upto: str) -> Counts:
    """One member's counts for the year up to ``upto`` (zero when below every level)."""
    row = session.execute(_stmt(True), {"prefix": cell.path + "%", "months": year_months(upto),
                                        "warn_at": 1, "member_id": member_id}).mappings().first()
    return Counts(row["unexcused"], row["unpaid"]) if row else Counts(0, 0)
