"""Reminders until the documents are on Sổ tay đảng viên: before the meeting (≥ 1 day
ahead) and after it (final documents within 2 days). Each stops once /sotay recorded it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers.core.notify import send_private
from handlers.meetings.agenda import starts_at
from handlers.meetings.steps import step_handler
from handlers.records.sotay import posted_button
from models.i18n import _, use_locale
from models.meeting import Meeting, MeetingStatus
from models.member import Role, members_with_role
from models.org import Organisation
from models.records import record_of
from models.schedule import ScheduledStep
from models.settings import Settings

LEADERS = (Role.SECRETARY.value, Role.DEPUTY.value)


@step_handler("sotay_*")
def sotay_reminder(s: Session, meeting: Meeting, cell: Organisation, step: ScheduledStep,
                   now: datetime, settings: Settings) -> None:
    rec = record_of(s, meeting.id or 0)
    before = step.step == "sotay_before"
    if before and (meeting.status != MeetingStatus.PLANNED.value
                   or (rec and rec.sotay_before_at)):
        return
    if not before and (meeting.status != MeetingStatus.HELD.value
                       or (rec and rec.sotay_after_at)):
        return
    for m in members_with_role(s, org_id=cell.id or 0, roles=LEADERS):
        with use_locale(m.locale):
            text = (_("Nhắc: tài liệu buổi sinh hoạt {when} cần có trên Sổ tay đảng viên ít "
                      "nhất 1 ngày trước. Đăng xong, đồng chí ghi: /sotay truoc LINK (hoặc “đã "
                      "đăng”).") if before else
                    _("Nhắc: biên bản, nghị quyết buổi sinh hoạt {when} cần đăng lên Sổ tay "
                      "đảng viên trong 2 ngày. Đăng xong, đồng chí bấm nút dưới đây hoặc ghi: "
                      "/sotay sau LINK.")).format(when=starts_at(meeting))
            send_private(s, m, text, f"m{meeting.id}:{step.step}:{meeting.revision}:p{m.id}",
                         now=now, buttons=() if before else posted_button(meeting))
