"""/dieuchinh: a secretary overrides a value the bot computed for the score, with a reason.

The override is kept with the meeting's records (and in the audit log); the scoring form
then shows it, with the computed value, instead of the computed one.
"""

from __future__ import annotations

import re

from handlers.core.context import Ctx
from handlers.core.router import Where, Who, command
from handlers.forms.cellform import led_cell
from handlers.scoring.autoscore import compute
from handlers.scoring.store import rubric_for
from models.audit import audit
from models.i18n import N_, _, fmt_number
from models.meeting import Meeting
from models.records import MeetingRecord, record_of

_ARGS = re.compile(r"^\s*(\d{1,9})\s+([a-z0-9_]{1,64})\s+(\d+(?:[.,]\d+)?)\s+(.+)$", re.S)


@command("dieuchinh", "override", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Điều chỉnh điểm bot tự tính, kèm lý do: /dieuchinh SỐ_BUỔI MÃ ĐIỂM LÝ DO"))
def override(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    cell = led_cell(ctx)
    if cell is None:
        ctx.deny("override: not a leader")
        return
    match = _ARGS.match(rest)
    m = ctx.by_id(Meeting, match.group(1)) if match else None
    if match is None or m is None or m.cell_id != cell.id:
        ctx.reply(_("Cú pháp: /dieuchinh SỐ_BUỔI MÃ_TIÊU_CHÍ ĐIỂM LÝ DO, ví dụ “/dieuchinh 12 "
                    "prep_committee 2 chi ủy họp ngày 28/11, biên bản giấy”."))
        return
    cid, reason = match.group(2), match.group(4).strip()[:300]
    rubric = rubric_for(ctx, cell)
    computed = compute(s, rubric, m)
    crit = next((c for c in rubric.criteria() if c.id == cid), None)
    if crit is None or not crit.auto:
        ctx.reply(_("“{cid}” không phải tiêu chí bot tự tính. Các tiêu chí: {ids}.").format(
            cid=cid, ids=", ".join(c.id for c in rubric.criteria() if c.auto)))
        return
    points = float(match.group(3).replace(",", "."))
    if points > crit.max:
        ctx.reply(_("Điểm phải từ 0 đến {max}.").format(max=fmt_number(crit.max)))
        return
    rec = record_of(s, m.id or 0) or MeetingRecord(meeting_id=m.id or 0, cell_id=m.cell_id)
    me = ctx.actor.member.id if ctx.actor.member else None
    rec.overrides = {**rec.overrides, cid: [points, reason, me]}
    s.add(rec)
    was = computed.get(cid)
    audit(s, "score.auto_override", "meeting", m.id, me, criterion=cid, points=points,
          computed=was.points if was else None, reason=reason)
    ctx.reply(_("Đã ghi điều chỉnh {cid}: {p} điểm (bot tính: {was}). Lý do: {reason}. Điểm "
                "chấm (hoặc sửa) sau đây dùng giá trị này.").format(
        cid=cid, p=fmt_number(points), was="—" if was is None or was.points is None
        else fmt_number(was.points), reason=reason))
