"""Criteria the bot computes from what it recorded, instead of asking (DOMAIN.md "(auto)").

Each returns points and a short note saying where they came from; ``None`` points means
the data is missing and the secretary is asked instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from models import streaks
from models.attendance import ATTENDED, Attendance, Presence
from models.i18n import _, fmt_datetime, fmt_number, fmt_percent
from models.meeting import Meeting, MeetingKind, TaskStatus, previous_meeting, tasks_of
from models.member import Role, members_with_role
from models.org import Organisation
from models.outbox import OutboxMessage, OutboxStatus
from models.records import (
    RecordStatus,
    committee_of,
    conclusions_of,
    opinions_of,
    record_of,
)
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
    bonus = c.params.get("streak_bonus", 0)
    cell = s.get(Organisation, m.cell_id)
    year = int(m.period[:4])
    runs = streaks.long_runs(s, cell, year, m.scheduled_at, limit) \
        if bonus and cell is not None else []
    if bonus and cell is not None and not runs:
        points += bonus
        why.append(_("+{b} vì không đảng viên nào vắng quá {n} buổi liên tiếp").format(
            b=fmt_number(bonus), n=limit))
    elif runs:
        # HD 42 says "trong năm": the bot reads it as the calendar year so far, so a run
        # once longer than the limit costs the bonus until December; the note says so.
        why.append(_("không +{b}: đồng chí {name} đã vắng {r} buổi liên tiếp (kể cả có lý do) "
                     "trong năm {y}; bot hiểu “trong năm” là năm dương lịch tính từ 01/01, "
                     "nên điểm thưởng mất đến hết năm {y}").format(
            b=fmt_number(bonus), name=runs[0]["name"], r=runs[0]["run"], y=year))
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
    # One source: the minutes' named speakers when the minutes hold opinions, else the
    # count the roll call recorded; the note says which.
    named = len({o.member_id for o in opinions_of(s, m.id or 0) if o.member_id})
    count = named or m.speakers_count
    if count is None or not attended:
        return Auto(None, _("chưa ghi số người phát biểu"))
    share = count / attended
    source = _("theo biên bản") if named else _("theo điểm danh")
    return Auto(min(_at_least(c.steps, share * 100), c.max),
                _("{n}/{a} người phát biểu ({share}, {source})").format(
                    n=count, a=attended, share=fmt_percent(share), source=source))


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


# -- from the meeting's records: minutes, chi ủy meeting, Sổ tay (issue 11) -----------
# A criterion whose records were never kept on the bot (no minutes captured) answers
# ``None``: the secretary is asked, as before. Kept but incomplete records give 0.
def committee_met(s: Session, m: Meeting, c: Criterion) -> Auto:
    if not members_with_role(s, org_id=m.cell_id, roles=(Role.DEPUTY.value,
                                                         Role.COMMITTEE.value)):
        return Auto(c.max, _("chi bộ không có chi ủy: tính đủ điểm"))
    cm = committee_of(s, m.id or 0)
    if cm is None:
        return Auto(None, _("chưa ghi họp chi ủy (/hopchiuy)"))
    if cm.held_at > m.scheduled_at:
        return Auto(0.0, _("chi ủy họp sau buổi sinh hoạt"))
    return Auto(c.max, _("chi ủy họp {when}, có biên bản").format(
        when=fmt_datetime(cm.held_at, m.timezone)))


def minutes_full(s: Session, m: Meeting, c: Criterion) -> Auto:
    rec = record_of(s, m.id or 0)
    if rec is None or rec.captured_at is None:
        return Auto(None, _("chưa ghi biên bản trên bot (/ghibienban)"))
    n = len(opinions_of(s, m.id or 0))
    gaps = [g for g, ok in ((_("ý kiến phát biểu"), n > 0),
                            (_("kết luận"), bool(conclusions_of(s, m.id or 0))),
                            (_("biểu quyết"), rec.vote_agree is not None),
                            (_("xác nhận"), rec.status == RecordStatus.FINAL.value)) if not ok]
    if gaps:
        return Auto(0.0, _("biên bản còn thiếu: {gaps}").format(gaps=", ".join(gaps)))
    return Auto(c.max, _("biên bản đủ: {n} ý kiến, kết luận, biểu quyết, đã xác nhận").format(
        n=n))


def resolution_adopted(s: Session, m: Meeting, c: Criterion) -> Auto:
    rec = record_of(s, m.id or 0)
    if rec is None or rec.vote_agree is None:
        return Auto(None, _("chưa ghi biểu quyết"))
    present = s.exec(select(func.count()).select_from(Attendance).where(
        Attendance.meeting_id == m.id, Attendance.status.in_(ATTENDED))).one()
    ok = rec.vote_agree * 2 > present and bool(conclusions_of(s, m.id or 0))
    return Auto(c.max if ok else 0.0, _("tán thành {a}/{p}").format(a=rec.vote_agree,
                                                                     p=present))


def minutes_approved(s: Session, m: Meeting, c: Criterion) -> Auto:
    """Minutes approved (confirmed); the tasks are assigned in the scoring form itself."""
    rec = record_of(s, m.id or 0)
    if rec is None or rec.captured_at is None:
        return Auto(None, _("chưa ghi biên bản trên bot (/ghibienban)"))
    final = rec.status == RecordStatus.FINAL.value
    return Auto(c.max if final else 0.0, _("biên bản {state}").format(
        state=_("đã xác nhận") if final else _("chưa xác nhận")))


def shared_in_time(s: Session, m: Meeting, c: Criterion) -> Auto:
    rec = record_of(s, m.id or 0)
    hours = c.params.get("hours", 48)
    end = m.ended_at or m.scheduled_at
    if rec is None or (rec.sent_at is None and rec.sotay_after_at is None):
        # Known only once the conclusion goes out, after the score: 0 for now, and
        # handlers/scoring/late.py recomputes it then (never typed by the secretary).
        return Auto(0.0, _("chưa gửi văn bản kết luận; bot tự tính lại khi gửi (trong {h} "
                           "giờ sau buổi họp)").format(h=int(hours)))
    sent = rec.sent_at is not None and rec.sent_at <= end + timedelta(hours=hours)
    posted = rec.sotay_after_at is not None and \
        rec.sotay_after_at <= end + timedelta(hours=hours)
    note = _("bot gửi nghị quyết: {a}; đăng Sổ tay: {b}").format(
        a=fmt_datetime(rec.sent_at, m.timezone) if rec.sent_at else "—",
        b=fmt_datetime(rec.sotay_after_at, m.timezone) if rec.sotay_after_at else "—")
    return Auto(c.max if sent and posted else 0.0, note)


def sotay_ahead(s: Session, m: Meeting, c: Criterion) -> Auto:
    """Documents on Sổ tay at least ``hours`` ahead, from the time the secretary recorded
    it (/sotay truoc); the note gives the real lead time."""
    rec = record_of(s, m.id or 0)
    need = c.params.get("hours", 24)
    if rec is None or rec.sotay_before_at is None:
        return Auto(0.0, _("chưa ghi đăng tài liệu lên Sổ tay trước buổi họp"))
    lead = int((m.scheduled_at - rec.sotay_before_at).total_seconds() // 3600)
    note = _("đăng trước {h} giờ").format(h=max(lead, 0))
    return Auto(c.max if lead >= need else 0.0, note)


def sotay_on_app(s: Session, m: Meeting, c: Criterion) -> Auto:
    rec = record_of(s, m.id or 0)
    if rec is None or (rec.sotay_before_at is None and rec.sotay_after_at is None):
        return Auto(None, _("chưa ghi tài liệu trên Sổ tay (/sotay)"))
    return Auto(c.max, _("tài liệu có trên Sổ tay"))


CALCULATORS.update({
    "committee_met": committee_met, "minutes_full": minutes_full,
    "resolution_adopted": resolution_adopted, "minutes_approved": minutes_approved,
    "shared_in_time": shared_in_time, "sotay_ahead": sotay_ahead,
    "sotay_on_app": sotay_on_app,
})


def apply_overrides(s: Session, m: Meeting, out: dict[str, Auto]) -> None:
    """A secretary's override of a computed value (/dieuchinh), with its reason, wins."""
    rec = record_of(s, m.id or 0)
    for cid, (points, reason, _by) in (rec.overrides if rec else {}).items():
        if cid in out:
            out[cid] = Auto(float(points), _("đã điều chỉnh: {reason} (bot tính: {was})").format(
                reason=reason, was="—" if out[cid].points is None else out[cid].points))


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
    apply_overrides(s, m, out)
    return out


def tasks_share_points(c: Criterion, percent: float) -> float:
    return min(_at_least(c.steps, percent), c.max)
