"""The drill-down pages: bloc -> base organisation -> cell -> meeting -> member.

Rows are the workbook's (``models.reports``) with the workbook's red marks
(``handlers.year.marks``); a page adds only what a person reads beside them (names,
reasons, the score's criteria, the documents)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from handlers.views import rollup
from handlers.views.cache import by_name, cached
from handlers.year.flags import _level_text as level_label
from handlers.year.marks import below_target
from models import dieu8, reports
from models.attendance import Attendance
from models.fees import member_fees
from models.i18n import current_locale
from models.meeting import Meeting, Task
from models.member import Member
from models.org import Organisation, lineage
from models.records import DocType, latest_revision
from models.reports import Period
from models.rubric import RubricError, load_rubric
from models.score import Score, ScoreItem
from models.settings import Settings


def _rate(attended: int, due: int) -> float | None:
    return round(attended / due, 4) if due else None


def _marked(row: Any, settings: Settings) -> dict[str, Any]:
    """A report row as a dict with its rate and the workbook's two red marks."""
    out = dict(row)
    out["rate"] = _rate(row["attended"], row["due"])
    out["low"] = below_target(row["attended"], row["due"], settings)
    out["red_unexcused"] = bool(row["unexcused"])
    return out


def crumbs(session: Session, org: Organisation, top: Organisation | None) -> list[Organisation]:
    """The path from the viewer's own top organisation down to ``org`` (never above it)."""
    line = lineage(session, org)
    if top is not None and top in line:
        return line[line.index(top):]
    return [org]


def child_table(s: Session, org: Organisation, period: Period,
                settings: Settings) -> list[dict[str, Any]]:
    """One row per direct child: the workbook's "Tổ chức cơ sở" sheet at this level."""
    return [_marked(r, settings)
            for r in by_name(rollup.child_rows(s, org, period))]


def cell_table(s: Session, org: Organisation, period: Period,
               settings: Settings) -> list[dict[str, Any]]:
    """The cells under ``org``: the workbook's "Chi bộ" sheet."""
    return [_marked(r, settings) for r in cached(reports.cell_rows, s, org, period)]


def meeting_table(s: Session, cell: Organisation, period: Period,
                  settings: Settings) -> list[dict[str, Any]]:
    """The workbook's "Buổi sinh hoạt" rows of one cell."""
    out = []
    for r in cached(reports.meeting_rows, s, cell, period):
        row = _marked(r, settings)
        row["minutes"] = (round((r["ended_at"] - r["started_at"]).total_seconds() / 60)
                          if r["started_at"] and r["ended_at"] else None)
        out.append(row)
    return out


def member_table(s: Session, cell: Organisation, period: Period,
                 settings: Settings) -> list[dict[str, Any]]:
    """The workbook's "Đảng viên" rows of one cell (one cell: its names in order)."""
    return [_marked(r, settings)
            for r in by_name(cached(reports.member_rows, s, cell, period))]


@dataclass
class Criterion:
    title: str
    points: float
    max: float
    auto: bool


@dataclass
class ScoreView:
    kind: str
    total: float
    rating: str
    reason: str | None
    rubric: str
    items: list[Criterion] = field(default_factory=list)


@dataclass
class MeetingView:
    meeting: Meeting
    cell: Organisation
    attendance: list[tuple[int, str, str | None, str | None]]  # member id, name, status, why
    scores: list[ScoreView]
    documents: list[str]  # doc types with a final revision
    row: dict[str, Any] | None


def _score_view(s: Session, sc: Score, settings: Settings, thematic: bool) -> ScoreView:
    view = ScoreView(sc.kind, sc.total, sc.rating, sc.reason, sc.rubric_id)
    try:
        rubric = load_rubric(settings.rubrics_dir, sc.rubric_id)
    except (RubricError, OSError, KeyError):
        rubric = None
    en = current_locale() == "en"
    for item in s.exec(select(ScoreItem).where(ScoreItem.score_id == sc.id)
                       .order_by(ScoreItem.id)):
        title, most = item.criterion_id, 0.0
        if rubric is not None:
            try:
                c = rubric.criterion(item.criterion_id)
                title = (c.title_en or c.title) if en else c.title
                most = rubric.effective_max(c, thematic)  # thematic points moved or not
            except KeyError:
                pass
        view.items.append(Criterion(title, item.points, most, item.auto))
    return view


def meeting_view(s: Session, meeting: Meeting, settings: Settings) -> MeetingView:
    cell = s.get(Organisation, meeting.cell_id)
    assert cell is not None
    att = [(mid, name, st, why) for mid, name, st, why in s.exec(
        select(Member.id, Member.full_name, Attendance.status, Attendance.reason)
        .join(Attendance, Attendance.member_id == Member.id)
        .where(Attendance.meeting_id == meeting.id).order_by(Member.id)).all()]
    scores = [_score_view(s, sc, settings, meeting.thematic_part) for sc in s.exec(
        select(Score).where(Score.meeting_id == meeting.id, Score.is_current == True)  # noqa: E712
        .order_by(Score.kind))]
    docs = [d.value for d in (DocType.MINUTES, DocType.RESOLUTION)
            if latest_revision(s, meeting.id or 0, d.value, final=True) is not None]
    period = Period("month", (meeting.period,), meeting.period)
    row = next((r for r in meeting_table(s, cell, period, settings)
                if r["meeting_id"] == meeting.id), None)
    return MeetingView(meeting, cell, att, scores, docs, row)


@dataclass
class MemberView:
    member: Member
    cell: Organisation | None
    totals: dict[str, Any] | None
    meetings: list[tuple[Meeting, str | None, str | None]]  # meeting, status, reason
    fees: list[tuple[str, bool, int]]
    tasks: list[Task]
    flags: dieu8.Counts
    flag_level: str | None


def member_view(s: Session, member: Member, period: Period, settings: Settings) -> MemberView:
    cell = s.get(Organisation, member.cell_id) if member.cell_id else None
    totals = None
    if cell is not None:
        rows = reports.member_rows(s, cell, period, member_id=member.id)
        totals = _marked(rows[0], settings) if rows else None
    meetings = [(m, st, why) for m, st, why in s.exec(
        select(Meeting, Attendance.status, Attendance.reason)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(Attendance.member_id == member.id, Meeting.period.in_(period.months))
        .order_by(Meeting.scheduled_at)).all()]
    yr = int(period.months[-1][:4])
    fees = [(f.period, f.paid, f.amount) for f in member_fees(s, member_id=member.id or 0,
                                                               year=yr)]
    tasks = list(s.exec(select(Task).where(Task.assignee_id == member.id)
                        .order_by(Task.created_at.desc()).limit(50)))
    flags = dieu8.counts_for(s, cell, member.id or 0, period.months[-1]) if cell \
        else dieu8.Counts(0, 0)
    level = flags.level
    return MemberView(member, cell, totals, meetings, fees, tasks, flags,
                      level_label(level) if level else None)
