"""From captured minutes to the final biên bản: draft, check, confirm, fetch, reopen.

The captured form writes the minutes' rows and a draft .docx (a new revision) that goes to
the secretary and deputy with "Xác nhận" / "Sửa". Confirming makes a final revision; a
correction within the window (7 days from the first confirmation) makes new revisions
and needs confirming again; later, the base organisation reopens it (/mobienban).
"""

from __future__ import annotations

import logging
from typing import Any

from handlers.core.access import leads_cell
from handlers.core.context import Ctx
from handlers.core.router import Where, Who, callback, command
from handlers.forms import engine as forms
from handlers.forms.cellform import meeting_label
from handlers.forms.named import meeting_ref
from handlers.records.resolution import issue_if_ready
from handlers.records.store import (
    correction_open,
    minutes_filename,
    prefill,
    render_minutes,
    requested_meetings,
    send_stored,
    store_document,
)
from handlers.scoring.reopen import overseen_meeting, reopened
from models.audit import audit
from models.i18n import N_, _
from models.meeting import Meeting
from models.org import Organisation
from models.records import DocType, RecordStatus, latest_revision, record_of

log = logging.getLogger(__name__)
Data = dict[str, Any]


def _leader_meeting(ctx: Ctx, parts: list[str]) -> Meeting | None:
    m = ctx.by_id(Meeting, parts[0] if parts else None)
    if m is None or not leads_cell(ctx.actor, m.cell_id):
        ctx.deny("minutes review")
        return None
    return m


@callback("bb", who=Who.LINKED)
def review_button(ctx: Ctx, parts: list[str]) -> None:
    if not parts or parts[0] not in ("ok", "edit"):
        ctx.refuse(_("Nút này không còn hiệu lực."))
        return
    m = _leader_meeting(ctx, parts[1:])
    if m is None:
        return
    if parts[0] == "edit":
        if not correction_open(ctx, m):
            ctx.reply(_("Biên bản đã xác nhận quá {d} ngày; việc sửa cần cấp ủy cơ sở mở lại "
                        "(/mobienban {ref}).").format(
                d=ctx.settings.cycle.correction_window_days, ref=meeting_ref(m)))
            return
        forms.start_private(ctx, "minutes", {"cell_id": m.cell_id, "meeting": m.id,
                                             "meeting_fixed": True, **prefill(ctx.session, m)})
        return
    confirm(ctx, m, parts[2] if len(parts) > 2 else "")


def confirm(ctx: Ctx, m: Meeting, revision: str) -> None:
    s = ctx.session
    rec = record_of(s, m.id or 0)
    draft = latest_revision(s, m.id or 0, DocType.MINUTES.value)
    if rec is None or draft is None or draft.final or str(draft.revision) != revision:
        ctx.refuse(_("Biên bản đã thay đổi hoặc đã được xác nhận; nút này không còn hiệu lực."))
        return
    finalise(ctx, m)


def finalise(ctx: Ctx, m: Meeting) -> None:
    """The captured minutes become the official biên bản (a final revision), and the
    resolution is issued if everything it needs is there."""
    s = ctx.session
    rec = record_of(s, m.id or 0)
    assert rec is not None
    cell = s.get(Organisation, m.cell_id)
    assert cell is not None
    me = ctx.actor.member.id if ctx.actor.member else None
    rec.status = RecordStatus.FINAL.value
    rec.confirmed_at = rec.confirmed_at or ctx.now()
    rec.confirmed_by = me
    s.add(rec)
    s.flush()
    docx, _text = render_minutes(ctx, m, cell)
    rev = store_document(s, m, DocType.MINUTES.value, minutes_filename(m, True), docx,
                         final=True, by=me, now=ctx.now())
    audit(s, "minutes.final", "meeting", m.id, me, revision=rev.revision)
    ctx.reply(_("Đã xác nhận biên bản; đây là bản chính thức, lưu cùng buổi sinh hoạt "
                "(/bienban {ref}).").format(ref=meeting_ref(m)))
    issue_if_ready(ctx, m, cell)


@command("bienban", "getminutes", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Lấy biên bản chính thức của buổi sinh hoạt: /bienban [tháng, ví dụ 11/2026]"))
def fetch(ctx: Ctx, args: list[str], rest: str) -> None:
    asked = requested_meetings(ctx, args, "minutes",
                               "/bienban 11/2026 hoặc /bienban 11/2026 đột xuất.")
    if asked is None:
        return
    found = [m for m in asked[1] if record_of(ctx.session, m.id or 0)]
    sent = 0
    for m in found:
        sent += send_stored(ctx, m, DocType.MINUTES.value, _("Biên bản {meeting}").format(
            meeting=meeting_label(m)))
    if not sent:
        ctx.reply(_("Chưa có biên bản chính thức (đã xác nhận) cho kỳ này."))


@command("mobienban", "reopenminutes", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Mở lại việc sửa biên bản đã quá hạn (cấp ủy cơ sở)"))
def reopen(ctx: Ctx, args: list[str], rest: str) -> None:
    found = overseen_meeting(ctx, args, "reopen minutes", "mobienban")
    if found is None:
        return
    m, cell = found
    rec = record_of(ctx.session, m.id or 0)
    if rec is None or rec.confirmed_at is None:
        ctx.reply(_("Biên bản này chưa được xác nhận; chi bộ vẫn sửa được."))
        return
    rec.reopened_at = ctx.now()
    ctx.session.add(rec)
    reopened(ctx, m, cell, "minutes.reopened", "reopen-minutes", lambda: _(
        "Cấp ủy đã mở lại việc sửa biên bản buổi {meeting} trong {d} ngày: "
        "/ghibienban {ref}").format(meeting=meeting_label(m),
                                    d=ctx.settings.cycle.correction_window_days,
                                    ref=meeting_ref(m)))
    ctx.reply(_("Đã mở lại việc sửa biên bản cho {cell}.").format(cell=cell.name))
