"""The minutes book of the year (sổ ghi biên bản): every final minutes of a cell in date
order, as one .docx. `/report sobienban 2026`, `/sobienban 2026`,
`chibot report --book minutes --year 2026 --org "CHI BỘ"`."""

from __future__ import annotations

from sqlmodel import Session, select

from handlers.core.access import can_read_cell
from handlers.core.context import Ctx
from handlers.core.router import Where, Who, command
from handlers.forms.cellform import actor_cell
from handlers.records.data import heading, minutes_data
from handlers.records.documents import book_docx
from models.i18n import N_, _, to_local, use_locale
from models.meeting import Meeting
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


def send_book(ctx: Ctx, args: list[str]) -> None:
    s = ctx.session
    has_year = bool(args) and args[0].isascii() and args[0].isdigit() and len(args[0]) == 4
    year = int(args[0]) if has_year else ctx.now().year
    name = " ".join(args[1:] if has_year else args)
    cell = actor_cell(ctx)
    if name:
        hits = [c for c in s.exec(select(Organisation).where(Organisation.kind != "bloc"))
                if fold(c.name) == fold(name) and can_read_cell(s, ctx.actor, c)]
        cell = hits[0] if len(hits) == 1 else None
        if cell is None:
            ctx.reply(_("Không tìm thấy chi bộ “{name}” trong phạm vi của đồng chí.").format(
                name=name[:60]))
            return
    if cell is None or not can_read_cell(s, ctx.actor, cell):
        ctx.deny("minutes book")
        return
    data, n = book_bytes(s, cell, year, ctx.settings.place)
    if not n:
        ctx.reply(_("{cell} chưa có biên bản chính thức nào trong năm {year}.").format(
            cell=cell.name, year=year))
        return
    ctx.send(ctx.incoming.chat.id, _("Sổ ghi biên bản năm {year} của {cell}: {n} biên bản.")
             .format(year=year, cell=cell.name, n=n),
             attachment=Attachment(book_filename(cell, year), data))


@command("sobienban", "minutesbook", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Sổ ghi biên bản của năm: /sobienban [năm] [tên chi bộ]"))
def book_cmd(ctx: Ctx, args: list[str], rest: str) -> None:
    send_book(ctx, args)
