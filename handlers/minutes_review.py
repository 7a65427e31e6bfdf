"""From captured minutes to the final biên bản: draft, check, confirm, fetch, reopen.

The captured form writes the minutes' rows and a draft .docx (a new revision) that goes to
the secretary and deputy with "Xác nhận" / "Sửa". Confirming makes a final revision; a
correction within the window (7 days from the first confirmation) makes new revisions
and needs confirming again; later, the base organisation reopens it (/mobienban).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlmodel import Session, delete, select

from bot.i18n import N_, _, use_locale
from handlers.access import can_read_cell, leads_cell, oversees
from handlers.context import Ctx, buttons
from handlers.delivery import to_member
from handlers.doctext import minutes_text
from handlers.documents import minutes_docx
from handlers.meetings import actor_cell, meeting_label
from handlers.records_data import minutes_data
from handlers.router import Where, Who, callback, command
from handlers.schedule_rules import period_of
from models.audit import audit
from models.files import StoredFile
from models.meeting import Meeting
from models.member import Role, members_with_role
from models.org import Organisation
from models.records import (
    DocType,
    DocumentRevision,
    Guest,
    ItemConclusion,
    MeetingRecord,
    Opinion,
    RecordStatus,
    latest_revision,
    record_of,
)

log = logging.getLogger(__name__)
Data = dict[str, Any]


def correction_open(ctx: Ctx, meeting: Meeting) -> bool:
    """Until the first confirmation, and for the window after it (or after a reopening)."""
    rec = record_of(ctx.session, meeting.id or 0)
    if rec is None or rec.confirmed_at is None:
        return True
    window = timedelta(days=ctx.settings.cycle.correction_window_days)
    if ctx.now() <= rec.confirmed_at + window:
        return True
    return rec.reopened_at is not None and ctx.now() <= rec.reopened_at + window


def store_document(s: Session, meeting: Meeting, doc_type: str, filename: str, data: bytes,
                   *, final: bool, by: int | None, now: Any) -> DocumentRevision:
    last = latest_revision(s, meeting.id or 0, doc_type)
    f = StoredFile(filename=filename, size=len(data), data=data, uploaded_by=by, created_at=now)
    s.add(f)
    s.flush()
    rev = DocumentRevision(meeting_id=meeting.id or 0, doc_type=doc_type,
                           revision=(last.revision + 1) if last else 1, final=final,
                           file_id=f.id or 0, created_by=by, created_at=now)
    s.add(rev)
    s.flush()
    return rev


def minutes_filename(meeting: Meeting, final: bool) -> str:
    return f"bien-ban-{meeting.period}{'' if final else '-du-thao'}.docx"


def _write_rows(s: Session, m: Meeting, data: Data, rec: MeetingRecord) -> None:
    mid = m.id or 0
    for model in (Opinion, ItemConclusion, Guest):
        s.exec(delete(model).where(model.meeting_id == mid))  # type: ignore[arg-type]
    for i, (member_id, speaker, text) in enumerate(data.get("opinions", []), 1):
        s.add(Opinion(meeting_id=mid, position=i, member_id=member_id, speaker=speaker,
                      text=text))
    for pos, text in data.get("concl", {}).items():
        s.add(ItemConclusion(meeting_id=mid, position=int(pos), text=text))
    for name, title, upper, member_id in data.get("guests", []):
        s.add(Guest(meeting_id=mid, name=name, title=title, upper_level=bool(upper),
                    member_id=member_id))
    vote = data.get("vote") or [None, None, None]
    rec.vote_agree, rec.vote_disagree, rec.vote_other = vote
    rec.chair_id, rec.minute_taker_id = data.get("chair"), data.get("taker")
    speakers = {o[0] for o in data.get("opinions", []) if o[0] is not None}
    m.speakers_count = len(speakers)  # from the opinions, no longer typed
    s.add(m)


def render_minutes(ctx: Ctx, m: Meeting, cell: Organisation) -> tuple[bytes, str]:
    with use_locale(cell.locale):
        d = minutes_data(ctx.session, m, cell, ctx.settings.place)
        return minutes_docx(d), minutes_text(d)


def save_draft(ctx: Ctx, m: Meeting, data: Data) -> None:
    s = ctx.session
    cell = s.get(Organisation, m.cell_id)
    assert cell is not None
    rec = record_of(s, m.id or 0) or MeetingRecord(meeting_id=m.id or 0, cell_id=m.cell_id)
    me = ctx.actor.member.id if ctx.actor.member else None
    _write_rows(s, m, data, rec)
    rec.status = RecordStatus.DRAFT.value
    rec.captured_at, rec.captured_by = ctx.now(), me
    s.add(rec)
    s.flush()
    docx, text = render_minutes(ctx, m, cell)
    rev = store_document(s, m, DocType.MINUTES.value, minutes_filename(m, False), docx,
                         final=False, by=me, now=ctx.now())
    audit(s, "minutes.draft", "meeting", m.id, me, revision=rev.revision,
          opinions=len(data.get("opinions", [])))
    kb = buttons([(_("✅ Xác nhận biên bản"), f"bb:ok:{m.id}:{rev.revision}"),
                  (_("✏️ Sửa"), f"bb:edit:{m.id}")])
    leaders = members_with_role(s, org_id=m.cell_id, roles=(Role.SECRETARY.value,
                                                            Role.DEPUTY.value))
    for leader in leaders:
        with use_locale(leader.locale):
            to_member(s, leader, filename=minutes_filename(m, False), data=docx,
                      caption=_("Biên bản dự thảo {meeting} (bản {rev}). Đồng chí kiểm tra; "
                                "chỉ khi xác nhận biên bản mới là bản chính thức.").format(
                          meeting=meeting_label(m), rev=rev.revision),
                      text=text, key=f"m{m.id}:minutes:draft:{rev.revision}:{leader.id}",
                      now=ctx.now(), buttons=kb)
    ctx.reply(_("Đã lưu biên bản dự thảo (bản {rev}) và gửi đồng chí Bí thư kiểm tra, xác "
                "nhận.").format(rev=rev.revision))


def _leader_meeting(ctx: Ctx, parts: list[str]) -> Meeting | None:
    m = ctx.by_id(Meeting, parts[0] if parts else None)
    if m is None or not leads_cell(ctx.actor, m.cell_id):
        ctx.deny("minutes review")
        return None
    return m


@callback("bb", who=Who.LINKED)
def review_button(ctx: Ctx, parts: list[str]) -> None:
    if not parts or parts[0] not in ("ok", "edit"):
        ctx.reply(_("Nút này không còn hiệu lực."))
        return
    m = _leader_meeting(ctx, parts[1:])
    if m is None:
        return
    if parts[0] == "edit":
        from handlers import forms
        from handlers.minutes import prefill

        if not correction_open(ctx, m):
            ctx.reply(_("Biên bản đã xác nhận quá {d} ngày; việc sửa cần cấp ủy cơ sở mở lại "
                        "(/mobienban {id}).").format(
                d=ctx.settings.cycle.correction_window_days, id=m.id))
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
        ctx.reply(_("Biên bản đã thay đổi hoặc đã được xác nhận; nút này không còn hiệu lực."),
                  toast=True)
        return
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
    ctx.reply(_("Đã xác nhận biên bản (bản {rev}); biên bản là bản chính thức, lưu cùng buổi "
                "sinh hoạt (/bienban {period}).").format(rev=rev.revision,
                                                        period=m.period))
    from handlers.resolution import issue_if_ready

    issue_if_ready(ctx, m, cell)


def final_minutes(s: Session, cell_id: int, period: str) -> list[Meeting]:
    return list(s.exec(select(Meeting).join(MeetingRecord, MeetingRecord.meeting_id == Meeting.id)
                       .where(Meeting.cell_id == cell_id, Meeting.period == period,
                              MeetingRecord.status == RecordStatus.FINAL.value)
                       .order_by(Meeting.scheduled_at)))


def send_stored(ctx: Ctx, m: Meeting, doc_type: str, caption: str) -> bool:
    """Send the latest final revision of ``doc_type`` to the asker; False if there is none."""
    s = ctx.session
    rev = latest_revision(s, m.id or 0, doc_type, final=True)
    f = s.get(StoredFile, rev.file_id) if rev else None
    if rev is None or f is None:
        return False
    from bot.platforms.base import Attachment

    ctx.send(ctx.incoming.chat.id, caption, attachment=Attachment(f.filename, f.data))
    return True


@command("bienban", "getminutes", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Lấy biên bản chính thức của buổi sinh hoạt: /bienban [kỳ hoặc số buổi]"))
def fetch(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    meeting: Meeting | None = None
    if len(args) == 1 and args[0].isdigit() and len(args[0]) < 7 and "/" not in args[0]:
        meeting = ctx.by_id(Meeting, args[0])
        cell = s.get(Organisation, meeting.cell_id) if meeting else None
        if meeting is None or cell is None or not can_read_cell(s, ctx.actor, cell):
            ctx.deny("minutes of another cell")
            return
        found = [meeting] if record_of(s, meeting.id or 0) else []
    else:
        cell = actor_cell(ctx)
        if cell is None or not can_read_cell(s, ctx.actor, cell):
            ctx.deny("minutes: no cell")
            return
        period = period_arg(ctx, args, cell.timezone)
        if period is None:
            ctx.reply(_("Kỳ không hợp lệ. Ví dụ: /bienban 11/2026 hoặc /bienban SỐ_BUỔI."))
            return
        found = final_minutes(s, cell.id or 0, period)
    sent = 0
    for m in found:
        sent += send_stored(ctx, m, DocType.MINUTES.value, _("Biên bản {meeting}").format(
            meeting=meeting_label(m)))
    if not sent:
        ctx.reply(_("Chưa có biên bản chính thức (đã xác nhận) cho kỳ này."))


def period_arg(ctx: Ctx, args: list[str], tz: str) -> str | None:
    """"11/2026", "2026-11" or nothing (this month) -> "2026-11"."""
    import re

    if not args:
        return period_of(ctx.now(), tz)
    text = args[0].strip()
    m = re.fullmatch(r"(\d{1,2})[/-](\d{4})", text) or re.fullmatch(r"(\d{4})-(\d{1,2})", text)
    if not m:
        return None
    a, b = m.groups()
    month, year = (int(a), int(b)) if len(a) <= 2 else (int(b), int(a))
    return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None


@command("mobienban", "reopenminutes", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Mở lại việc sửa biên bản đã quá hạn (cấp ủy cơ sở)"))
def reopen(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    m = ctx.by_id(Meeting, args[0] if args else None)
    cell = s.get(Organisation, m.cell_id) if m else None
    rec = record_of(s, m.id or 0) if m else None
    if m is None or cell is None or not oversees(s, ctx.actor, cell):
        ctx.deny("reopen minutes")
        return
    if rec is None or rec.confirmed_at is None:
        ctx.reply(_("Biên bản này chưa được xác nhận; chi bộ vẫn sửa được."))
        return
    rec.reopened_at = ctx.now()
    s.add(rec)
    audit(s, "minutes.reopened", "meeting", m.id, ctx.actor.member.id if ctx.actor.member
          else None)
    for leader in members_with_role(s, org_id=cell.id or 0,
                                    roles=(Role.SECRETARY.value, Role.DEPUTY.value)):
        from handlers.notify import send_private

        with use_locale(leader.locale):
            send_private(s, leader, _("Cấp ủy đã mở lại việc sửa biên bản buổi {meeting} "
                                      "trong {d} ngày: /ghibienban {id}").format(
                meeting=meeting_label(m), d=ctx.settings.cycle.correction_window_days,
                id=m.id), f"reopen-minutes:{m.id}:{ctx.incoming.update_id}:{leader.id}",
                now=ctx.now())
    ctx.reply(_("Đã mở lại việc sửa biên bản cho {cell}.").format(cell=cell.name))
