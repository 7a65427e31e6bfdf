"""/baotruoc: the secretary chooses when the cell's notice (agenda and RSVP) goes out —
"08:00 hai ngày trước", "7h30 hôm trước", "3 ngày trước lúc 14:00" — instead of the
deployment's fixed hours before the meeting. Pending steps of the coming meetings move
at once; quiet hours still apply."""

from __future__ import annotations

import re

from sqlmodel import select

from handlers.core.context import Ctx
from handlers.core.router import Where, Who, command
from handlers.forms.cellform import led_cell
from handlers.forms.engine import Invalid
from handlers.forms.validators import parse_time
from handlers.meetings.cycle import retime
from models.audit import audit
from models.i18n import N_, _
from models.meeting import Meeting, MeetingStatus
from models.text import fold

NUMBER_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7}
_TIME = re.compile(r"(?<!\d)(\d{1,2})\s*(?::|h|gio)\s*(\d{2})?(?:\s*phut)?(?!\d)")
_DAYS = re.compile(r"(?<![\w])(\d{1,2}|mot|hai|ba|bon|tu|nam|sau|bay)\s+ngay(?![\w])")
MAX_DAYS = 14


def parse_notice(text: str) -> tuple[int, str]:
    """(days before the meeting's date, "HH:MM") from the secretary's words."""
    f = fold(text)
    t = _TIME.search(f)
    if t is None:
        raise Invalid(_("Chưa thấy giờ gửi. Ví dụ: /baotruoc 08:00 hai ngày trước."))
    at = parse_time(t.group(0))
    rest = f[:t.start()] + " " + f[t.end():]
    if re.search(r"hom truoc|ngay truoc do|hom qua", rest) and not _DAYS.search(rest):
        days = 1
    else:
        d = _DAYS.search(rest)
        if d is None:
            raise Invalid(_("Chưa thấy số ngày. Ví dụ: /baotruoc 08:00 hai ngày trước, hoặc "
                            "/baotruoc 07:30 hôm trước."))
        days = int(d.group(1)) if d.group(1).isdigit() else NUMBER_WORDS[d.group(1)]
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(_("Số ngày báo trước phải từ 1 đến {n}.").format(n=MAX_DAYS))
    return days, f"{at.hour:02d}:{at.minute:02d}"


@command("baotruoc", "notice", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Chọn ngày, giờ gửi thông báo sinh hoạt: /baotruoc 08:00 hai ngày trước "
                    "(Bí thư)"))
def set_notice(ctx: Ctx, args: list[str], rest: str) -> None:
    cell = led_cell(ctx)
    if cell is None:
        ctx.deny("notice: not a cell leader")
        return
    if not rest:
        now = _("{t}, {d} ngày trước ngày họp").format(t=cell.notice_time, d=cell.notice_days) \
            if cell.notice_time else _("trước giờ họp {h} giờ").format(
                h=int(ctx.settings.cycle.agenda_post_before_h))
        ctx.reply(_("Thông báo sinh hoạt hiện gửi lúc: {now}. Đổi: /baotruoc 08:00 hai ngày "
                    "trước.").format(now=now))
        return
    try:
        days, at = parse_notice(rest)
    except Invalid as exc:
        ctx.reply("⚠️ " + str(exc))
        return
    s = ctx.session
    cell.notice_days, cell.notice_time = days, at
    s.add(cell)
    s.flush()
    moved = 0
    for m in s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                          Meeting.status == MeetingStatus.PLANNED.value,
                                          Meeting.scheduled_at > ctx.now())):
        moved += retime(s, m, ctx.settings.cycle)
    audit(s, "cell.notice", "organisation", cell.id,
          ctx.actor.member.id if ctx.actor.member else None, days=days, at=at)
    ctx.reply(_("Đã đặt: thông báo sinh hoạt gửi lúc {at}, {days} ngày trước ngày họp (trừ "
                "giờ nghỉ đêm {quiet}). Các buổi sắp tới đã theo lịch mới.").format(
        at=at, days=days, quiet=ctx.settings.cycle.quiet_hours or "—"))
