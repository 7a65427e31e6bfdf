"""/sotay: the secretary records that the documents went up to Sổ tay đảng viên, before
the meeting ("truoc") and after it ("sau"), with a link or "đã đăng". The bot cannot post
there; it keeps when this was recorded, and the hd42 Sổ tay criteria come from these times.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, select

from handlers.core.access import leads_cell
from handlers.core.context import Ctx, buttons
from handlers.core.labels import label
from handlers.core.router import Where, Who, callback, command
from handlers.forms.cellform import led_cell, meeting_label
from handlers.scoring.late import refresh_late
from models.audit import audit
from models.i18n import N_, _, fmt_number
from models.meeting import Meeting, MeetingStatus
from models.messages import Keyboard
from models.org import Organisation
from models.records import record_for, record_of
from models.rubric import Criterion
from models.text import as_id, fold

BEFORE = {"truoc", "before"}
AFTER = {"sau", "after"}
DONE_WORDS = {"da dang", "xong", "done", "posted"}


def tap_question(s: Session, m: Meeting, criteria: Iterable[Criterion]) -> dict[str, Any] | None:
    """What the scoring form asks with one tap instead of giving 0: nothing recorded for
    Sổ tay before the meeting, but the bot's agenda documents went out at least the
    criterion's hours ahead. None when there is nothing to ask."""
    rec = record_of(s, m.id or 0)
    if (rec is not None and rec.sotay_before_at is not None) or m.docs_posted_at is None:
        return None
    for c in criteria:
        if c.auto == "sotay_ahead" and m.docs_posted_at <= m.scheduled_at - timedelta(
                hours=c.params.get("hours", 24)):
            return {"criterion": c.id, "max": c.max, "at": m.docs_posted_at.isoformat(),
                    "hours": lead_hours(m.docs_posted_at, m)}
    return None


def record_tapped(s: Session, m: Meeting, at: datetime, by: int | None) -> None:
    """The secretary confirmed with a tap that the documents went up to Sổ tay when the
    bot sent them: recorded as /sotay truoc would, at that time."""
    rec = record_for(s, m.id or 0, m.cell_id)
    rec.sotay_before_at = at
    s.add(rec)
    audit(s, "sotay.before", "meeting", m.id, by, link=None, confirmed_in="scoring")


def lead_hours(posted: datetime, meeting: Meeting) -> int:
    return int((meeting.scheduled_at - posted).total_seconds() // 3600)


def _target(s: Session, cell_id: int, before: bool, now: datetime) -> Meeting | None:
    if before:  # the next meeting (or one that started within the last 12 hours)
        return s.exec(select(Meeting).where(
            Meeting.cell_id == cell_id, Meeting.status == MeetingStatus.PLANNED.value,
            Meeting.scheduled_at >= now - timedelta(hours=12)).order_by(Meeting.scheduled_at)
        ).first()
    return s.exec(select(Meeting).where(
        Meeting.cell_id == cell_id, Meeting.status == MeetingStatus.HELD.value,
        Meeting.scheduled_at <= now).order_by(Meeting.scheduled_at.desc())).first()


@command("sotay", "handbook", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Ghi đã đăng tài liệu lên Sổ tay đảng viên: /sotay truoc|sau LINK hoặc "
                    "“đã đăng”"))
def sotay(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    cell = led_cell(ctx)
    if cell is None:
        ctx.deny("sotay: not a leader")
        return
    usage = _("Cú pháp: /sotay truoc LINK (tài liệu trước buổi họp) hoặc /sotay sau LINK "
              "(văn bản sau buổi họp); không có link thì ghi “đã đăng”.")
    when = fold(args[0]) if args else ""
    proof = rest.split(None, 1)[1].strip() if len(args) > 1 else ""
    if when not in BEFORE | AFTER or not proof:
        ctx.reply(usage)
        return
    if not (proof.startswith(("http://", "https://")) or fold(proof) in DONE_WORDS) \
            or len(proof) > 500:
        ctx.reply(_("Đồng chí gửi đường link trên Sổ tay (https://…) hoặc “đã đăng”."))
        return
    before = when in BEFORE
    m = _target(s, cell.id or 0, before, ctx.now())
    if m is None:
        ctx.reply(_("Không có buổi sinh hoạt sắp tới để ghi.") if before
                  else _("Không có buổi sinh hoạt đã họp để ghi."))
        return
    link = proof if proof.startswith("http") else None
    if before:
        ctx.reply(record_before(ctx, m, link))
    else:
        record_after(ctx, m, cell, link)


def is_sotay_link(url: str | None) -> bool:
    """A link into Sổ tay đảng viên (a host with a "sotay" label, as sotay.dangcongsan.vn):
    an agenda document there is on Sổ tay already, and other links are not."""
    if not url:
        return False
    host = urlsplit(url.strip()).hostname or ""
    return url.strip().lower().startswith(("http://", "https://")) and "sotay" in host.split(".")


def record_before(ctx: Ctx, m: Meeting, link: str | None, by_agenda: bool = False) -> str:
    """Record the documents on Sổ tay before ``m`` now; the reply says how far ahead."""
    s = ctx.session
    rec = record_for(s, m.id or 0, m.cell_id)
    rec.sotay_before_at, rec.sotay_before_link = ctx.now(), link
    m.sotay_link = link or m.sotay_link
    s.add(m)
    s.add(rec)
    audit(s, "sotay.before", "meeting", m.id, ctx.actor.member.id if ctx.actor.member else None,
          link=link, **({"from": "agenda"} if by_agenda else {}))
    h = lead_hours(ctx.now(), m)
    # "N giờ trước buổi họp" as "N giờ sau khi kết thúc" below; never "trước 0 / -1 giờ"
    return (_("Đã ghi: tài liệu buổi {meeting} đăng lên Sổ tay {h} giờ trước buổi họp.")
            if h >= 1 else _("Đã ghi: tài liệu buổi {meeting} đăng lên Sổ tay chưa đầy 1 giờ "
                             "trước buổi họp.") if ctx.now() < m.scheduled_at else _(
        "Đã ghi: tài liệu buổi {meeting} đăng lên Sổ tay sau giờ bắt đầu buổi họp.")).format(
        meeting=meeting_label(m), h=h)


def record_after(ctx: Ctx, m: Meeting, cell: Organisation, link: str | None) -> None:
    """Record the final documents on Sổ tay now, say so, and update the score's "sent
    within 2 days" where it changes."""
    s = ctx.session
    rec = record_for(s, m.id or 0, m.cell_id)
    rec.sotay_after_at, rec.sotay_after_link = ctx.now(), link
    end = m.ended_at or m.scheduled_at
    hours = int((ctx.now() - end).total_seconds() // 3600)
    s.add(rec)
    audit(s, "sotay.after", "meeting", m.id, ctx.actor.member.id if ctx.actor.member else None,
          link=link)
    ctx.reply(_("Đã ghi: văn bản sau buổi {meeting} đăng lên Sổ tay {h} giờ sau khi kết "
                "thúc.").format(meeting=meeting_label(m), h=hours) if hours >= 1 else _(
        "Đã ghi: văn bản sau buổi {meeting} đăng lên Sổ tay chưa đầy 1 giờ sau khi kết "
        "thúc.").format(meeting=meeting_label(m)))  # not "0 giờ sau"
    s.flush()
    new = refresh_late(ctx, m, cell)  # "final documents within 2 days" is known now
    if new is not None:
        ctx.reply(_("Điểm buổi sinh hoạt tự cập nhật: {total} — {band}.").format(
            total=fmt_number(new.total), band=label(new.rating)))


def posted_button(m: Meeting) -> Keyboard:
    """One tap instead of "/sotay sau LINK" once the final documents are on Sổ tay."""
    return buttons([(_("📤 Đã đăng lên Sổ tay"), f"sts:{m.id}")])


@callback("sts", who=Who.LINKED)
def posted_pressed(ctx: Ctx, parts: list[str]) -> None:
    """The secretary says with a tap that the final documents are on Sổ tay (no link)."""
    s = ctx.session
    m = s.get(Meeting, as_id(parts[0])) if len(parts) == 1 and as_id(parts[0]) else None
    cell = s.get(Organisation, m.cell_id) if m is not None else None
    if m is None or cell is None or not leads_cell(ctx.actor, m.cell_id):
        ctx.deny("sotay button: not this cell's leader")
        return
    rec = record_of(s, m.id or 0)
    if m.status != MeetingStatus.HELD.value or (rec is not None and rec.sotay_after_at):
        ctx.refuse(_("Đã ghi trước đó; không có gì thay đổi.") if rec and rec.sotay_after_at
                   else _("Nút này không còn hiệu lực."))
        return
    record_after(ctx, m, cell, None)
