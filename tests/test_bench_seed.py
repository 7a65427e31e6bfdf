"""`chibot bench-seed` on the test database (SQLite, or PostgreSQL where its compaction of
the trigger-kept tables runs): a small bloc whose kept counts and scores agree with the
rows they summarise after the load and its VACUUM."""

from __future__ import annotations

from sqlalchemy import Engine, func, text
from sqlmodel import Session, select

from bot.benchseed import seed
from models.attendance import Attendance
from models.meeting import Meeting
from models.score import Score


def test_a_small_bench_bloc_keeps_its_counts_and_scores(engine: Engine) -> None:
    counts = seed(engine, bases=2, cells_per_base=2, members_per_cell=5, years=1,
                  log=lambda *_: None)
    assert counts["cells"] == 4 and counts["members"] == 20
    with Session(engine) as s:
        rows = s.exec(select(func.count(Attendance.id))).one()
        assert rows == counts["attendance"] > 0
        # the meetings' own counts and current scores, kept by triggers through the load
        assert s.exec(select(func.sum(Meeting.due_count))).one() == s.exec(
            select(func.count(Attendance.id)).where(Attendance.status.in_(
                ("present", "late", "excused", "unexcused")))).one()
        scored = s.exec(select(func.count(Meeting.id))
                        .where(Meeting.cell_rating.is_not(None))).one()  # type: ignore[union-attr]
        assert scored == s.exec(select(func.count(Score.id))).one() > 0
        yearly = s.execute(text("SELECT SUM(due) FROM member_year_attendance")).scalar()
        assert yearly == s.exec(select(func.sum(Meeting.due_count)).where(
            Meeting.status.in_(("held", "not_held")))).one()  # type: ignore[attr-defined]
