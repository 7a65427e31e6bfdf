"""What a submitted score tells others: the conclusion to the cell, the score to the
follower above, who confirms or adjusts it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from handlers.core.context import buttons
from handlers.core.labels import label
from handlers.core.notify import send_group, send_private
from handlers.meetings.agenda import title_line
from models.i18n import _, fmt_date, fmt_datetime, fmt_number, use_locale
from models.meeting import Meeting, Task
from models.member import Member, Role, cell_members, members_with_role
from models.org import Organisation
from models.score import Score


def post_conclusion(s: Session, m: Meeting, cell: Organisation, now: datetime) -> None:
    with use_locale(cell.locale):
        lines = [_("📄 KẾT LUẬN BUỔI SINH HOẠT"), title_line(m, cell), m.conclusion or ""]
        tasks = list(s.exec(select(Task).where(Task.meeting_id == m.id)))
        if tasks:
            lines.append(_("Nhiệm vụ được giao:"))
            for t in tasks:
                who = s.get(Member, t.assignee_id) if t.assignee_id else None
                due = _(" (hạn {date})").format(date=fmt_date(t.due_date)) if t.due_date else ""
                lines.append(f"• {t.description} — {who.full_name if who else ''}{due}")
        text = "\n".join(lines)
    if not send_group(s, cell.id or 0, text, f"m{m.id}:conclusion", now=now):
        for member in cell_members(s, cell_id=cell.id or 0):
            if member.due_to_attend:
                send_private(s, member, text, f"m{m.id}:conclusion:p{member.id}", now=now)


def notify_followers(s: Session, m: Meeting, cell: Organisation, score: Score,
                     now: datetime) -> None:
    for f in members_with_role(s, org_id=cell.id or 0, roles=(Role.FOLLOWER.value,)):
        with use_locale(f.locale):
            send_private(s, f, _("{cell} đã chấm điểm buổi sinh hoạt {when}: {total} — {band} "
                                 "(lần {rev}). Đồng chí xác nhận hoặc điều chỉnh:").format(
                cell=cell.name, when=fmt_datetime(m.scheduled_at, m.timezone),
                total=fmt_number(score.total), band=label(score.rating), rev=score.revision),
                f"m{m.id}:scored:{score.revision}:f{f.id}", now=now,
                buttons=buttons([(_("✅ Xác nhận"), f"cf:{m.id}"),
                                 (_("✏️ Điều chỉnh"), f"ca:{m.id}")]))
