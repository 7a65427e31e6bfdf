"""The nghị quyết: numbered per cell and year, issued once the minutes are final and the
meeting is scored, sent to the cell's group (else each member privately) and to the
upper-level committee members who follow the cell; fetched again with /nghiquyet."""

from __future__ import annotations

import logging

from sqlmodel import Session

from handlers.core.access import leads_cell
from handlers.core.context import Ctx
from handlers.core.delivery import to_groups, to_member
from handlers.core.router import Where, Who, command
from handlers.forms.cellform import meeting_label
from handlers.forms.named import meeting_ref
from handlers.records.data import current_score, present_count, resolution_data, vote_passed
from handlers.records.doctext import resolution_text
from handlers.records.documents import resolution_docx, resolution_number
from handlers.records.sotay import posted_button
from handlers.records.store import requested_meetings, send_stored, store_document
from handlers.scoring.late import refresh_late
from models.audit import audit
from models.i18n import N_, _, to_local, use_locale
from models.meeting import Meeting
from models.member import Role, cell_members, members_with_role
from models.org import Organisation
from models.records import DocType, RecordStatus, next_resolution_no, record_of

log = logging.getLogger(__name__)


def missing(s: Session, m: Meeting) -> list[str]:
    """What still stands between the meeting and its resolution."""
    rec = record_of(s, m.id or 0)
    out = []
    if rec is None or rec.status != RecordStatus.FINAL.value:
        out.append(_("biên bản được xác nhận (/ghibienban {ref})").format(ref=meeting_ref(m)))
    if current_score(s, m.id or 0) is None:
        out.append(_("buổi sinh hoạt được chấm điểm (/chamdiem {ref})").format(
            ref=meeting_ref(m)))
    return out


def issue_if_ready(ctx: Ctx, m: Meeting, cell: Organisation) -> bool:
    s = ctx.session
    rec = record_of(s, m.id or 0)
    if rec is None or rec.resolution_no is not None:
        return False
    gaps = missing(s, m)
    if gaps:
        ctx.reply(_("Nghị quyết sẽ được ban hành khi: {gaps}.").format(gaps="; ".join(gaps)))
        return False
    if rec.vote_agree is not None:
        present = present_count(s, m)
        if not vote_passed((rec.vote_agree, rec.vote_disagree or 0, rec.vote_other or 0),
                           present):
            _not_adopted(ctx, m, rec.vote_agree, present)
            return False
    year = int(m.period[:4])
    rec.resolution_no = next_resolution_no(s, cell.id or 0, year)
    rec.resolution_year = year
    rec.resolution_at = rec.sent_at = ctx.now()
    s.add(rec)
    s.flush()
    me = ctx.actor.member.id if ctx.actor.member else None
    with use_locale(cell.locale):
        d = resolution_data(s, m, cell, ctx.settings.place, rec.resolution_no,
                            to_local(ctx.now(), cell.timezone).date())
        docx, text = resolution_docx(d), resolution_text(d)
        number = resolution_number(d)
        caption = _("Nghị quyết {number} của {cell}, tháng {month}.").format(
            number=number, cell=cell.name, month=f"{d.month}/{d.year}")
    filename = f"nghi-quyet-{m.period}.docx"
    store_document(s, m, DocType.RESOLUTION.value, filename, docx, final=True, by=me,
                   now=ctx.now())
    sent = send_resolution(s, m, cell, filename, docx, caption, text, ctx.now())
    audit(s, "resolution.issued", "meeting", m.id, me, number=rec.resolution_no, year=year,
          recipients=sent)
    refresh_late(ctx, m, cell)  # "sent within 2 days" is known now
    ctx.reply(_("Đã ban hành nghị quyết {number} và gửi tới {n} nơi nhận. Đăng biên bản, "
                "nghị quyết lên Sổ tay đảng viên xong, đồng chí bấm nút dưới đây (hoặc "
                "/sotay sau LINK).").format(number=number, n=sent), posted_button(m))
    return True


def _not_adopted(ctx: Ctx, m: Meeting, agree: int, present: int) -> None:
    """A resolution that more than half of those present did not vote for is not issued:
    no number is taken and nothing is sent; the secretary is told what comes next."""
    audit(ctx.session, "resolution.not_adopted", "meeting", m.id,
          ctx.actor.member.id if ctx.actor.member else None, agree=agree, present=present)
    ctx.reply(_("Nghị quyết không được thông qua: {a}/{p} đảng viên có mặt tán thành, không "
                "quá một nửa. Biên bản ghi nhận kết quả này; nghị quyết không được ban hành "
                "và không gửi đi. Chi bộ thảo luận, hoàn chỉnh dự thảo và biểu quyết lại; "
                "khi có kết quả mới, đồng chí sửa phần biểu quyết (/ghibienban {id}) và xác "
                "nhận lại biên bản, nghị quyết sẽ được ban hành.").format(
        a=agree, p=present, id=meeting_ref(m)))  # words, never the hidden id


def send_resolution(s: Session, m: Meeting, cell: Organisation, filename: str, docx: bytes,
                    caption: str, text: str, now: object) -> int:
    key = f"m{m.id}:resolution"
    n = to_groups(s, cell.id or 0, filename=filename, data=docx, caption=caption, text=text,
                  key=key, now=now)  # type: ignore[arg-type]
    if not n:  # no reachable group: each member privately
        for member in cell_members(s, cell_id=cell.id or 0):
            if member.due_to_attend:
                n += to_member(s, member, filename=filename, data=docx, caption=caption,
                               text=text, key=f"{key}:p{member.id}", now=now)  # type: ignore[arg-type]
    for f in members_with_role(s, org_id=cell.id or 0, roles=(Role.FOLLOWER.value,)):
        n += to_member(s, f, filename=filename, data=docx, caption=caption, text=text,
                       key=f"{key}:f{f.id}", now=now)  # type: ignore[arg-type]
    return n


@command("nghiquyet", "resolution", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Nghị quyết của buổi sinh hoạt: /nghiquyet [tháng, ví dụ 11/2026]"))
def resolution_cmd(ctx: Ctx, args: list[str], rest: str) -> None:
    asked = requested_meetings(ctx, args, "resolution",
                               "/nghiquyet 11/2026 hoặc /nghiquyet 11/2026 đột xuất.")
    if asked is None:
        return
    cell, meetings = asked
    sent = 0
    for m in meetings:
        if send_stored(ctx, m, DocType.RESOLUTION.value, _("Nghị quyết {meeting}").format(
                meeting=meeting_label(m))):
            sent += 1
        elif leads_cell(ctx.actor, m.cell_id):
            sent += issue_if_ready(ctx, m, cell)
            return
    if not sent:
        ctx.reply(_("Chưa có nghị quyết được ban hành cho kỳ này."))
