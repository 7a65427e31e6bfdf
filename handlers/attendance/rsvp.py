"""RSVP before a meeting: members say they will come, or why they will be absent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from handlers.attendance.tally import update_tally
from handlers.core.context import Ctx
from handlers.core.router import Where, Who, callback, command, text_fallback
from handlers.forms import engine as forms
from handlers.forms.engine import Choice, Form, Step
from handlers.forms.validators import parse_text
from models.attendance import Attendance, Rsvp
from models.i18n import N_, _, fmt_datetime
from models.meeting import Meeting, MeetingStatus, upcoming
from models.text import as_id, fold

# Typed answers in the group are read for the next meeting when it is this close (the
# notice goes out at most a few days ahead); otherwise a "có mặt" is just conversation.
RSVP_OPEN = timedelta(days=7)

Data = dict[str, Any]


def attendance_row(s: Session, meeting_id: int, member_id: int) -> Attendance:
    row = s.exec(select(Attendance).where(Attendance.meeting_id == meeting_id,
                                          Attendance.member_id == member_id)).first()
    return row or Attendance(meeting_id=meeting_id, member_id=member_id)



# -- RSVP -----------------------------------------------------------------------------
def _rsvp_meeting(ctx: Ctx, meeting_id: int | None) -> Meeting | None:
    """The meeting a member may still answer for, or None (with the reason sent)."""
    m = ctx.actor.member
    assert m is not None
    group_cell = ctx.bound_cell() if ctx.in_group else None
    # A group not (yet) known, e.g. a supergroup whose upgrade the bot has not heard of,
    # takes the member's own RSVP for their own cell; another cell's group does not.
    if ctx.in_group and group_cell is not None and group_cell.id != m.cell_id:
        ctx.deny("RSVP in another cell's group")
        return None
    meeting = ctx.session.get(Meeting, meeting_id) if meeting_id else None
    if meeting_id is None:
        nxt = upcoming(ctx.session, cell_id=m.cell_id or 0, now=ctx.now(), limit=1)
        meeting = nxt[0] if nxt else None
    if meeting is None or meeting.cell_id != m.cell_id:
        ctx.reply(_("Không có buổi sinh hoạt nào của chi bộ đồng chí để đăng ký."),
                  toast=True)
        return None
    if meeting.status != MeetingStatus.PLANNED.value or ctx.now() > meeting.scheduled_at:
        ctx.reply(_("Buổi sinh hoạt này đã bắt đầu hoặc đã kết thúc; việc đăng ký đã đóng."),
                  toast=True)
        return None
    if not m.due_to_attend:
        ctx.reply(_("Đồng chí đang được miễn sinh hoạt hoặc tạm vắng, không cần đăng ký."),
                  toast=True)
        return None
    return meeting


def record_rsvp(ctx: Ctx, meeting: Meeting, yes: bool, reason: str | None = None) -> None:
    m = ctx.actor.member
    assert m is not None
    row = attendance_row(ctx.session, meeting.id or 0, m.id or 0)
    row.rsvp = Rsvp.YES.value if yes else Rsvp.NO.value
    row.rsvp_reason = None if yes else reason
    row.rsvp_at = ctx.now()
    ctx.session.add(row)


@callback("rsvp", who=Who.LINKED)
def rsvp_button(ctx: Ctx, parts: list[str]) -> None:
    meeting_id = as_id(parts[0]) if len(parts) == 2 else None
    if meeting_id is None or parts[1] not in ("y", "n"):
        ctx.reply(_("Nút này không còn hiệu lực."))
        return
    meeting = _rsvp_meeting(ctx, meeting_id)
    if meeting is None:
        return
    name = ctx.actor.member.full_name if ctx.actor.member else ""
    current = attendance_row(ctx.session, meeting.id or 0, ctx.actor.member.id or 0) \
        if ctx.actor.member else None
    if current is not None and parts[1] == "y" and current.rsvp == Rsvp.YES.value:
        ctx.reply(_("Đồng chí đã báo có mặt rồi; không có gì thay đổi."), toast=True)
        return
    if current is not None and parts[1] == "n" and current.rsvp == Rsvp.NO.value \
            and current.rsvp_reason:
        ctx.reply(_("Đồng chí đã báo vắng rồi (lý do: {reason}); không có gì thay đổi. Đổi lý "
                    "do: /vang LÝ DO.").format(reason=current.rsvp_reason), toast=True)
        return
    if parts[1] == "y":
        record_rsvp(ctx, meeting, True)
        _said(ctx, meeting, _("Đã ghi nhận đồng chí {name} sẽ có mặt.").format(name=name))
        return
    _ask_reason(ctx, meeting, name)


def _private_chat(ctx: Ctx) -> str | None:
    """Where the member can be answered privately: this chat, or from a group the private
    chat the member opened with the bot (None when there is none)."""
    if not ctx.in_group:
        return ctx.incoming.chat.id
    ident = ctx.actor.identity
    return ident.private_chat_id if ident else None


def _ask_reason(ctx: Ctx, meeting: Meeting, name: str) -> None:
    """Record "absent" and ask the reason with the reasons list, privately (a reason
    already given stays until the new answer replaces it)."""
    m = ctx.actor.member
    current = attendance_row(ctx.session, meeting.id or 0, m.id or 0) if m else None
    if current is None or current.rsvp != Rsvp.NO.value:
        record_rsvp(ctx, meeting, False)
    private = _private_chat(ctx)
    if private:
        forms.start(ctx, "absence", {"meeting": meeting.id}, chat_id=private)
        if ctx.in_group:
            _said(ctx, meeting, _("Đã ghi nhận đồng chí {name} báo vắng; bot đã nhắn riêng để "
                                  "hỏi lý do.").format(name=name))
        else:
            update_tally(ctx, meeting)
    else:
        ctx.reply(_("Đã ghi nhận đồng chí {name} báo vắng. Đề nghị đồng chí nhắn riêng cho "
                    "bot: /vang LÝ DO, để vắng được tính là có lý do.").format(name=name))
        update_tally(ctx, meeting)


def _said(ctx: Ctx, meeting: Meeting, text: str) -> None:
    """Acknowledge an RSVP. In the group only the presser sees it (a button's notice);
    the group sees the one tally message, never a line per answer."""
    if ctx.in_group:
        ctx.answer_press(text)
    else:
        ctx.reply(text)
    update_tally(ctx, meeting)


YES_WORDS = ("co mat", "co", "toi co mat", "em co mat", "se co mat", "di hop", "tham du",
             "co tham du", "co mat a", "co a", "xac nhan co mat", "co mat nhe")
NO_WORDS = ("vang", "xin vang", "bao vang", "toi vang", "em xin vang", "toi xin vang",
            "xin phep vang", "em vang", "xin nghi")


@text_fallback
def rsvp_typed_in_group(ctx: Ctx) -> bool:
    """"có mặt" / "vắng đi công tác" typed in the cell's group while a meeting's RSVP is
    open; anything else is left alone (the group is a conversation among members)."""
    m = ctx.actor.member
    text = (ctx.incoming.text or "").strip()
    if not ctx.in_group or m is None or not text or len(text) > 300:
        return False
    cell = ctx.bound_cell()
    if cell is None or cell.id != m.cell_id:
        return False
    folded = fold(text).rstrip(".!")
    words = text.split()
    reason = None
    if folded in YES_WORDS:
        yes = True
    else:
        head = next((w for w in sorted(NO_WORDS, key=len, reverse=True)
                     if folded == w or folded.startswith(w + " ")), None)
        if head is None:
            return False
        yes, reason = False, " ".join(words[len(head.split()):]).strip(" :,-") or None
    nxt = upcoming(ctx.session, cell_id=m.cell_id or 0, now=ctx.now(), limit=1)
    meeting = nxt[0] if nxt else None
    if meeting is None or meeting.status != MeetingStatus.PLANNED.value or not m.due_to_attend \
            or meeting.scheduled_at - ctx.now() > RSVP_OPEN:
        return False  # no question is open: ignored quietly
    if not yes and reason is None:  # "vắng" alone: ask the reason privately, like the button
        rsvp_button(ctx, [str(meeting.id), "n"])
        return True
    record_rsvp(ctx, meeting, yes, reason[:300] if reason else None)
    private = _private_chat(ctx)
    if reason and private:  # the group sees the tally (names only); the reason is answered alone
        ctx.send(private, _("Đã ghi nhận đồng chí vắng, lý do: {reason}. Đồng chí Bí thư sẽ "
                            "xác nhận khi điểm danh.").format(reason=reason[:300]))
    update_tally(ctx, meeting)
    return True


class AbsenceForm(Form):
    kind = "absence"
    confirm = False
    REASONS = [N_("Ốm, điều trị"), N_("Đi công tác"), N_("Việc gia đình"),
               N_("Nghỉ phép")]

    def authorised(self, ctx: Ctx, data: Data) -> bool:
        meeting = ctx.session.get(Meeting, data.get("meeting"))
        m = ctx.actor.member
        # A member who left the cell or moved away (re-import) mid-form cannot submit.
        return bool(meeting and m and m.active and not m.on_leave
                    and m.cell_id == meeting.cell_id)

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        return [Step("reason", lambda c, d: _("Đồng chí cho biết lý do vắng (chọn hoặc gõ):"),
                     choices=lambda c, d: [Choice(_(r), _(r)) for r in self.REASONS],
                     parse=lambda c, d, t: parse_text(t, max_len=300))]

    def summary(self, ctx: Ctx, data: Data) -> str:
        return data["reason"]

    def finish(self, ctx: Ctx, data: Data) -> None:
        meeting = ctx.session.get(Meeting, data["meeting"])
        if meeting is None or meeting.status != MeetingStatus.PLANNED.value:
            ctx.reply(_("Buổi sinh hoạt này đã bắt đầu hoặc đã kết thúc; việc đăng ký đã "
                        "đóng."))
            return
        record_rsvp(ctx, meeting, False, data["reason"])
        ctx.reply(_("Đã ghi nhận đồng chí vắng, lý do: {reason}. Đồng chí Bí thư sẽ xác nhận "
                    "khi điểm danh.").format(reason=data["reason"]))
        update_tally(ctx, meeting)


forms.register(AbsenceForm())


@command("comat", "yes", who=Who.LINKED, where=Where.ANY,
         summary=N_("Đăng ký có mặt buổi sinh hoạt tới"))
def rsvp_yes(ctx: Ctx, args: list[str], rest: str) -> None:
    meeting = _rsvp_meeting(ctx, None)
    if meeting is not None:
        record_rsvp(ctx, meeting, True)
        if not ctx.in_group:
            ctx.reply(_("Đã ghi nhận đồng chí sẽ có mặt lúc {when}.").format(
                when=fmt_datetime(meeting.scheduled_at, meeting.timezone)))
        update_tally(ctx, meeting)


@command("vang", "absent", who=Who.LINKED, where=Where.ANY,
         summary=N_("Báo vắng buổi sinh hoạt tới (lý do gửi riêng cho bot)"))
def rsvp_no(ctx: Ctx, args: list[str], rest: str) -> None:
    meeting = _rsvp_meeting(ctx, None)
    if meeting is None:
        return
    m = ctx.actor.member
    assert m is not None
    if not rest:  # the reasons list the "Vắng" button offers, asked privately
        _ask_reason(ctx, meeting, m.full_name)
        return
    reason = rest[:300]
    record_rsvp(ctx, meeting, False, reason)
    said = _("Đã ghi nhận đồng chí vắng, lý do: {reason}. Đồng chí Bí thư sẽ xác nhận "
             "khi điểm danh.").format(reason=reason)
    private = _private_chat(ctx)
    if not ctx.in_group:
        ctx.reply(said)
    elif private:  # a reason is personal: the answer goes to the member alone
        ctx.send(private, said)
    else:
        ctx.reply(_("Đã ghi nhận đồng chí {name} báo vắng có lý do. Lý do chỉ Bí thư xem "
                    "được.").format(name=m.full_name))
    update_tally(ctx, meeting)
