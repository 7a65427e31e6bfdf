"""The minutes' store: writing the captured rows, rendering and keeping every revision of
the documents, the correction window, and finding the final documents of a period."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlmodel import Session, delete, select

from handlers.core.access import can_read_cell
from handlers.core.context import Ctx, buttons
from handlers.core.delivery import to_member
from handlers.forms.cellform import actor_cell, meeting_label
from handlers.forms.named import lookup
from handlers.meetings.schedule_rules import period_of
from handlers.records.data import minutes_data
from handlers.records.doctext import minutes_text
from handlers.records.documents import minutes_docx
from models.audit import audit
from models.files import StoredFile
from models.i18n import _, use_locale
from models.meeting import Meeting
from models.member import Role, members_with_role
from models.messages import Attachment
from models.org import Organisation
from models.records import (
    DocType,
    DocumentRevision,
    Guest,
    ItemConclusion,
    MeetingRecord,
    Opinion,
    RecordStatus,
    conclusions_of,
    guests_of,
    latest_revision,
    opinions_of,
    record_for,
    record_of,
)

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


def save_draft(ctx: Ctx, m: Meeting, data: Data, *, for_review: bool = True) -> None:
    """Write the captured minutes. For review (someone other than a cell leader wrote
    them), a draft revision goes to the secretary and deputy to confirm; otherwise the
    caller makes them final at once (one confirmation, the form's)."""
    s = ctx.session
    cell = s.get(Organisation, m.cell_id)
    assert cell is not None
    rec = record_for(s, m.id or 0, m.cell_id)
    me = ctx.actor.member.id if ctx.actor.member else None
    _write_rows(s, m, data, rec)
    rec.status = RecordStatus.DRAFT.value
    rec.captured_at, rec.captured_by = ctx.now(), me
    s.add(rec)
    s.flush()
    if not for_review:
        return
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
                      caption=_("Biên bản dự thảo {meeting} (dự thảo lần {rev}). Đồng chí "
                                "kiểm tra; chỉ khi xác nhận biên bản mới là bản chính thức.")
                      .format(meeting=meeting_label(m), rev=_draft_no(s, m)),
                      text=text, key=f"m{m.id}:minutes:draft:{rev.revision}:{leader.id}",
                      now=ctx.now(), buttons=kb)
    ctx.reply(_("Đã lưu biên bản dự thảo (dự thảo lần {rev}) và gửi đồng chí Bí thư kiểm tra, "
                "xác nhận.").format(rev=_draft_no(s, m)))


def _draft_no(s: Session, m: Meeting) -> int:
    """Drafts counted on their own: the revision number counts the final copies too, so a
    first draft after a confirmed version was "bản 2"."""
    return len(list(s.exec(select(DocumentRevision.id).where(
        DocumentRevision.meeting_id == m.id, DocumentRevision.doc_type == DocType.MINUTES.value,
        DocumentRevision.final == False))))  # noqa: E712


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
    ctx.send(ctx.incoming.chat.id, caption, attachment=Attachment(f.filename, f.data))
    return True


def requested_meetings(ctx: Ctx, args: list[str], what: str,
                       example: str) -> tuple[Organisation, list[Meeting]] | None:
    """The meetings a document request names: "12/2026 đột xuất" (or an id), or the cell's
    meetings with final minutes in a period (default this month). None once refused or
    answered."""
    s = ctx.session
    cell = actor_cell(ctx)
    look = lookup(ctx, [cell.id or 0] if cell else [], " ".join(args),
                  cell.timezone if cell else ctx.settings.timezone)
    if look.foreign:  # an id of another cell: readable by its followers and officers
        m = ctx.by_id(Meeting, args[0].lstrip("#"))
        other = s.get(Organisation, m.cell_id) if m else None
        if m is None or other is None or not can_read_cell(s, ctx.actor, other):
            ctx.deny(f"{what} of another cell")
            return None
        return other, [m]
    if cell is None or not can_read_cell(s, ctx.actor, cell):
        ctx.deny(f"{what}: no cell")
        return None
    period = period_arg(ctx, args, cell.timezone) if len(args) <= 1 else None
    if period is None and look.named:
        if look.found:
            return cell, look.found  # "11/2026 đột xuất", "15/11/2026", an id
        ctx.reply(_("Không tìm thấy buổi sinh hoạt “{said}”. Ví dụ: {example}").format(
            said=look.said[:40], example=example))
        return None
    if period is None:
        ctx.reply(_("Kỳ không hợp lệ. Ví dụ: {example}").format(example=example))
        return None
    return cell, final_minutes(s, cell.id or 0, period)


def period_arg(ctx: Ctx, args: list[str], tz: str) -> str | None:
    """"11/2026", "2026-11" or nothing (this month) -> "2026-11"."""

    if not args:
        return period_of(ctx.now(), tz)
    text = args[0].strip()
    m = re.fullmatch(r"(\d{1,2})[/-](\d{4})", text) or re.fullmatch(r"(\d{4})-(\d{1,2})", text)
    if not m:
        return None
    a, b = m.groups()
    month, year = (int(a), int(b)) if len(a) <= 2 else (int(b), int(a))
    return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None


def prefill(s: Session, m: Meeting) -> Data:
    """What the minutes already hold (a correction starts from the stored draft/final)."""
    rec = record_of(s, m.id or 0)
    out: Data = {
        "guests": [[g.name, g.title, g.upper_level, g.member_id] for g in guests_of(s, m.id or 0)],
        "opinions": [[o.member_id, o.speaker, o.text] for o in opinions_of(s, m.id or 0)],
        "concl": {str(k): v for k, v in conclusions_of(s, m.id or 0).items()},
    }
    if rec is not None and rec.vote_agree is not None:
        out["vote"] = [rec.vote_agree, rec.vote_disagree or 0, rec.vote_other or 0]
    return out
