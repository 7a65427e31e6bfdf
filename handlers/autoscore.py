"""Criteria the bot computes from what it recorded, instead of asking (DOMAIN.md "(auto)").

Each returns points and a short note saying where they came from; ``None`` points means
the data is missing and the secretary is asked instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from bot.i18n import _, fmt_number, fmt_percent
from models.attendance import ATTENDED, Attendance, Presence, absence_stats
from models.meeting import Meeting, MeetingKind, TaskStatus, previous_meeting, tasks_of
from models.member import Role, members_with_role
from models.outbox import OutboxMessage, OutboxStatus
from models.rubric import Criterion, Rubric


@dataclass(frozen=True)
class Auto:
    points: float | None
    note: str


def is_thematic(m: Meeting) -> bool:
    return m.kind == MeetingKind.THEMATIC.value or m.thematic_part


def _at_least(steps: list[tuple[float, float]], value: float) -> float:
    for threshold, points in steps:
        if value >= threshold:
            return points
    return steps[-1][1] if steps else 0.0


def duration(s: Session, m: Meeting, c: Criterion) -> Auto:
    if m.started_at is None or m.ended_at is None:
        return Auto(None, _("chưa ghi giờ bắt đầu/kết thúc"))
    minutes = (m.ended_at - m.started_at).total_seconds() / 60
    need = c.params.get("min_minutes_thematic" if is_thematic(m) else "min_minutes", 90)
    short = max(0.0, need - minutes)
    points = None
    for limit, pts in c.steps:  # shortfall at most ``limit`` minutes
        if short <= limit:
            points = pts
            break
    if points is None:
        points = 2.0 if minutes >= need / 2 else 1.0
    return Auto(min(points, c.max), _("{m} phút / yêu cầu {n} phút").format(
        m=round(minutes), n=round(need)))


def attendance(s: Session, m: Meeting, c: Criterion) -> Auto:
    rows = list(s.exec(select(Attendance.status).where(
        Attendance.meeting_id == m.id, Attendance.status.is_not(None),
        Attendance.status != Presence.EXEMPTED.value)))
    due = len(rows)
    if not due:
        return Auto(None, _("chưa điểm danh"))
    attended = sum(1 for st in rows if st in ATTENDED)
    unexcused = sum(1 for st in rows if st == Presence.UNEXCUSED.value)
    rate = attended / due
    points = _at_least(c.steps, rate * 100)
    why: list[str] = []
    cap = c.params.get("unexcused_cap", 1)
    if unexcused and points > cap:
        points = cap
        why.append(_("có vắng không lý do nên tối đa {cap}").format(cap=fmt_number(cap)))
    limit = int(c.params.get("streak_limit", 3))
    member_ids = list(s.exec(select(Attendance.member_id).where(Attendance.meeting_id == m.id)))
    year = int(m.period[:4])
    long_run = any(absence_stats(s, member_id=mid, year=year, upto=m.scheduled_at)[1] > limit
                   for mid in member_ids)
    bonus = c.params.get("streak_bonus", 0)
    if not long_run and bonus:
        points += bonus
        why.append(_("+{b} vì không đảng viên nào vắng quá {n} buổi liên tiếp").format(
            b=fmt_number(bonus), n=limit))
    note = _("có mặt {a}/{d} ({rate}), vắng không lý do {u}").format(
        a=attended, d=due, rate=fmt_percent(rate), u=unexcused)
    return Auto(min(points, c.max), "; ".join([note, *why]))


def _hours_before(m: Meeting, at: datetime) -> int:
    """Whole hours from ``at`` to the meeting's start (the real lead time shown)."""
    return int((m.scheduled_at - at).total_seconds() // 3600)


def notice_sent(s: Session, m: Meeting, c: Criterion) -> Auto:
    first = s.exec(select(func.min(OutboxMessage.sent_at)).where(
        OutboxMessage.idempotency_key.startswith(f"m{m.id}:agenda:"),
        OutboxMessage.status == OutboxStatus.SENT.value,
        OutboxMessage.sent_at <= m.scheduled_at)).one()
    if first is None:
        return Auto(0.0, _("chưa gửi thông báo trước buổi họp"))
    return Auto(c.max, _("bot đã gửi thông báo trước {h} giờ").format(
        h=_hours_before(m, first)))


def documents_ahead(s: Session, m: Meeting, c: Criterion) -> Auto:
    hours = c.params.get("hours", 24)
    if m.docs_posted_at is None:
        return Auto(0.0, _("không có tài liệu đăng trước buổi họp (yêu cầu {h} giờ)").format(
            h=int(hours)))
    lead = _hours_before(m, m.docs_posted_at)
    if m.docs_posted_at <= m.scheduled_at - timedelta(hours=hours):
        return Auto(c.max, _("đăng trước {lead} giờ / yêu cầu {h}").format(
            lead=lead, h=int(hours)))
    return Auto(0.0, _("đăng trước {lead} giờ, chưa đủ {h} giờ").format(
        lead=lead, h=int(hours)))


def speakers(s: Session, m: Meeting, c: Criterion) -> Auto:
    attended = s.exec(select(func.count()).select_from(Attendance).where(
        Attendance.meeting_id == m.id, Attendance.status.in_(ATTENDED))).one()
    if m.speakers_count is None or not attended:
        return Auto(None, _("chưa ghi số người phát biểu"))
    share = m.speakers_count / attended
    return Auto(min(_at_least(c.steps, share * 100), c.max),
                _("{n}/{a} người phát biểu ({share})").format(
                    n=m.speakers_count, a=attended, share=fmt_percent(share)))


def tasks_done(s: Session, m: Meeting, c: Criterion) -> Auto:
    prev = previous_meeting(s, meeting=m)
    tasks = tasks_of(s, meeting_id=prev.id or 0) if prev else []
    tasks = [t for t in tasks if t.status != TaskStatus.DROPPED.value]
    if not tasks:
        return Auto(None, _("tháng trước không có nhiệm vụ được ghi"))
    done = sum(1 for t in tasks if t.status == TaskStatus.DONE.value)
    share = done / len(tasks)
    return Auto(min(_at_least(c.steps, share * 100), c.max),
                _("hoàn thành {d}/{n} nhiệm vụ ({share})").format(
                    d=done, n=len(tasks), share=fmt_percent(share)))


CALCULATORS = {"duration": duration, "attendance": attendance, "notice_sent": notice_sent,
               "documents_ahead": documents_ahead, "speakers": speakers,
               "tasks_done": tasks_done}


def compute(s: Session, rubric: Rubric, m: Meeting) -> dict[str, Auto]:
    """Auto points for every criterion the bot can decide for this meeting."""
    out: dict[str, Auto] = {}
    no_committee = not members_with_role(s, org_id=m.cell_id,
                                         roles=(Role.DEPUTY.value, Role.COMMITTEE.value))
    thematic = is_thematic(m)
    for c in rubric.criteria():
        if c.only_if == "thematic" and not thematic:
            out[c.id] = Auto(0.0, _("tháng không có chuyên đề: điểm chuyển sang nội dung "
                                    "thường kỳ"))
        elif c.auto:
            out[c.id] = CALCULATORS[c.auto](s, m, c)
        elif c.full_without_committee and no_committee:
            out[c.id] = Auto(rubric.effective_max(c, thematic),
                             _("chi bộ không có chi ủy: tính đủ điểm"))
    return out


def tasks_share_points(c: Criterion, percent: float) -> float:
    return min(_at_least(c.steps, percent), c.max)
