"""/dieuchinh: a secretary overrides a value the bot computed for the score, with a reason.

The override is kept with the meeting's records (and in the audit log); the scoring form
then shows it, with the computed value, instead of the computed one.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from handlers.core.context import Ctx
from handlers.core.router import Where, Who, command
from handlers.forms.cellform import led_cell
from handlers.forms.named import choose, lookup, meeting_label, recent
from handlers.scoring.autoscore import compute
from handlers.scoring.store import ctitle, rubric_for
from models.audit import audit
from models.i18n import N_, _, fmt_number
from models.meeting import MeetingStatus
from models.records import record_for
from models.text import fold

log = logging.getLogger(__name__)

_POINTS = re.compile(r"\d{1,3}(?:[.,]\d{1,2})?")


def _criterion(autos: list[Any], words: str) -> Any | None:
    """An auto criterion by its number in the list shown, or by (part of) its Vietnamese
    or English title, diacritics optional; the rubric's code still works."""
    if words.isdigit():
        n = int(words)
        return autos[n - 1] if 1 <= n <= len(autos) else None
    needle = fold(words)
    if not needle:
        return None
    exact = [c for c in autos if needle in (c.id, fold(c.title), fold(c.title_en or ""))]
    wanted = set(needle.split())  # "ty le phat bieu": every word, in any order
    hits = exact or [c for c in autos if wanted <= set(fold(c.title).split())
                     or wanted <= set(fold(c.title_en or "").split())]
    return hits[0] if len(hits) == 1 else None


def _split(text: str) -> tuple[str, str, str] | None:
    """"TIÊU CHÍ ĐIỂM LÝ DO" -> (criterion words, points, reason); the points are the first
    number after the criterion (which may itself be a number)."""
    tokens = text.split()
    for j in range(1, len(tokens) - 1):
        if _POINTS.fullmatch(tokens[j]):
            return " ".join(tokens[:j]), tokens[j], " ".join(tokens[j + 1:])
    return None


def _usage(autos: list[Any]) -> str:
    listing = "\n".join(f"{i}. {ctitle(c)} ({_('tối đa')} {fmt_number(c.max)})"
                        for i, c in enumerate(autos, 1))
    return _("Cú pháp: /dieuchinh [tháng] TIÊU CHÍ ĐIỂM LÝ DO, ví dụ “/dieuchinh 11/2026 2 2 "
             "chi ủy họp ngày 28/11, biên bản giấy”. Tiêu chí ghi bằng số thứ tự hoặc tên:"
             ) + "\n" + listing


@command("dieuchinh", "override", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Điều chỉnh điểm bot tự tính, kèm lý do: /dieuchinh [tháng] TIÊU CHÍ ĐIỂM "
                    "LÝ DO"))
def override(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    cell = led_cell(ctx)
    if cell is None:
        ctx.deny("override: not a leader")
        return
    rubric = rubric_for(ctx, cell)
    autos = [c for c in rubric.criteria() if c.auto]
    look = lookup(ctx, [cell.id or 0], rest, cell.timezone)
    if look.foreign:
        ctx.deny("override: meeting of another cell")
        return
    if look.named and look.said.isdigit() and not (
            len(look.found) == 1 and str(look.found[0].id) == look.said):
        look = lookup(ctx, [], "", cell.timezone)  # "5 4 lý do": criterion 5, not May
        look.rest = rest
    if look.named and len(look.found) != 1:
        choose(ctx, [cell.id or 0], rest, "dieuchinh", cell.timezone)
        return
    held = recent(ctx, [cell.id or 0], statuses=(MeetingStatus.HELD.value,), days_ahead=0)
    m = look.found[0] if look.named else (held[0] if held else None)
    parts = _split(look.rest)
    if m is None or parts is None:
        log.info("override: unreadable %r", rest[:80])
        ctx.reply(_usage(autos))
        return
    crit = _criterion(autos, parts[0])
    if crit is None:
        ctx.reply(_("“{cid}” không phải tiêu chí bot tự tính.").format(cid=parts[0][:60])
                  + "\n" + _usage(autos))
        return
    cid, reason = crit.id, parts[2].strip()[:300]
    computed = compute(s, rubric, m)
    points = float(parts[1].replace(",", "."))
    if points > crit.max:
        ctx.reply(_("Điểm phải từ 0 đến {max}.").format(max=fmt_number(crit.max)))
        return
    rec = record_for(s, m.id or 0, m.cell_id)
    me = ctx.actor.member.id if ctx.actor.member else None
    rec.overrides = {**rec.overrides, cid: [points, reason, me]}
    s.add(rec)
    was = computed.get(cid)
    audit(s, "score.auto_override", "meeting", m.id, me, criterion=cid, points=points,
          computed=was.points if was else None, reason=reason)
    ctx.reply(_("Đã ghi điều chỉnh “{title}” của {meeting}: {p} điểm (bot tính: {was}). Lý "
                "do: {reason}. Điểm chấm (hoặc sửa) sau đây dùng giá trị này.").format(
        title=ctitle(crit), meeting=meeting_label(m), p=fmt_number(points),
        was="—" if was is None or was.points is None else fmt_number(was.points),
        reason=reason))
