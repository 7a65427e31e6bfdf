"""What each cycle step sends. Outbox keys: m<meeting>:<step>:<revision>:<target>."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, or_
from sqlmodel import Session, select

from handlers.core.context import buttons
from handlers.core.notify import group_targets, officers_above, send_group, send_private
from handlers.forms.named import meeting_ref
from handlers.meetings import notheld
from handlers.meetings.agenda import agenda_text, reminder_text, rsvp_buttons, starts_at, title_line
from handlers.meetings.schedule_rules import quarter_months
from handlers.meetings.steps import step_handler
from handlers.onboarding.reachability import report_unreachable
from models.attendance import Attendance, Rsvp
from models.i18n import _, use_locale
from models.meeting import Meeting, MeetingKind, MeetingStatus, agenda_files, agenda_of
from models.member import Member, Role, due_members, members_with_role
from models.messages import Attachment
from models.org import Organisation
from models.schedule import ScheduledStep
from models.score import Score
from models.settings import Settings

log = logging.getLogger(__name__)

LEADERS = (Role.SECRETARY.value, Role.DEPUTY.value)
COMMITTEE = (Role.SECRETARY.value, Role.DEPUTY.value, Role.COMMITTEE.value)


def _key(meeting: Meeting, step: ScheduledStep, target: str) -> str:
    return f"m{meeting.id}:{step.step}:{meeting.revision}:{target}"


def _to_members(s: Session, members: list[Member], meeting: Meeting, step: ScheduledStep,
                now: datetime, text_fn, kb_fn=None) -> list[Member]:  # type: ignore[no-untyped-def]
    """Private message to each member, in their language; returns the unreachable ones."""
    unreachable = []
    for m in members:
        with use_locale(m.locale):
            ok = send_private(s, m, text_fn(), _key(meeting, step, f"p{m.id}"), now=now,
                              buttons=kb_fn() if kb_fn else ())
        if not ok:
            unreachable.append(m)
    return unreachable


@step_handler("committee")
def committee(s: Session, meeting: Meeting, cell: Organisation, step: ScheduledStep,
              now: datetime, settings: Settings) -> None:
    members = members_with_role(s, org_id=cell.id or 0, roles=COMMITTEE)
    missed = _to_members(s, members, meeting, step, now, lambda: _(
        "Đề nghị chi ủy họp thống nhất nội dung sinh hoạt: {title}, dự kiến {when}. Sau khi "
        "thống nhất, đồng chí Bí thư ghi kết quả họp chi ủy (/hopchiuy {ref}) và nhập chương "
        "trình bằng lệnh /chuongtrinh.").format(ref=meeting_ref(meeting),
        title=title_line(meeting, cell), when=starts_at(meeting)),
        lambda: buttons([(_("📝 Ghi kết quả họp chi ủy"), f"hcu:{meeting.id}")],
                        [(_("📝 Nhập chương trình"), f"ag:{meeting.id}")]))
    for m in missed:
        log.info("committee reminder: %s has no private chat with the bot", m.full_name)


@step_handler("agenda_request")
def agenda_request(s: Session, meeting: Meeting, cell: Organisation, step: ScheduledStep,
                   now: datetime, settings: Settings) -> None:
    if agenda_of(s, meeting_id=meeting.id or 0):
        return  # the secretary already set it
    leaders = members_with_role(s, org_id=cell.id or 0, roles=LEADERS)
    _to_members(s, leaders, meeting, step, now, lambda: _(
        "Chưa có chương trình cho buổi sinh hoạt {when}. Đồng chí nhập nội dung, người trình "
        "bày, tài liệu và địa điểm để bot đăng lên nhóm chi bộ.").format(
        when=starts_at(meeting)), lambda: buttons([(_("📝 Nhập chương trình"),
                                                    f"ag:{meeting.id}")]))


def post_agenda(s: Session, meeting: Meeting, cell: Organisation, now: datetime,
                key_base: str, correction: bool = False) -> None:
    """Post the notice to the cell's groups, or to each member when the cell has none;
    the assigned upper-level committee members get it privately."""
    with use_locale(cell.locale):
        text, has_docs = agenda_text(s, meeting, cell, correction)
        kb = rsvp_buttons(meeting.id or 0)
    sent = send_group(s, cell.id or 0, text, f"{key_base}:g", now=now, buttons=kb)
    files = agenda_files(s, meeting_id=meeting.id or 0)
    # One key per file and chat: a repeated sweep or restart never posts a file twice.
    for doc in files:
        send_group(s, cell.id or 0, doc.filename, f"m{meeting.id}:file{doc.id}:g", now=now,
                   attachment=Attachment(doc.filename, b"", file_id=doc.id))
    members = due_members(s, cell_id=cell.id or 0)
    followers = members_with_role(s, org_id=cell.id or 0, roles=(Role.FOLLOWER.value,))
    missed = []
    for m in followers if sent else members + followers:
        with use_locale(m.locale):
            t, _docs = agenda_text(s, meeting, cell, correction)
            follower = m in followers
            if not send_private(s, m, t, f"{key_base}:{'f' if follower else 'p'}{m.id}",
                                now=now, buttons=() if follower else
                                rsvp_buttons(meeting.id or 0)) and not follower:
                missed.append(m)
        for doc in files:
            send_private(s, m, doc.filename, f"m{meeting.id}:file{doc.id}:p{m.id}", now=now,
                         attachment=Attachment(doc.filename, b"", file_id=doc.id))
    report_unreachable(s, meeting, cell, missed, now)
    meeting.agenda_posted_rev = meeting.agenda_rev
    if has_docs and meeting.docs_posted_at is None:
        meeting.docs_posted_at = now
    s.add(meeting)


@step_handler("agenda_post")
def agenda_post(s: Session, meeting: Meeting, cell: Organisation, step: ScheduledStep,
                now: datetime, settings: Settings) -> None:
    post_agenda(s, meeting, cell, now, f"m{meeting.id}:agenda:{meeting.revision}."
                f"{meeting.agenda_rev}")


@step_handler("remind_*")
def remind(s: Session, meeting: Meeting, cell: Organisation, step: ScheduledStep,
           now: datetime, settings: Settings) -> None:
    said_no = set(s.exec(select(Attendance.member_id).where(
        Attendance.meeting_id == meeting.id, Attendance.rsvp == Rsvp.NO.value)))
    if meeting.kind == MeetingKind.COMMITTEE.value:
        members = members_with_role(s, org_id=cell.id or 0, roles=COMMITTEE)
    else:
        members = [m for m in due_members(s, cell_id=cell.id or 0) if m.id not in said_no]
    unreachable = _to_members(s, members, meeting, step, now,
                              lambda: reminder_text(meeting, cell, now),
                              lambda: rsvp_buttons(meeting.id or 0))
    if unreachable:
        # Members who never opened a private chat with the bot are reminded in the group.
        with use_locale(cell.locale):
            text = reminder_text(meeting, cell, now) + "\n" + _(
                "Kính nhắc các đồng chí: {names}.").format(
                names=", ".join(m.full_name for m in unreachable))
        if not send_group(s, cell.id or 0, text, _key(meeting, step, "g"), now=now,
                          buttons=rsvp_buttons(meeting.id or 0)):
            report_unreachable(s, meeting, cell, unreachable, now)


@step_handler("rollcall")
def rollcall(s: Session, meeting: Meeting, cell: Organisation, step: ScheduledStep,
             now: datetime, settings: Settings) -> None:
    if meeting.status != MeetingStatus.PLANNED.value:
        return
    leaders = members_with_role(s, org_id=cell.id or 0, roles=LEADERS)
    _to_members(s, leaders, meeting, step, now, lambda: _(
        "Đến giờ sinh hoạt chi bộ ({when}). Khi họp xong, đồng chí bấm nút để ghi giờ bắt đầu, "
        "kết thúc và điểm danh (đã điền sẵn theo đăng ký của đảng viên).").format(
        when=starts_at(meeting)), lambda: buttons([(_("📋 Điểm danh"), f"rc:{meeting.id}")]))


def has_cell_score(s: Session, meeting: Meeting) -> bool:
    return s.exec(select(Score.id).where(Score.meeting_id == meeting.id,
                                         Score.kind == "cell")).first() is not None


@step_handler("scoring")
def scoring(s: Session, meeting: Meeting, cell: Organisation, step: ScheduledStep,
            now: datetime, settings: Settings) -> None:
    if meeting.status not in (MeetingStatus.PLANNED.value, MeetingStatus.HELD.value) \
            or has_cell_score(s, meeting):
        return
    leaders = members_with_role(s, org_id=cell.id or 0, roles=LEADERS)
    if meeting.status == MeetingStatus.PLANNED.value:
        _to_members(s, leaders, meeting, step, now, lambda: _(
            "Buổi sinh hoạt {when} chưa được điểm danh. Đồng chí điểm danh trước, sau đó chấm "
            "điểm chất lượng buổi sinh hoạt.").format(when=starts_at(meeting)),
            lambda: buttons([(_("📋 Điểm danh"), f"rc:{meeting.id}")]))
        return
    _to_members(s, leaders, meeting, step, now, lambda: _(
        "Đề nghị đồng chí chấm điểm chất lượng buổi sinh hoạt {when} theo tiêu chí của cấp "
        "trên và ghi kết luận, nhiệm vụ.").format(when=starts_at(meeting)),
        lambda: buttons([(_("📝 Chấm điểm"), f"sc:{meeting.id}")]))


@step_handler("escalation")
def escalation(s: Session, meeting: Meeting, cell: Organisation, step: ScheduledStep,
               now: datetime, settings: Settings) -> None:
    if meeting.status == MeetingStatus.PLANNED.value:  # never roll-called: not held
        notheld.mark_not_held(s, meeting, cell, now, settings)
        return
    if meeting.status in (MeetingStatus.CANCELLED.value, MeetingStatus.NOT_HELD.value) \
            or has_cell_score(s, meeting):
        return
    _to_members(s, officers_above(s, cell), meeting, step, now, lambda: _(
        "{cell} chưa báo cáo điểm buổi sinh hoạt {when} (đã quá {days} ngày).").format(
        cell=cell.name, when=starts_at(meeting), days=round(settings.cycle.escalation_after_h
                                                            / 24)))


@step_handler("thematic_check")
def thematic_check(s: Session, meeting: Meeting, cell: Organisation, step: ScheduledStep,
                   now: datetime, settings: Settings) -> None:
    if has_thematic(s, cell.id or 0, meeting.period):
        return
    leaders = members_with_role(s, org_id=cell.id or 0, roles=LEADERS)
    q = (int(meeting.period[5:7]) - 1) // 3 + 1
    _to_members(s, leaders, meeting, step, now, lambda: _(
        "Chi bộ chưa có buổi sinh hoạt chuyên đề nào trong quý {q}/{y}. Đồng chí dùng "
        "/themhop để thêm buổi chuyên đề, hoặc /chuongtrinh để kết hợp chuyên đề vào buổi "
        "sinh hoạt thường kỳ.").format(q=q, y=meeting.period[:4]))


@cache
def _thematic_stmt() -> Any:
    return select(Meeting.id).where(
        Meeting.cell_id == bindparam("cell_id"),
        Meeting.period.in_(bindparam("months", expanding=True)),
        Meeting.status != MeetingStatus.CANCELLED.value,
        or_(Meeting.kind == MeetingKind.THEMATIC.value,
            Meeting.thematic_part == True)).limit(1)  # noqa: E712


def has_thematic(s: Session, cell_id: int, period: str) -> bool:
    """A thematic meeting (or a regular one with a thematic part) in the quarter."""
    return s.execute(_thematic_stmt(), {"cell_id": cell_id,
                                        "months": list(quarter_months(period))}).first() \
        is not None


def has_group(s: Session, cell_id: int) -> bool:
    return bool(group_targets(s, cell_id))
