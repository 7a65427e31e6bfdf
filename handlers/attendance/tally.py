"""The group's RSVP tally: one message that says who will come and who sent apologies.

Where the platform can edit a sent message (Telegram), each answer edits that one
message (an edit row queued after it); elsewhere (Zalo) a new tally goes out at most every
``cycle.tally_every_minutes``: an answer plans a "tally" step of the meeting cycle at the
end of its time slot (one per slot, unique like every step), which writes the tally as it
stands then. (Not a delayed outbox row: rows of a chat go out in order, so a row held
back would hold back every message to the group.) Either way the group sees one
message, not a line per member.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from handlers.core.context import Ctx
from handlers.core.notify import group_targets
from handlers.meetings.agenda import rsvp_buttons
from handlers.meetings.steps import step_handler
from models.attendance import Attendance, Rsvp
from models.i18n import _, fmt_datetime
from models.meeting import Meeting
from models.member import due_members
from models.messages import Outgoing, can_edit
from models.org import Organisation
from models.outbox_queue import enqueue, queued_status
from models.schedule import ScheduledStep
from models.settings import Settings

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
TALLY = "tally"


def tally_text(s: Session, meeting: Meeting) -> str:
    due = due_members(s, cell_id=meeting.cell_id)
    rows = {a.member_id: a for a in s.exec(select(Attendance).where(
        Attendance.meeting_id == meeting.id))}
    yes = [m for m in due if rows.get(m.id or 0) and rows[m.id or 0].rsvp == Rsvp.YES.value]
    no = [m for m in due if rows.get(m.id or 0) and rows[m.id or 0].rsvp == Rsvp.NO.value]

    lines = [_("📋 Đăng ký dự sinh hoạt {when}: có mặt {y}, vắng {n}, chưa trả lời {u}.")
             .format(when=fmt_datetime(meeting.scheduled_at, meeting.timezone), y=len(yes),
                     n=len(no), u=len(due) - len(yes) - len(no))]
    if yes:
        lines.append(_("✅ Có mặt: {names}").format(names=", ".join(m.full_name for m in yes)))
    if no:  # names only: a reason is personal (the secretary sees it at the roll call)
        lines.append(_("🚫 Vắng: {names}").format(names=", ".join(m.full_name for m in no)))
    if len(due) > len(yes) + len(no):
        lines.append(_("Đồng chí nào chưa trả lời xin bấm nút, hoặc gõ “có mặt” / “vắng” "
                       "trong nhóm (bot hỏi lý do riêng)."))
    return "\n".join(lines)


def update_tally(ctx: Ctx, meeting: Meeting) -> None:
    """Show the meeting's RSVPs in each group of the cell: the one tally message, edited
    or replaced (see the module docstring); never one line per answer."""
    s = ctx.session
    text = tally_text(s, meeting)
    kb = rsvp_buttons(meeting.id or 0)
    now = ctx.now()
    for b in group_targets(s, meeting.cell_id):
        base = f"tally:{meeting.id}:{b.platform}:{b.chat_id}"
        if can_edit(b.platform):
            out = Outgoing(platform=b.platform, chat_id=b.chat_id, text=text, buttons=kb,
                           key=base)
            if queued_status(s, base) is None:
                enqueue(s, out, now=now, is_group=True)
            else:
                # Always a new edit row, never a rewrite of a queued one: the sender may
                # hold that row already. Rows of a chat go out in order, so the edit
                # follows the tally it replaces (the sender waits for its message id).
                enqueue(s, Outgoing(platform=b.platform, chat_id=b.chat_id, text=text,
                                    buttons=kb, key=f"{base}:{ctx.incoming.update_id}",
                                    edit_of=base), now=now, is_group=True)
            continue
        _plan_tally(s, ctx.settings, meeting, now)


def _plan_tally(s: Session, settings: Settings, meeting: Meeting, now: datetime) -> None:
    every = settings.cycle.tally_every_minutes
    slot = int((now - EPOCH).total_seconds() // (every * 60))
    recipient = f"slot{slot}"
    if s.exec(select(ScheduledStep.id).where(ScheduledStep.meeting_id == meeting.id,
                                             ScheduledStep.step == TALLY,
                                             ScheduledStep.recipient == recipient)).first():
        return
    s.add(ScheduledStep(meeting_id=meeting.id or 0, step=TALLY, recipient=recipient,
                        due_at=EPOCH + timedelta(minutes=(slot + 1) * every),
                        useful_until=meeting.scheduled_at, created_at=now))


@step_handler(TALLY)
def _tally_step(s: Session, meeting: Meeting, cell: Organisation, step: ScheduledStep,
                now: datetime, settings: Settings) -> None:
    """The slot's tally, to the groups whose platform cannot edit (the others are edited
    at each answer)."""
    text = tally_text(s, meeting)
    for b in group_targets(s, meeting.cell_id):
        if not can_edit(b.platform):
            enqueue(s, Outgoing(platform=b.platform, chat_id=b.chat_id, text=text,
                                buttons=rsvp_buttons(meeting.id or 0),
                                key=f"tally:{meeting.id}:{b.platform}:{b.chat_id}:"
                                    f"{step.recipient}"), now=now, is_group=True)
