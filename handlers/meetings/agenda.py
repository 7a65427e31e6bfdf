"""The texts members see about a meeting: notice/agenda post, reminders, conclusion."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers.core.context import buttons
from handlers.core.labels import meeting_kind_label
from models.i18n import N_, _, fmt_date, fmt_datetime, fmt_time, fmt_weekday, to_local
from models.meeting import AgendaItem, Meeting, Task, agenda_of, previous_meeting, tasks_of
from models.member import Member
from models.messages import Keyboard
from models.org import Organisation

# The regular meeting's procedure (DOMAIN.md), used when the secretary set no items.
PROCEDURE = [
    N_("Khai mạc: nêu mục đích, giới thiệu khách mời, cử thư ký, điểm danh, tình hình đóng "
       "đảng phí, thông qua chương trình"),
    N_("Thông tin thời sự, chủ trương, chính sách mới"),
    N_("Đánh giá kết quả thực hiện nghị quyết tháng trước và nhiệm vụ của đảng viên"),
    N_("Quán triệt nhiệm vụ mới"),
    N_("Thảo luận, tự phê bình và phê bình"),
    N_("Kết luận, giao nhiệm vụ có thời hạn, biểu quyết nghị quyết, chấm điểm, thông qua "
       "biên bản"),
]


def rsvp_buttons(meeting_id: int) -> Keyboard:
    return buttons([(_("✅ Có mặt"), f"rsvp:{meeting_id}:y"),
                    (_("🚫 Vắng (báo lý do)"), f"rsvp:{meeting_id}:n")])


def when_where(meeting: Meeting) -> list[str]:
    tz = meeting.timezone
    lines = [_("🕖 Thời gian: {time}, {weekday} {date}").format(
        time=fmt_datetime(meeting.scheduled_at, tz).split()[0],
        weekday=fmt_weekday(meeting.scheduled_at, tz), date=fmt_date(meeting.scheduled_at, tz))]
    if meeting.place:
        lines.append(_("📍 Địa điểm: {place}").format(place=meeting.place))
    if meeting.online_link:
        lines.append(_("🔗 Trực tuyến: {link}").format(link=meeting.online_link))
    return lines


def title_line(meeting: Meeting, cell: Organisation) -> str:
    kind = meeting_kind_label(meeting.kind)
    if meeting.thematic_part:
        kind += _(" kết hợp chuyên đề")
    return _("{cell} — {kind} tháng {month}").format(
        cell=cell.name, kind=kind, month=f"{meeting.period[5:]}/{meeting.period[:4]}")


def open_tasks_for_review(session: Session, meeting: Meeting) -> list[Task]:
    prev = previous_meeting(session, meeting=meeting)
    return tasks_of(session, meeting_id=prev.id or 0) if prev else []


def task_line(session: Session, task: Task, tz: str) -> str:
    who = session.get(Member, task.assignee_id) if task.assignee_id else None
    mark = "✔" if task.status == "done" else "•"
    due = _(" (hạn {date})").format(date=fmt_date(task.due_date)) if task.due_date else ""
    return f"{mark} {task.description}" + (f" — {who.full_name}" if who else "") + due


def agenda_text(session: Session, meeting: Meeting, cell: Organisation,
                correction: bool = False,
                items: list[AgendaItem] | None = None) -> tuple[str, bool]:
    """The notice posted to the cell; also says whether it carries documents.
    ``items`` previews unsaved items instead of the stored ones."""
    head = _("📢 ĐÍNH CHÍNH THÔNG BÁO SINH HOẠT CHI BỘ") if correction \
        else _("📢 THÔNG BÁO SINH HOẠT CHI BỘ")
    lines = [head, title_line(meeting, cell), *when_where(meeting)]
    if meeting.topic:
        lines.append(_("Chuyên đề: {topic}").format(topic=meeting.topic))
    if items is None:
        items = agenda_of(session, meeting_id=meeting.id or 0)
    lines.append(_("Nội dung:"))
    has_docs = False
    if items:
        for i, it in enumerate(items, 1):
            line = f"{i}. {it.title}"
            if it.presenter:
                line += f" — {it.presenter}"
            if it.document_url or it.document_name:
                has_docs = True
                line += "\n   📎 " + (it.document_url or it.document_name or "")
            lines.append(line)
    else:
        lines += [f"{i}. {_(step)}" for i, step in enumerate(PROCEDURE, 1)]
    review = open_tasks_for_review(session, meeting)
    if review:
        lines.append(_("Nhiệm vụ tháng trước cần kiểm điểm:"))
        lines += [task_line(session, t, meeting.timezone) for t in review]
    lines.append(_("Đề nghị các đồng chí xác nhận tham dự bằng nút bên dưới."))
    return "\n".join(lines), has_docs


def reminder_text(meeting: Meeting, cell: Organisation, now: datetime) -> str:
    """The reminder as of ``now``, the moment it goes out (the quiet hours or a late sweep
    may move it): "hôm nay lúc 07:30" on the day itself, never "ngày mai"."""
    tz = meeting.timezone
    days = (to_local(meeting.scheduled_at, tz).date() - to_local(now, tz).date()).days
    at = fmt_time(meeting.scheduled_at, tz)
    when = _("hôm nay lúc {time}").format(time=at) if days == 0 else \
        _("ngày mai lúc {time}").format(time=at) if days == 1 else \
        _("lúc {when}").format(when=fmt_datetime(meeting.scheduled_at, tz))
    return "\n".join([
        _("🔔 Nhắc lịch: chi bộ sinh hoạt {when}.").format(when=when),
        title_line(meeting, cell), *when_where(meeting)])


def starts_at(meeting: Meeting) -> str:
    return fmt_datetime(meeting.scheduled_at, meeting.timezone)
