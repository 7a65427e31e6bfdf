"""What the secretary's forms share: the cell and meeting they act on, who may act."""

from __future__ import annotations

from typing import Any

from handlers.core.access import can_manage_cell, led_cells
from handlers.core.context import Ctx
from handlers.forms import engine as forms
from handlers.forms.engine import Choice, Form, Step
from handlers.forms.named import choose, meeting_label, step_answer
from handlers.forms.validators import parse_text
from models.i18n import _
from models.meeting import Meeting, MeetingStatus, upcoming
from models.org import Organisation

Data = dict[str, Any]


def actor_cell(ctx: Ctx) -> Organisation | None:
    """The cell the update concerns: the bound group's, else the member's own."""
    if ctx.in_group:
        return ctx.bound_cell()
    m = ctx.actor.member
    return ctx.session.get(Organisation, m.cell_id) if m and m.cell_id else None


def led_cell(ctx: Ctx) -> Organisation | None:
    cells = led_cells(ctx.actor)
    return ctx.session.get(Organisation, cells[0]) if cells else None


class CellForm(Form):
    """A form acting for one cell: only its secretary/deputy or an officer above it."""

    def cell(self, ctx: Ctx, data: Data) -> Organisation | None:
        return ctx.session.get(Organisation, data.get("cell_id"))

    def authorised(self, ctx: Ctx, data: Data) -> bool:
        cell = self.cell(ctx, data)
        return cell is not None and can_manage_cell(ctx.session, ctx.actor, cell)

    def meeting(self, ctx: Ctx, data: Data) -> Meeting | None:
        m = ctx.session.get(Meeting, data.get("meeting")) if data.get("meeting") else None
        return m if m is not None and m.cell_id == data.get("cell_id") else None

    def meeting_step(self) -> Step:
        def choices(c: Ctx, d: Data) -> list[Choice]:
            return [Choice(m.id, meeting_label(m))
                    for m in upcoming(c.session, cell_id=d["cell_id"], now=c.now())]

        return Step("meeting", lambda c, d: _("Chọn buổi sinh hoạt:"), choices=choices,
                    parse=lambda c, d, t: step_answer(c, d["cell_id"], t,
                                                      [ch.value for ch in choices(c, d)]),
                    when=lambda c, d: not d.get("meeting_fixed"))

    def saved_answers(self, ctx: Ctx, meeting: Meeting) -> Data:
        """What the form starts from for ``meeting`` (a correction starts from what was
        saved, not from nothing)."""
        return {}

    def store(self, ctx: Ctx, data: Data, step: Step, value: object) -> None:
        data[step.name] = value
        if step.name == "meeting":
            m = self.meeting(ctx, data)
            if m is not None:
                data.update(self.saved_answers(ctx, m))


def start_for_meeting(ctx: Ctx, kind: str, args: list[str], extra: Data | None = None,
                      command: str = "") -> None:
    """Start form ``kind`` on the meeting the words ``args`` name ("12/2026"), or let its
    meeting step ask. ``command`` is what the meeting buttons re-run."""
    cell = led_cell(ctx)
    if cell is None:
        ctx.deny("not a cell leader")
        return
    data: Data = {"cell_id": cell.id, **(extra or {})}
    coming = upcoming(ctx.session, cell_id=cell.id or 0, now=ctx.now())
    if args:
        picked = choose(ctx, [cell.id or 0], " ".join(args), command or kind, cell.timezone,
                        default=coming)
        if picked is None:
            return
        m = picked[0]
        if m.status != MeetingStatus.PLANNED.value:  # every such form ends refused otherwise
            ctx.reply(_("Buổi {meeting} đã diễn ra hoặc đã hủy; việc này chỉ làm được với buổi "
                        "sắp tới.").format(meeting=meeting_label(m)))
            return
        data.update(meeting=m.id, meeting_fixed=True)
        form = forms.FORMS[kind]
        if isinstance(form, CellForm):
            data.update(form.saved_answers(ctx, m))
    elif not coming:
        ctx.reply(_("Chi bộ chưa có buổi sinh hoạt nào sắp tới."))
        return
    forms.start(ctx, kind, data)


def parse_place(ctx: Ctx, data: Data, text: str) -> str:
    return parse_text(text, max_len=300)

