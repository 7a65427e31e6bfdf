"""The yearly review: a member's self-assessment, the cell's proposal, the base
organisation's confirmation; and the cell's own level, proposed and confirmed.

Levels are ids of models/classification.py (htxsnv, httnv, htnv, khtnv). Nothing here
decides; handlers/review.py checks the conditions and the 20% cap before writing.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Float, UniqueConstraint, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel

from models.attendance import MemberYearAttendance
from models.base import utcnow
from models.dieu8 import FLAG_AT
from models.fees import FeePayment
from models.meeting import Meeting, Task
from models.member import Member
from models.org import Organisation


class MemberReview(SQLModel, table=True):
    __tablename__ = "member_review"
    __table_args__ = (UniqueConstraint("member_id", "year", name="uq_member_review_year"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    cell_id: int = Field(foreign_key="organisation.id", index=True)
    year: int
    self_level: str | None = Field(default=None, max_length=8)
    self_text: str | None = Field(default=None, max_length=1000)
    self_at: datetime | None = None
    disciplined: bool = False  # kỷ luật trong năm, entered by the secretary
    proposed_level: str | None = Field(default=None, max_length=8)
    proposed_by: int | None = Field(default=None, foreign_key="member.id")
    proposed_at: datetime | None = None
    confirmed_level: str | None = Field(default=None, max_length=8)
    confirmed_by: int | None = Field(default=None, foreign_key="member.id")
    confirmed_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class OrgReview(SQLModel, table=True):
    __tablename__ = "org_review"
    __table_args__ = (UniqueConstraint("org_id", "year", name="uq_org_review_year"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    year: int
    proposed_level: str | None = Field(default=None, max_length=8)
    proposed_by: int | None = Field(default=None, foreign_key="member.id")
    confirmed_level: str | None = Field(default=None, max_length=8)
    confirmed_by: int | None = Field(default=None, foreign_key="member.id")
    updated_at: datetime = Field(default_factory=utcnow)


def member_review(session: Session, *, member: Member, year: int) -> MemberReview:
    from sqlmodel import select as sm_select

    row = session.exec(sm_select(MemberReview).where(MemberReview.member_id == member.id,
                                                     MemberReview.year == year)).first()
    return row or MemberReview(member_id=member.id or 0, cell_id=member.cell_id or 0, year=year)


def org_review(session: Session, *, org_id: int, year: int) -> OrgReview:
    from sqlmodel import select as sm_select

    row = session.exec(sm_select(OrgReview).where(OrgReview.org_id == org_id,
                                                  OrgReview.year == year)).first()
    return row or OrgReview(org_id=org_id, year=year)


def org_reviews(session: Session, root: Organisation, year: int) -> dict[int, OrgReview]:
    """The stored reviews of the subtree's organisations in one query, by organisation (a
    bloc's 500 cells were 500 queries of :func:`org_review`, ~150 ms of the year's
    classification; then one with 500 ids, whose text psycopg converted and PostgreSQL
    planned anew each time, ~12 ms); an organisation without one is absent."""
    from sqlmodel import select as sm_select

    return {r.org_id: r for r in session.exec(
        sm_select(OrgReview).join(Organisation, Organisation.id == OrgReview.org_id)
        .where(Organisation.path.like(root.path + "%"), OrgReview.year == year))}


def _subtree_members() -> Any:
    """Ids of the members whose cell is in the subtree: the record's fee sums read only
    their rows (a base organisation's year added up the whole bloc's fee book first).
    Keyed on the member's cell, as the outer statement is, so a member who moved keeps
    every row of the year."""
    home = aliased(Organisation, name="home")
    return (select(Member.id).join(home, home.id == Member.cell_id)
            .where(home.path.like(bindparam("prefix"))))


@cache
def _record_stmt(subtree: bool, names: bool = True) -> Any:
    """``subtree``: the fee sums read only the subtree's members (for a part of the tree;
    for the top the filter costs instead: SQLite then read 8,000 members' ten years).
    Without ``names``, no member, cell or parent name (and no parent joined): what
    :func:`_groups_stmt` counts needs none, and SQLite looked up 8,000 parents for it."""
    months = bindparam("months", expanding=True)
    paid_by_mine = (FeePayment.member_id.in_(_subtree_members()),) if subtree else ()
    # The roll calls' sums per member and year are kept by triggers (migration 0017): a
    # bloc's year added up 93,000 rows here, 60-80 ms of its cold lists.
    att = aliased(MemberYearAttendance, name="att")
    fees = (select(FeePayment.member_id.label("member_id"),
                   func.sum(case((FeePayment.paid == False, 1), else_=0))  # noqa: E712
                   .label("unpaid"),
                   func.sum(FeePayment.amount).label("paid_amount"))
            .where(FeePayment.period.in_(months), *paid_by_mine)
            .group_by(FeePayment.member_id).subquery("fees"))
    # A task counts once done or once its deadline (else the year's end) has passed by
    # ``as_of``: one not yet due is neither done nor failed.
    day = Task.__table__.c.due_date.type
    due_by = func.coalesce(Task.due_date, bindparam("year_end", type_=day))
    tasks = (select(Task.assignee_id.label("member_id"),
                    func.count().label("tasks"),
                    func.sum(case((Task.status == "done", 1), else_=0)).label("done"))
             .join(Meeting, Meeting.id == Task.meeting_id)
             .where(Meeting.period.in_(months), Task.status != "dropped",
                    or_(Task.status == "done",
                        due_by < bindparam("as_of", type_=day)))
             .group_by(Task.assignee_id).subquery("tasks"))
    cell, parent = aliased(Organisation, name="cell"), aliased(Organisation, name="parent")
    rv = aliased(MemberReview, name="rv")
    who = ((Member.id.label("member_id"), Member.full_name.label("name"),
            cell.id.label("cell_id"), cell.name.label("cell"), parent.name.label("parent"))
           if names else (Member.id.label("member_id"), cell.id.label("cell_id")))
    stmt = (select(*who,
                   func.coalesce(att.due, 0).label("due"),
                   func.coalesce(att.attended, 0).label("attended"),
                   func.coalesce(att.unexcused, 0).label("unexcused"),
                   func.coalesce(att.excused, 0).label("excused"),
                   func.coalesce(fees.c.unpaid, 0).label("unpaid"),
                   func.coalesce(fees.c.paid_amount, 0).label("paid_amount"),
                   func.coalesce(tasks.c.tasks, 0).label("tasks"),
                   func.coalesce(tasks.c.done, 0).label("tasks_done"),
                   func.coalesce(rv.disciplined, False).label("disciplined"),
                   rv.self_level, rv.proposed_level, rv.confirmed_level)
            .join(cell, cell.id == Member.cell_id))
    if names:
        stmt = stmt.outerjoin(parent, parent.id == cell.parent_id)
    return (stmt
            .outerjoin(att, and_(att.member_id == Member.id, att.year == bindparam("year")))
            .outerjoin(fees, fees.c.member_id == Member.id)
            .outerjoin(tasks, tasks.c.member_id == Member.id)
            .outerjoin(rv, and_(rv.member_id == Member.id, rv.year == bindparam("year")))
            .where(cell.path.like(bindparam("prefix")), Member.active == True)  # noqa: E712
            .order_by(cell.path, Member.id))


def year_record(session: Session, root: Organisation, year: int,
                as_of: date | None = None) -> list[dict[str, Any]]:
    """Per active member of the subtree: the year's attendance, excused and unexcused
    absences, unpaid months, fees paid, tasks due by ``as_of`` (default: after the year)
    and done, and their review so far (one statement, GROUP BY parts)."""
    params = {"prefix": root.path + "%", "year": year, "year_end": date(year, 12, 31),
              "as_of": as_of or date(year + 1, 1, 1),
              "months": [f"{year:04d}-{m:02d}" for m in range(1, 13)]}
    stmt = _record_stmt(root.parent_id is not None)
    return [dict(r) for r in session.execute(stmt, params).mappings()]


CAP = FLAG_AT  # unexcused absences and unpaid months matter to a level only up to it


@cache
def _groups_stmt(subtree: bool) -> Any:
    """:func:`year_record`'s rows counted per combination of what decides a member's
    level (handlers.year.classify.member_level): a bloc's 8,000 records are a few dozen
    groups, so the level of each is decided once instead of 8,000 times in Python."""
    rec = _record_stmt(subtree, names=False).order_by(None).subquery("rec")
    counted = rec.c.due - rec.c.excused
    ratio = func.cast(rec.c.attended, Float) / func.nullif(counted, 0)
    done = func.cast(rec.c.tasks_done, Float) / func.nullif(rec.c.tasks, 0)
    keys = (case((rec.c.due > 0, 1), else_=0).label("due"),
            rec.c.confirmed_level, rec.c.proposed_level,
            rec.c.disciplined,
            case((counted <= 0, 1), (ratio >= bindparam("target", type_=Float), 1),
                 else_=0).label("rate_ok"),
            case((rec.c.tasks == 0, 1), (done >= bindparam("tasks_good", type_=Float), 1),
                 else_=0).label("tasks_ok"),
            case((rec.c.unexcused >= CAP, CAP), else_=rec.c.unexcused).label("unexcused"),
            case((rec.c.unpaid >= CAP, CAP), else_=rec.c.unpaid).label("unpaid"))
    return select(*keys, func.count().label("n")).group_by(*keys)


def year_record_groups(session: Session, root: Organisation, year: int, target: float,
                       tasks_good: float, as_of: date | None = None) -> list[dict[str, Any]]:
    """:func:`year_record` counted per (due > 0, confirmed, proposed, disciplined,
    attendance rate >= ``target`` or none, tasks done >= ``tasks_good`` or none,
    unexcused and unpaid up to ``CAP``): the rate as the Python code divides it (a float
    division on both databases), ``n`` members each."""
    params = {"prefix": root.path + "%", "year": year, "year_end": date(year, 12, 31),
              "as_of": as_of or date(year + 1, 1, 1), "target": target,
              "tasks_good": tasks_good,
              "months": [f"{year:04d}-{m:02d}" for m in range(1, 13)]}
    result = session.execute(_groups_stmt(root.parent_id is not None), params)
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]
