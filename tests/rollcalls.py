"""Random roll-call writes for the tests of the counts database triggers keep (migrations
0016 and 0017): every way code or a hand-written fix writes ``attendance`` (ORM and Core
inserts, edits, bulk updates, rows moved to another meeting or member, deletes)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, insert, update
from sqlmodel import Session, select

from models.attendance import Attendance
from models.meeting import Meeting
from models.member import Member

STATUSES = (None, "present", "late", "excused", "unexcused", "exempted")
WRITES = ("orm_add", "core_add", "orm_edit", "core_edit", "move", "member", "delete")


@dataclass
class RollCalls:
    s: Session
    rnd: random.Random
    meetings: list[int]
    members: list[int]
    taken: set[tuple[int, int]] = field(default_factory=set)  # (meeting, member) in use

    def write(self, op: str) -> None:
        """One write of kind ``op`` (one of WRITES) on a random row; an add or a move onto
        a (meeting, member) already taken writes nothing (the table allows one row)."""
        s, rnd = self.s, self.rnd
        rows = s.exec(select(Attendance)).all()
        if op in ("orm_add", "core_add") or not rows:
            key = (rnd.choice(self.meetings), rnd.choice(self.members))
            if key in self.taken:
                return
            self.taken.add(key)
            values = {"meeting_id": key[0], "member_id": key[1],
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
        elif op in ("move", "member"):
            row = rnd.choice(rows)
            to = ((rnd.choice(self.meetings), row.member_id) if op == "move"
                  else (row.meeting_id, rnd.choice(self.members)))
            if to in self.taken:
                return
            self.taken.discard((row.meeting_id, row.member_id))
            self.taken.add(to)
            row.meeting_id, row.member_id = to
        else:
            row = rnd.choice(rows)
            self.taken.discard((row.meeting_id, row.member_id))
            s.execute(delete(Attendance).where(Attendance.id == row.id))


def june_meeting(s: Session, status: str) -> tuple[Member, Meeting]:
    """The sample's first member and a new meeting of their cell in June 2026, committed."""
    member = s.exec(select(Member).order_by(Member.id)).first()
    assert member is not None
    m = Meeting(cell_id=member.cell_id, period="2026-06",
                scheduled_at=datetime(2026, 6, 5, 1, tzinfo=UTC), status=status)
    s.add(m)
    s.commit()
    return member, m
