"""A meeting nobody roll-called becomes "not held": its reason asked, the level above told.

Three days after a meeting's time (the escalation step), a meeting still "planned" did
not take place as far as the store knows. It is recorded as not held (instead of staying
planned for ever), the secretary and deputy are asked for the reason privately
(``/lydo [12/2026] LÝ DO``), and the officers above are told; the reason, once given, is
passed up to them too.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from handlers.core.access import led_cells
from handlers.core.context import Ctx
from handlers.core.labels import cell_label
from handlers.core.notify import officers_above, send_private
from handlers.core.router import Where, Who, command
from handlers.forms.named import choose, lookup, meeting_ref
from handlers.meetings.agenda import starts_at
from models.audit import audit
from models.i18n import N_, _, use_locale
from models.meeting import Meeting, MeetingStatus
from models.member import Member, Role, members_with_role
from models.org import Organisation
from models.settings import Settings

LEADERS = (Role.SECRETARY.value, Role.DEPUTY.value)


def _name(s: Session, cell: Organisation) -> str:
    parent = s.get(Organisation, cell.parent_id) if cell.parent_id else None
    return cell_label(cell.name, parent.name if parent else None)


def mark_not_held(s: Session, meeting: Meeting, cell: Organisation, now: datetime,
                  settings: Settings) -> None:
    meeting.status = MeetingStatus.NOT_HELD.value
    meeting.updated_at = now
    s.add(meeting)
    audit(s, "meeting.not_held", "meeting", meeting.id, None, reason="no roll call",
          days=round(settings.cycle.escalation_after_h / 24))
    days = round(settings.cycle.escalation_after_h / 24)
    for m in members_with_role(s, org_id=cell.id or 0, roles=LEADERS):
        with use_locale(m.locale):
            text = _("Buổi sinh hoạt {when} của {cell} chưa được điểm danh sau {days} ngày nên "
                     "được ghi là KHÔNG TỔ CHỨC. Đề nghị đồng chí cho biết lý do bằng lệnh "
                     "/lydo {ref} LÝ DO (ví dụ: /lydo {ref} Trùng lịch công tác đột xuất).").format(
                when=starts_at(meeting), cell=cell.name, days=days, ref=meeting_ref(meeting))
        send_private(s, m, text, f"m{meeting.id}:notheld:{m.id}", now=now)
    for m in officers_above(s, cell):  # this is the escalation step's message to them
        with use_locale(m.locale):
            text = _("{cell} không tổ chức buổi sinh hoạt {when} (quá {days} ngày chưa điểm "
                     "danh). Đã đề nghị chi bộ báo lý do.").format(
                cell=_name(s, cell), when=starts_at(meeting), days=days)
        send_private(s, m, text, f"m{meeting.id}:escalation:{meeting.revision}:p{m.id}",
                     now=now)


def _unexplained(s: Session, cell_ids: list[int]) -> list[Meeting]:
    return list(s.exec(select(Meeting).where(
        Meeting.cell_id.in_(cell_ids), Meeting.status == MeetingStatus.NOT_HELD.value,
        Meeting.cancel_reason.is_(None), Meeting.started_at.is_(None))
        .order_by(Meeting.scheduled_at.desc())))


@command("lydo", "reason", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Báo lý do buổi sinh hoạt không tổ chức: /lydo [tháng] LÝ DO (Bí thư)"))
def reason(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    cells = led_cells(ctx.actor)
    if not cells:
        ctx.deny("reason: not a cell leader")
        return
    text = rest.strip()
    meeting: Meeting | None = None
    open_ = _unexplained(s, cells)
    tz = s.get(Organisation, cells[0]).timezone  # type: ignore[union-attr]
    look = lookup(ctx, cells, text, tz)
    if look.foreign:
        ctx.deny(f"reason for meeting {args[0]}")
        return
    if look.named and len(look.found) != 1:
        choose(ctx, cells, text, "lydo", tz, default=open_)  # asks which, or says none fits
        return
    if look.named:
        meeting, text = look.found[0], look.rest
    else:
        meeting = open_[0] if open_ else None
    if meeting is None or meeting.status != MeetingStatus.NOT_HELD.value \
            or meeting.started_at is not None:
        ctx.reply(_("Không có buổi sinh hoạt nào đang chờ báo lý do không tổ chức."))
        return
    if len(text) < 3 or len(text) > 300:
        ctx.reply(_("Đề nghị đồng chí ghi lý do (3–300 ký tự), ví dụ: /lydo {ref} Trùng lịch "
                    "công tác đột xuất.").format(ref=meeting_ref(meeting)))
        return
    meeting.cancel_reason = text
    meeting.updated_at = ctx.now()
    s.add(meeting)
    actor = ctx.actor.member
    audit(s, "meeting.not_held_reason", "meeting", meeting.id, actor.id if actor else None,
          reason=text)
    cell = s.get(Organisation, meeting.cell_id)
    assert cell is not None
    officers: list[Member] = officers_above(s, cell)
    for m in officers:
        with use_locale(m.locale):
            msg = _("{cell} báo lý do không tổ chức buổi sinh hoạt {when}: {reason}").format(
                cell=_name(s, cell), when=starts_at(meeting), reason=text)
        send_private(s, m, msg, f"m{meeting.id}:notheld_reason:{m.id}", now=ctx.now())
    ctx.reply(_("Đã ghi lý do buổi sinh hoạt {when} không tổ chức và báo cấp trên ({n} đồng "
                "chí).").format(when=starts_at(meeting), n=len(officers)))
