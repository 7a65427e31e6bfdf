"""The cell's schedule as members see it: /lichhop."""

from __future__ import annotations

from handlers.core.access import can_read_cell
from handlers.core.context import Ctx
from handlers.core.labels import label
from handlers.core.router import Where, Who, command
from handlers.forms.cellform import actor_cell, meeting_label
from handlers.meetings.agenda import when_where
from handlers.meetings.cycle import materialise
from handlers.meetings.reminders import has_thematic
from handlers.meetings.schedule_rules import period_of
from models.i18n import N_, _
from models.meeting import upcoming


@command("lichhop", "schedule", who=Who.LINKED, where=Where.ANY,
         summary=N_("Lịch sinh hoạt sắp tới của chi bộ"))
def schedule(ctx: Ctx, args: list[str], rest: str) -> None:
    cell = actor_cell(ctx)
    if cell is None or not can_read_cell(ctx.session, ctx.actor, cell):
        ctx.deny("no cell")
        return
    materialise(ctx.session, ctx.settings, ctx.now(), [cell])
    meetings = upcoming(ctx.session, cell_id=cell.id or 0, now=ctx.now())
    lines = [_("Lịch sinh hoạt của {cell}:").format(cell=cell.name)]
    for m in meetings:
        lines.append(f"• {meeting_label(m)} ({label(m.status)})")
        lines += ["   " + x for x in when_where(m)[1:]]
        if m.topic:
            lines.append("   " + _("Chuyên đề: {topic}").format(topic=m.topic))
    if not meetings:
        lines.append(_("Chưa có buổi nào được lên lịch."))
    period = period_of(ctx.now(), cell.timezone)
    if not has_thematic(ctx.session, cell.id or 0, period):
        lines.append(_("⚠️ Quý này chi bộ chưa có buổi sinh hoạt chuyên đề."))
    ctx.reply("\n".join(lines))
