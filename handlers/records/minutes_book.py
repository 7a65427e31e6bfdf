"""The minutes book of the year (sổ ghi biên bản): every final minutes of a cell in date
order, as one .docx. `/report sobienban 2026`, `/sobienban 2026`,
`chibot report --book minutes --year 2026 --org "CHI BỘ"`."""

from __future__ import annotations

from sqlmodel import Session, select

from handlers.core.access import can_read_cell
from handlers.core.context import Ctx
from handlers.core.labels import cell_label
from handlers.core.router import Where, Who, command
from handlers.forms.cellform import actor_cell
from handlers.records.data import heading, minutes_data
from handlers.records.documents import book_docx
from models.i18n import N_, _, to_local, use_locale
from models.meeting import Meeting
from models.member import Role
from models.messages import Attachment
from models.org import Organisation
from models.records import MeetingRecord, RecordStatus
from models.text import fold


def year_minutes(s: Session, cell_id: int, year: int) -> list[Meeting]:
    return list(s.exec(select(Meeting).join(MeetingRecord, MeetingRecord.meeting_id == Meeting.id)
                       .where(Meeting.cell_id == cell_id, Meeting.period.startswith(f"{year:04d}-"),
                              MeetingRecord.status == RecordStatus.FINAL.value)
                       .order_by(Meeting.scheduled_at)))


def book_bytes(s: Session, cell: Organisation, year: int, place: str) -> tuple[bytes, int]:
    """The book's .docx and how many minutes it holds."""
    with use_locale(cell.locale):
        minutes = [minutes_data(s, m, cell, place) for m in year_minutes(s, cell.id or 0, year)]
        parent = heading(s, cell, place, to_local(cell.created_at, cell.timezone).date()).parent
        return book_docx(cell.name, year, parent, minutes), len(minutes)


def book_filename(cell: Organisation, year: int) -> str:
    slug = "-".join(fold(cell.name).split())[:60]
    return f"so-bien-ban-{slug}-{year}.docx"


MAX_BOOKS = 5  # books sent in one answer; beyond that the officer is asked which cell


def cells_with_minutes(s: Session, year: int) -> list[int]:
    """Ids of the cells with final minutes in ``year`` (one query)."""
    return list(s.exec(select(Meeting.cell_id).distinct()
                       .join(MeetingRecord, MeetingRecord.meeting_id == Meeting.id)
                       .where(Meeting.period.startswith(f"{year:04d}-"),
                              MeetingRecord.status == RecordStatus.FINAL.value)))


def _label(s: Session, cell: Organisation) -> str:
    parent = s.get(Organisation, cell.parent_id) if cell.parent_id else None
    return cell_label(cell.name, parent.name if parent and parent.kind != "bloc" else None)


def send_book(ctx: Ctx, args: list[str]) -> None:
    """The book of the member's cell; an officer (or follower) gets the book of each cell
    in his reach that has final minutes that year, cells named with their parent (two
    cells may share a name), or the list to choose from when there are many."""
    s = ctx.session
    has_year = bool(args) and args[0].isascii() and args[0].isdigit() and len(args[0]) == 4
    year = int(args[0]) if has_year else ctx.now().year
    name = " ".join(args[1:] if has_year else args)
    own = actor_cell(ctx)
    reach_many = bool(ctx.actor.officer_orgs()) or any(
        r.role == Role.FOLLOWER.value for r in ctx.actor.roles)
    if name:
        wanted = " ".join(fold(name).split())
        cells = [c for c in s.exec(select(Organisation).where(Organisation.kind != "bloc"))
                 if c.is_cell and wanted in (fold(c.name), " ".join(fold(_label(s, c)).split()))
                 and can_read_cell(s, ctx.actor, c)]
        if not cells:
            ctx.reply(_("Không tìm thấy chi bộ “{name}” trong phạm vi của đồng chí.").format(
                name=name[:60]))
            return
    elif reach_many:
        ids = set(cells_with_minutes(s, year))
        cells = [c for i in sorted(ids) if (c := s.get(Organisation, i)) is not None
                 and can_read_cell(s, ctx.actor, c)]
        if not cells:
            ctx.reply(_("Chưa chi bộ nào trong phạm vi của đồng chí có biên bản chính thức "
                        "trong năm {year}.").format(year=year))
            return
    elif own is not None and can_read_cell(s, ctx.actor, own):
        cells = [own]
    else:
        ctx.deny("minutes book")
        return
    if len(cells) > MAX_BOOKS:
        lines = [_("{n} chi bộ có biên bản chính thức năm {year}; đồng chí gửi "
                   "/sobienban {year} TÊN CHI BỘ để nhận sổ của một chi bộ:").format(
                       n=len(cells), year=year)]
        lines += [f"• {_label(s, c)}" for c in cells]
        ctx.reply("\n".join(lines))
        return
    for cell in cells:
        label = _label(s, cell)
        data, n = book_bytes(s, cell, year, ctx.settings.place)
        if not n:
            ctx.reply(_("{cell} chưa có biên bản chính thức nào trong năm {year}.").format(
                cell=label, year=year))
            continue
        ctx.send(ctx.incoming.chat.id, _("Sổ ghi biên bản năm {year} của {cell}: {n} biên "
                                         "bản.").format(year=year, cell=label, n=n),
                 attachment=Attachment(book_filename(cell, year), data))


@command("sobienban", "minutesbook", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Sổ ghi biên bản của năm: /sobienban [năm] [tên chi bộ]"))
def book_cmd(ctx: Ctx, args: list[str], rest: str) -> None:
    send_book(ctx, args)
