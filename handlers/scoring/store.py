"""A meeting's stored scores: the current revision, the correction window, a new revision;
the rubric's titles in the reader's language."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from handlers.core.context import Ctx
from handlers.scoring.autoscore import is_thematic
from models.i18n import current_locale
from models.meeting import Meeting
from models.org import Organisation
from models.rubric import Group, Rubric, load_rubric
from models.score import Score, ScoreItem, ScoreKind

Data = dict[str, Any]


def rubric_for(ctx: Ctx, cell: Organisation) -> Rubric:
    return load_rubric(ctx.settings.rubrics_dir, cell.rubric_id or ctx.settings.rubric)


def current_score(s: Session, meeting_id: int, kind: str = ScoreKind.CELL.value) -> Score | None:
    return s.exec(select(Score).where(Score.meeting_id == meeting_id, Score.kind == kind,
                                      Score.is_current == True)).first()  # noqa: E712


def first_score(s: Session, meeting_id: int) -> Score | None:
    return s.exec(select(Score).where(Score.meeting_id == meeting_id,
                                      Score.kind == ScoreKind.CELL.value)
                  .order_by(Score.revision)).first()


def correction_open(ctx: Ctx, meeting: Meeting) -> bool:
    window = timedelta(days=ctx.settings.cycle.correction_window_days)
    first = first_score(ctx.session, meeting.id or 0)
    if first is None:
        return True
    if ctx.now() <= first.submitted_at + window:
        return True
    return meeting.score_reopened_at is not None and \
        ctx.now() <= meeting.score_reopened_at + window


def gtitle(g: Group) -> str:
    return g.title_en if current_locale() == "en" and g.title_en else g.title


def ctitle(c: Any) -> str:
    return c.title_en if current_locale() == "en" and c.title_en else c.title



def save_score(s: Session, m: Meeting, rubric: Rubric, pts: dict[str, float], auto: set[str],
               *, kind: str, by: int | None, now: datetime, reason: str | None) -> Score:
    """A new current revision of the meeting's score of ``kind``; the old stays, not current."""
    total, band = rubric.rate(pts, is_thematic(m))
    old = current_score(s, m.id or 0, kind)
    revision = 1
    if old is not None:
        old.is_current = False
        s.add(old)
        revision = old.revision + 1
    score = Score(meeting_id=m.id or 0, kind=kind, revision=revision, rubric_id=rubric.id,
                  rubric_version=rubric.version, total=total, rating=band, submitted_by=by,
                  submitted_at=now, reason=reason)
    s.add(score)
    s.flush()
    for cid, p in pts.items():
        s.add(ScoreItem(score_id=score.id or 0, criterion_id=cid, points=p, auto=cid in auto))
    return score


