"""The web view's lists count members per level in SQL (models.review.year_record_groups,
handlers.year.classify.member_level_counts); the counts and the members' target must
equal what member_level decides for each of year_record's rows, on records of every
kind: no meeting due, attendance on both sides of the target and exactly on it, tasks
done or not, unexcused absences and unpaid months up to and past the flag, disciplined,
proposed and confirmed levels."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from functools import partial

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import App
from handlers.year import classify
from handlers.year.sheets import classification
from models.attendance import Attendance
from models.fees import FeePayment
from models.meeting import Meeting, Task
from models.member import Member
from models.org import Organisation
from models.review import MemberReview

STATUSES = ("present", "present", "present", "late", "excused", "unexcused", "exempted")


def _varied_year(engine: Engine, year: int, seed: int) -> None:
    rnd = random.Random(seed)
    with Session(engine) as s:
        members = s.exec(select(Member).order_by(Member.id)).all()
        cells = sorted({m.cell_id for m in members})
        meetings: dict[int, list[Meeting]] = {}
        for cid in cells:
            for mo in range(1, 13):
                m = Meeting(cell_id=cid, period=f"{year}-{mo:02d}",
                            scheduled_at=datetime(year, mo, 5, 1, tzinfo=UTC),
                            status=rnd.choice(("held", "held", "held", "not_held",
                                               "planned")))
                s.add(m)
                meetings.setdefault(cid, []).append(m)
        s.flush()
        for k, mem in enumerate(members):
            kind = k % 6
            for mo, m in enumerate(meetings[mem.cell_id]):
                if kind == 0:  # no meeting due at all
                    continue
                if kind == 1:  # 17 of 20 style: present but for a few excused
                    status = "excused" if mo % 4 == 0 else "present"
                else:
                    status = rnd.choice(STATUSES)
                s.add(Attendance(meeting_id=m.id or 0, member_id=mem.id or 0,
                                 status=status))
                if rnd.random() < 0.3:
                    s.add(FeePayment(member_id=mem.id or 0, cell_id=mem.cell_id,
                                     period=m.period, paid=rnd.random() < 0.5))
                if rnd.random() < 0.2:
                    s.add(Task(meeting_id=m.id or 0, assignee_id=mem.id,
                               description="việc", due_date=date(year, 6, 1),
                               status=rnd.choice(("open", "done", "dropped"))))
            if kind in (2, 3, 4):  # 2: proposed, 3: confirmed, 4: disciplined only
                s.add(MemberReview(
                    member_id=mem.id or 0, cell_id=mem.cell_id, year=year,
                    disciplined=kind == 4 or rnd.random() < 0.2,
                    proposed_level=("htxsnv", "httnv", "htnv")[k % 3] if kind == 2 else None,
                    confirmed_level=("httnv", "khtnv")[k % 2] if kind == 3 else None))
        s.commit()


def test_level_counts_equal_the_rows_levels(sample: App, engine: Engine) -> None:
    settings = sample.settings
    for seed in (1, 2):
        year = 2030 + seed
        _varied_year(engine, year, seed)
        with Session(engine) as s:
            roots = s.exec(select(Organisation).where(
                Organisation.kind != "cell").order_by(Organisation.id)).all()[:3]
            for root in roots:
                rows = classification(s, root, year, settings)
                counts = classification(s, root, year, settings, member_levels=partial(
                    classify.member_level_counts, s, root, year,
                    classify.rules_for(settings), settings))
                expected: dict[str | None, int] = {}
                for m in rows["members"]:
                    expected[m["level"]] = expected.get(m["level"], 0) + 1
                assert counts["member_levels"] == expected == rows["member_levels"]
                assert counts["targets"] == rows["targets"]
                assert counts["unrated"] == rows["unrated"]
                assert counts["members"] == []
            bloc = classification(s, roots[0], year, settings)
            levels = bloc["member_levels"]
            # every branch of member_level met: not rated, confirmed, proposed, prefilled
            assert None in levels and {"httnv", "htnv", "khtnv"} <= set(levels)
            stages = {m["stage"] for m in bloc["members"]}
            assert stages == {"not_rated", "confirmed", "proposed", "prefilled"}


def test_lists_side_by_side_equal_the_lists_in_one_session(sample: App,
                                                            engine: Engine) -> None:
    """The year lists run their statements in three sessions side by side
    (handlers.views.lists): the same lists as in the page's one session, and in that one
    session still when it holds objects not yet flushed (a second session would miss
    them)."""
    from handlers.views import lists as views_lists
    from models.base import utcnow
    from models.reports import year as year_period

    _varied_year(engine, 2031, 1)
    now = utcnow()
    with Session(engine) as s:
        root = s.exec(select(Organisation).where(Organisation.parent_id.is_(None))
                      .order_by(Organisation.id)).one()
        args = (s, root, year_period(2031), now.date(), True, sample.settings, now)
        assert views_lists._beside(s)
        beside = views_lists._lists(*args)
        s.add(MemberReview(member_id=1, cell_id=1, year=2099))
        assert not views_lists._beside(s)
        alone = views_lists._lists(*args)
        assert beside == alone
        assert beside.members and beside.cells and beside.fees
