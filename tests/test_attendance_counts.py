"""A meeting's roll-call counts (migration 0016's triggers) equal a COUNT over its
attendance rows after any mix of writes: ORM inserts, updates and deletes, Core bulk
inserts and updates, moves to another meeting, statuses set back to NULL."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, update
from sqlmodel import Session, func, select

from bot.app import App
from models.attendance import Attendance
from models.meeting import Meeting
from models.member import Member
from models.reports import ATTENDED, DUE

STATUSES = (None, "present", "late", "excused", "unexcused", "exempted")


def _expected(s: Session) -> dict[int, tuple[int, int, int]]:
    def count(statuses: tuple[str, ...]) -> dict[int, int]:
        return dict(s.exec(select(Attendance.meeting_id, func.count(Attendance.id))
                           .where(Attendance.status.in_(statuses))
                           .group_by(Attendance.meeting_id)).all())
    att, due, unex = count(ATTENDED), count(DUE), count(("unexcused",))
    return {mid: (att.get(mid, 0), due.get(mid, 0), unex.get(mid, 0))
            for mid in s.exec(select(Meeting.id)).all()}


def _stored(s: Session) -> dict[int, tuple[int, int, int]]:
    return {r[0]: (r[1], r[2], r[3]) for r in s.exec(
        select(Meeting.id, Meeting.attended_count, Meeting.due_count,
               Meeting.unexcused_count)).all()}


def test_counts_follow_random_roll_call_edits(sample: App, engine: Engine) -> None:
    rnd = random.Random(22)
    with Session(engine) as s:
        members = s.exec(select(Member).order_by(Member.id)).all()[:30]
        cell = members[0].cell_id
        meetings = []
        for mo in range(1, 5):
            m = Meeting(cell_id=cell, period=f"2026-{mo:02d}",
                        scheduled_at=datetime(2026, mo, 5, 1, tzinfo=UTC), status="held")
            s.add(m)
            meetings.append(m)
        s.commit()
        ids = [m.id for m in meetings]
        taken: set[tuple[int, int]] = set()
        for step in range(300):
            op = rnd.choice(("orm_add", "core_add", "orm_edit", "core_edit", "move",
                             "delete"))
            rows = s.exec(select(Attendance)).all()
            if op in ("orm_add", "core_add") or not rows:
                mid, mem = rnd.choice(ids), rnd.choice(members).id
                if (mid, mem) in taken:
                    continue
                taken.add((mid, mem))
                values = {"meeting_id": mid, "member_id": mem,
                          "status": rnd.choice(STATUSES)}
                if op == "core_add":
                    s.execute(insert(Attendance), [values])
                else:
                    s.add(Attendance(**values))
            elif op == "orm_edit":
                rnd.choice(rows).status = rnd.choice(STATUSES)
            elif op == "core_edit":  # a bulk UPDATE of a few rows at once
                pick = [r.id for r in rnd.sample(rows, min(3, len(rows)))]
                s.execute(update(Attendance).where(Attendance.id.in_(pick))
                          .values(status=rnd.choice(STATUSES)))
            elif op == "move":
                row = rnd.choice(rows)
                to = rnd.choice(ids)
                if (to, row.member_id) in taken:
                    continue
                taken.discard((row.meeting_id, row.member_id))
                taken.add((to, row.member_id))
                row.meeting_id = to
            else:
                row = rnd.choice(rows)
                taken.discard((row.meeting_id, row.member_id))
                s.execute(delete(Attendance).where(Attendance.id == row.id))
            s.flush()
            if step % 25 == 0:
                s.commit()
                s.expire_all()
                assert _stored(s) == _expected(s), step
        s.commit()
        s.expire_all()
        assert _stored(s) == _expected(s)
        assert any(v[1] for k, v in _stored(s).items() if k in ids)  # not all zero


def test_a_rolled_back_roll_call_leaves_the_counts(sample: App, engine: Engine) -> None:
    with Session(engine) as s:
        member = s.exec(select(Member).order_by(Member.id)).first()
        assert member is not None
        m = Meeting(cell_id=member.cell_id, period="2026-06",
                    scheduled_at=datetime(2026, 6, 5, 1, tzinfo=UTC), status="held")
        s.add(m)
        s.commit()
        mid = m.id
        s.add(Attendance(meeting_id=mid, member_id=member.id, status="present"))
        s.flush()
        assert s.exec(select(Meeting.attended_count).where(Meeting.id == mid)).one() == 1
        s.rollback()
        assert s.exec(select(Meeting.attended_count, Meeting.due_count)
                      .where(Meeting.id == mid)).one() == (0, 0)
