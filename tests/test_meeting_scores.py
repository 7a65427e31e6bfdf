"""A meeting's current scores (migration 0018's triggers) equal what a join on its current
score rows gives, after any mix of writes: a new revision, a correction of total or
rating, a confirmation, a score moved to another meeting or turned into another kind,
Core bulk updates, deletes; and the subtree's figures read from them."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, update
from sqlmodel import Session, select

from bot.app import App
from models.meeting import Meeting
from models.member import Member
from models.org import Organisation
from models.reports import cell_rows, month
from models.score import Score
from tests.rollcalls import june_meeting

KINDS = ("cell", "confirmed")
RATINGS = ("tot", "kha", "trung_binh", "kem")
WRITES = ("revision", "orm_add", "core_add", "orm_edit", "core_edit", "move", "kind",
          "current", "delete")

Stored = dict[int, tuple[float | None, str | None, float | None, str | None]]


def _expected(s: Session) -> Stored:
    """Per meeting, the newest current score of each kind, as a join would find it."""
    out: Stored = {mid: (None, None, None, None) for mid in s.exec(select(Meeting.id)).all()}
    for sc in s.exec(select(Score).where(Score.is_current == True)  # noqa: E712
                     .order_by(Score.id)).all():
        total, rating, ctotal, crating = out[sc.meeting_id]
        if sc.kind == "cell":
            total, rating = sc.total, sc.rating
        else:
            ctotal, crating = sc.total, sc.rating
        out[sc.meeting_id] = (total, rating, ctotal, crating)
    return out


def _stored(s: Session) -> Stored:
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in s.exec(
        select(Meeting.id, Meeting.cell_total, Meeting.cell_rating, Meeting.confirmed_total,
               Meeting.confirmed_rating)).all()}


def _values(rnd: random.Random, meeting_id: int, kind: str) -> dict[str, object]:
    return {"meeting_id": meeting_id, "kind": kind, "rubric_id": "hd42",
            "rubric_version": "1", "total": float(rnd.randint(40, 100)),
            "rating": rnd.choice(RATINGS), "is_current": True}


def _write(s: Session, rnd: random.Random, meetings: list[int], op: str) -> None:
    rows = s.exec(select(Score)).all()
    if op in ("orm_add", "core_add") or not rows:
        values = _values(rnd, rnd.choice(meetings), rnd.choice(KINDS))
        if op == "core_add":
            s.execute(insert(Score), [values])
        else:
            s.add(Score(**values))  # type: ignore[arg-type]
        return
    row = rnd.choice(rows)
    if op == "revision":  # as scoring does: the current one kept for the audit, a new one
        for old in rows:
            if (old.meeting_id, old.kind) == (row.meeting_id, row.kind) and old.is_current:
                old.is_current = False
        s.flush()
        s.add(Score(**_values(rnd, row.meeting_id, row.kind),  # type: ignore[arg-type]
                    revision=row.revision + 1))
    elif op == "orm_edit":
        row.total, row.rating = float(rnd.randint(40, 100)), rnd.choice(RATINGS)
    elif op == "core_edit":
        pick = [r.id for r in rnd.sample(rows, min(3, len(rows)))]
        s.execute(update(Score).where(Score.id.in_(pick))  # type: ignore[union-attr]
                  .values(rating=rnd.choice(RATINGS)))
    elif op == "move":
        row.meeting_id = rnd.choice(meetings)
    elif op == "kind":
        row.kind = "confirmed" if row.kind == "cell" else "cell"
    elif op == "current":
        row.is_current = not row.is_current
    else:
        s.execute(delete(Score).where(Score.id == row.id))  # type: ignore[arg-type]


def test_current_scores_follow_random_score_edits(sample: App, engine: Engine) -> None:
    rnd = random.Random(18)
    with Session(engine) as s:
        member = s.exec(select(Member).order_by(Member.id)).first()
        assert member is not None
        cell = member.cell_id
        ids = []
        for mo in range(1, 5):
            m = Meeting(cell_id=cell, period=f"2026-{mo:02d}",
                        scheduled_at=datetime(2026, mo, 5, 1, tzinfo=UTC), status="held")
            s.add(m)
            s.flush()
            ids.append(m.id or 0)
        s.commit()
        for step in range(300):
            op = rnd.choice(WRITES)
            _write(s, rnd, ids, op)
            s.flush()
            # after every write: a later write to the same few meetings would mend a
            # stale row before a sparser check saw it (a score moved, say)
            assert _stored(s) == _expected(s), (step, op)
            if step % 20 == 0:
                s.commit()
                s.expire_all()
        s.commit()
        s.expire_all()
        stored = _stored(s)
        assert stored == _expected(s)
        assert any(v[1] for v in stored.values()) and any(v[3] for v in stored.values())


def test_the_cells_figures_read_the_current_scores(sample: App, engine: Engine) -> None:
    """A correction shows at once in the cell's month (score, rating, not unscored); a
    confirmation overrides it; a rolled-back revision leaves the figures as they were."""
    with Session(engine) as s:
        member, m = june_meeting(s, "held")
        cell = s.get(Organisation, member.cell_id)
        assert cell is not None
        june = month(2026, 6)

        def row() -> dict[str, object]:
            return next(r for r in cell_rows(s, cell, june) if r["cell_id"] == cell.id)

        assert row()["unscored"] == 1 and row()["score"] is None
        s.add(Score(meeting_id=m.id or 0, kind="cell", rubric_id="hd42", rubric_version="1",
                    total=72.0, rating="kha"))
        s.commit()
        assert (row()["unscored"], row()["score"], row()["r_kha"]) == (0, 72.0, 1)
        s.add(Score(meeting_id=m.id or 0, kind="confirmed", rubric_id="hd42",
                    rubric_version="1", total=91.0, rating="tot"))
        s.commit()
        assert (row()["score"], row()["rating"], row()["r_tot"], row()["r_kha"]) == \
            (91.0, "tot", 1, 0)
        s.execute(update(Score).where(Score.meeting_id == m.id, Score.kind == "confirmed")
                  .values(is_current=False))
        s.flush()
        assert row()["score"] == 72.0
        s.rollback()
        assert row()["score"] == 91.0
