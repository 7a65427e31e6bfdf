"""Each member's yearly roll-call counts (migration 0017's triggers) equal the sums over
their attendance rows of the year's held and not-held meetings after any mix of writes:
roll calls added, edited, moved to another meeting or member and deleted (ORM and Core),
and meetings marked held, not held or cancelled after their roll call, or moved to
another year."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, func, select

from bot.app import App
from models.attendance import Attendance, MemberYearAttendance
from models.meeting import Meeting
from models.member import Member
from models.reports import ATTENDED, DUE
from tests.rollcalls import WRITES, RollCalls, june_meeting

MEETING_STATUSES = ("scheduled", "held", "not_held", "cancelled")
COUNTS = {"due": DUE, "attended": ATTENDED, "unexcused": ("unexcused",),
          "excused": ("excused",)}


def _expected(s: Session) -> dict[tuple[int, int], tuple[int, ...]]:
    """The sums as the yearly record computed them before 0017: over the roll calls of
    held and not-held meetings, per member and the meeting's year."""
    found: dict[tuple[int, int], list[int]] = {}
    rows = s.exec(select(Attendance.member_id, Attendance.status, Meeting.period)
                  .join(Meeting, Meeting.id == Attendance.meeting_id)
                  .where(Meeting.status.in_(("held", "not_held")))).all()
    for member_id, status, period in rows:
        counts = found.setdefault((member_id, int(period[:4])), [0] * len(COUNTS))
        for i, statuses in enumerate(COUNTS.values()):
            counts[i] += status in statuses
    return {k: tuple(v) for k, v in found.items() if any(v)}


def _stored(s: Session) -> dict[tuple[int, int], tuple[int, ...]]:
    """The kept counts; a member whose rows of a year all went is a row of zeros."""
    t = MemberYearAttendance
    return {(r[0], r[1]): tuple(r[2:]) for r in s.exec(
        select(t.member_id, t.year, t.due, t.attended, t.unexcused, t.excused)).all()
        if any(r[2:])}


def test_counts_follow_random_edits_of_roll_calls_and_meetings(sample: App,
                                                               engine: Engine) -> None:
    rnd = random.Random(17)
    with Session(engine) as s:
        members = s.exec(select(Member).order_by(Member.id)).all()[:12]
        cell = members[0].cell_id
        meetings = []
        months = ((2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3))
        for seq, (year, mo) in enumerate(months):  # its own slot: periods may meet
            m = Meeting(cell_id=cell, period=f"{year}-{mo:02d}", seq=seq,
                        scheduled_at=datetime(year, mo, 5, 1, tzinfo=UTC),
                        status=rnd.choice(MEETING_STATUSES))
            s.add(m)
            meetings.append(m)
        s.commit()
        ids = [m.id for m in meetings]
        calls = RollCalls(s, rnd, ids, [m.id for m in members])
        seen: set[tuple[int, int]] = set()
        for step in range(400):
            op = rnd.choice((*WRITES, "meeting_status", "meeting_period"))
            if op == "meeting_status":
                rnd.choice(meetings).status = rnd.choice(MEETING_STATUSES)
            elif op == "meeting_period":  # a bulk UPDATE, as a hand-written fix would be
                year = rnd.choice((2025, 2026))
                s.execute(update(Meeting).where(Meeting.id == rnd.choice(ids))
                          .values(period=f"{year}-{rnd.randint(1, 12):02d}"))
            else:
                calls.write(op)
            s.flush()
            if step % 20 == 0:
                s.commit()
                s.expire_all()
                stored = _stored(s)
                assert stored == _expected(s), step
                seen |= set(stored)
        s.commit()
        s.expire_all()
        assert _stored(s) == _expected(s)
        # Along the way, several members had counts, in both years.
        assert len(seen) >= 5 and {year for _, year in seen} == {2025, 2026}


def test_a_meeting_marked_held_after_its_roll_call_counts_then(sample: App,
                                                               engine: Engine) -> None:
    with Session(engine) as s:
        member, m = june_meeting(s, "scheduled")
        s.add(Attendance(meeting_id=m.id, member_id=member.id, status="unexcused"))
        s.commit()
        kept = select(func.sum(MemberYearAttendance.unexcused)).where(
            MemberYearAttendance.member_id == member.id, MemberYearAttendance.year == 2026)
        assert not s.exec(kept).one()
        m.status = "held"
        s.commit()
        assert s.exec(kept).one() == 1
        m.status = "cancelled"
        s.flush()
        assert s.exec(kept).one() == 0
        s.rollback()  # the cancellation undone: counted again
        assert s.exec(kept).one() == 1
