"""A meeting's roll-call counts (migration 0016's triggers) equal a COUNT over its
attendance rows after any mix of writes: ORM inserts, updates and deletes, Core bulk
inserts and updates, moves to another meeting, statuses set back to NULL."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, func, select

from bot.app import App
from models.attendance import Attendance
from models.meeting import Meeting
from models.member import Member
from models.reports import ATTENDED, DUE
from tests.rollcalls import WRITES, RollCalls, june_meeting


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
        calls = RollCalls(s, rnd, ids, [m.id for m in members])
        for step in range(300):
            calls.write(rnd.choice(tuple(w for w in WRITES if w != "member")))
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
        member, m = june_meeting(s, "held")
        mid = m.id
        s.add(Attendance(meeting_id=mid, member_id=member.id, status="present"))
        s.flush()
        assert s.exec(select(Meeting.attended_count).where(Meeting.id == mid)).one() == 1
        s.rollback()
        assert s.exec(select(Meeting.attended_count, Meeting.due_count)
                      .where(Meeting.id == mid)).one() == (0, 0)
