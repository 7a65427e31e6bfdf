"""Đảng phí: the secretary records who paid for a month and how much (/dangphi), members
see their own record (/toi), and the cell's fee book for a year (/sodangphi).

``/dangphi [tháng] [mục; mục; …]`` — a mục is "<số thứ tự> <số tiền>" (50.000, 50k,
50 nghìn), "<số> chưa" for an unpaid month, "<số> rồi" for the member's usual amount, or
"tất cả" for everyone not yet recorded, at their usual amount (what they paid last time).
Every item is checked before anything is written: one bad item changes nothing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from handlers.core.access import led_cells
from handlers.core.context import Ctx, buttons
from handlers.core.router import Where, Who, callback, command
from handlers.forms import engine as forms
from handlers.forms.amounts import ascii_int, fmt_dong, parse_amount
from handlers.forms.engine import Invalid
from handlers.year import flags as yearflags
from models.audit import audit
from models.fees import FeePayment, cell_fees, member_fees, record_fee, usual_amounts
from models.i18n import N_, _
from models.meeting import Meeting, MeetingStatus
from models.member import Member, cell_members
from models.messages import Attachment, Keyboard
from models.org import Organisation
from models.records import RecordStatus, record_of
from models.reports import parse_period
from models.score import Score, ScoreKind
from models.text import fold

log = logging.getLogger(__name__)
UNPAID = ("chua", "chua dong", "khong", "no")
USUAL = ("roi", "da dong", "x", "ok")
ALL = ("tat ca", "ca chi bo", "all")


@dataclass(frozen=True)
class Entry:
    member: Member
    paid: bool
    amount: int


def _cell(ctx: Ctx) -> Organisation | None:
    cells = led_cells(ctx.actor)
    return ctx.session.get(Organisation, cells[0]) if cells else None


def _this_month(ctx: Ctx, cell: Organisation) -> str:
    local = ctx.now().astimezone(ZoneInfo(cell.timezone))
    return f"{local.year:04d}-{local.month:02d}"


def _split_period(ctx: Ctx, cell: Organisation, rest: str) -> tuple[str | None, str]:
    """A leading month ("11/2026", "2026-11", "tháng 11") and the items after it."""
    m = re.match(r"\s*((?:th[aá]ng\s*)?\d{1,2}\s*/\s*\d{4}|\d{4}-\d{1,2}|th[aá]ng\s*\d{1,2})"
                 r"(?=\s|$)", rest, flags=re.IGNORECASE)
    if not m:
        return _this_month(ctx, cell), rest.strip()
    local = ctx.now().astimezone(ZoneInfo(cell.timezone)).date()
    p = parse_period(m.group(1), local)
    return (p.first if p is not None and p.kind == "month" else None), rest[m.end():].strip()


AHEAD_MONTHS = 12  # fees paid in advance (a member going abroad) up to a year ahead


def _latest_month(ctx: Ctx, cell: Organisation) -> str:
    """The last month fees may be recorded for: a year ahead of this month, so a mistyped
    year ("12/2099") is refused instead of filling a month nobody will see for decades."""
    this = _this_month(ctx, cell)
    n = int(this[:4]) * 12 + int(this[5:7]) - 1 + AHEAD_MONTHS
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def _label(period: str) -> str:
    return f"{period[5:7]}/{period[:4]}"


def parse_entries(text: str, members: list[Member], usual: dict[int, int], done: set[int],
                  max_amount: int) -> tuple[list[Entry], list[str], list[Member]]:
    """The entries an item list asks for, the reasons it is refused, and the members
    "tất cả" covers whose usual amount is not known yet (asked for once, together)."""
    errors: list[str] = []
    missing: list[Member] = []
    chosen: dict[int, Entry] = {}
    everyone = False
    for raw in (p.strip() for p in re.split(r"[;\n]+", text) if p.strip()):
        if fold(raw) in ALL:
            everyone = True
            continue
        m = re.fullmatch(r"([0-9]{1,3})[.)]?\s+(.+)", raw)
        if m is None:
            errors.append(_("“{item}”: cần số thứ tự rồi số tiền, ví dụ “3 50.000”.").format(
                item=raw[:40]))
            continue
        n, value = int(m.group(1)), m.group(2).strip()
        if not 1 <= n <= len(members):
            errors.append(_("“{item}”: không có đồng chí số {n} trong danh sách.").format(
                item=raw[:40], n=n))
            continue
        member = members[n - 1]
        if fold(value) in UNPAID:
            chosen[member.id or 0] = Entry(member, False, 0)
        elif fold(value) in USUAL:
            if member.id not in usual:
                errors.append(_("“{item}”: chưa biết mức đóng thường lệ của đồng chí {name}; "
                                "xin ghi số tiền.").format(item=raw[:40], name=member.full_name))
            else:
                chosen[member.id or 0] = Entry(member, True, usual[member.id or 0])
        else:
            try:
                chosen[member.id or 0] = Entry(member, True,
                                               parse_amount(value, max_amount=max_amount))
            except Invalid as exc:
                errors.append(f"{n}: {exc}")
    if everyone:
        for member in members:
            mid = member.id or 0
            if mid in chosen or mid in done:
                continue
            if mid in usual:
                chosen[mid] = Entry(member, True, usual[mid])
            else:
                missing.append(member)
    return list(chosen.values()), errors, missing


def _listing(s: Session, cell: Organisation, period: str, members: list[Member]) -> str:
    usual = usual_amounts(s, cell_id=cell.id or 0)
    rows = {f.member_id: f for f in cell_fees(s, cell_id=cell.id or 0, year=int(period[:4]))
            if f.period == period}
    lines = [_("💰 Đảng phí tháng {month} — {cell}").format(month=_label(period), cell=cell.name)]
    for i, m in enumerate(members, 1):
        f = rows.get(m.id or 0)
        state = (_("đã đóng {a}").format(a=fmt_dong(f.amount)) if f and f.paid
                 else _("chưa đóng") if f else _("chưa ghi"))
        hint = _(" (thường lệ {a})").format(a=fmt_dong(usual[m.id or 0])) \
            if m.id in usual else ""
        lines.append(f"{i}. {m.full_name}: {state}{hint}")
    lines.append(_("Ghi: /dangphi {month} tất cả; 3 chưa; 5 60.000 — “tất cả” là mọi đồng chí "
                   "chưa ghi, theo mức thường lệ; số tiền như 50.000, 50k, 50 nghìn.").format(
        month=_label(period)))
    return "\n".join(lines)


@command("dangphi", "fees", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Ghi đảng phí tháng: /dangphi [tháng] tất cả; 3 chưa; 5 60.000 (Bí thư)"))
def fees(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    cell = _cell(ctx)
    if cell is None:
        ctx.deny("fees: not a cell leader")
        return
    period, items = _split_period(ctx, cell, rest)
    if period is None:
        ctx.reply(_("Không hiểu tháng. Ví dụ: /dangphi 11/2026 tất cả."))
        return
    latest = _latest_month(ctx, cell)
    if period > latest:
        ctx.reply(_("Tháng {month} còn quá xa: đảng phí đóng trước được ghi đến tháng {last}."
                    ).format(month=_label(period), last=_label(latest)))
        return
    members = cell_members(s, cell_id=cell.id or 0)
    if not items:
        ctx.reply(_listing(s, cell, period, members))
        return
    entries, errors, missing = read_items(ctx, cell, period, items)
    if errors or not (entries or missing):
        log.info("fees refused for cell %s %s: %s", cell.id, period, errors or "nothing")
        ctx.reply("\n".join([_("Chưa ghi gì. Đề nghị đồng chí sửa:"),
                             *(errors or [_("Không có mục nào để ghi.")])]))
        return
    if missing:  # asked once, in one message, before anything is written
        forms.start(ctx, "fees", {"cell_id": cell.id, "period": period, "given": True,
                                  "entries": [[e.member.id, e.paid, e.amount] for e in entries],
                                  "missing": [m.id for m in missing]})
        return
    record_entries(ctx, cell, period, entries)


def read_items(ctx: Ctx, cell: Organisation, period: str,
               items: str) -> tuple[list[Entry], list[str], list[Member]]:
    s = ctx.session
    done = {f.member_id for f in cell_fees(s, cell_id=cell.id or 0, year=int(period[:4]))
            if f.period == period}
    return parse_entries(items, cell_members(s, cell_id=cell.id or 0),
                         usual_amounts(s, cell_id=cell.id or 0), done,
                         ctx.settings.year.fee_max_amount)


def record_entries(ctx: Ctx, cell: Organisation, period: str, entries: list[Entry]) -> None:
    """Write the entries and answer with the batch, then the month as it now stands:
    its total and who is left."""
    s = ctx.session
    actor = ctx.actor.member
    for e in entries:
        record_fee(s, member_id=e.member.id or 0, cell_id=cell.id or 0, period=period,
                   paid=e.paid, amount=e.amount, now=ctx.now(), by=actor.id if actor else None)
    s.flush()
    audit(s, "fees.record", "organisation", cell.id, actor.id if actor else None,
          period=period, paid=sum(e.paid for e in entries),
          unpaid=sum(not e.paid for e in entries))
    paid = [e for e in entries if e.paid]
    unpaid = [e for e in entries if not e.paid]
    lines = [_("Đã ghi đảng phí tháng {month}: {n} đồng chí đã đóng ({total}); {u} chưa đóng.")
             .format(month=_label(period), n=len(paid), total=fmt_dong(sum(e.amount for e in paid)),
                     u=len(unpaid)), *month_lines(s, cell, period)]
    lines += yearflags.rollcall_warnings(s, cell, period, [e.member.id or 0 for e in unpaid],
                                         ctx.now())
    ctx.reply("\n".join(lines), next_steps(s, cell, period))


def next_steps(s: Session, cell: Organisation, period: str) -> Keyboard:
    """Fees are recorded at the meeting, right after the roll call: what is left of that
    meeting (its minutes, its score) as buttons, so no command has to be typed next."""
    held = s.exec(select(Meeting).where(
        Meeting.cell_id == cell.id, Meeting.period == period,
        Meeting.status == MeetingStatus.HELD.value).order_by(Meeting.scheduled_at.desc())).first()
    if held is None:
        return ()
    rec = record_of(s, held.id or 0)
    left = []
    if rec is None or rec.status != RecordStatus.FINAL.value:
        left.append((_("🖊 Ghi biên bản"), f"bb:edit:{held.id}"))
    if s.exec(select(Score.id).where(Score.meeting_id == held.id, Score.kind == ScoreKind.CELL
                                     .value, Score.is_current == True)).first() is None:  # noqa: E712
        left.append((_("📝 Chấm điểm ngay"), f"sc:{held.id}"))
    return buttons(left) if left else ()


def month_lines(s: Session, cell: Organisation, period: str) -> list[str]:
    """The month's total and who is left (not paid, not recorded)."""
    members = cell_members(s, cell_id=cell.id or 0)
    rows = {f.member_id: f for f in cell_fees(s, cell_id=cell.id or 0, year=int(period[:4]))
            if f.period == period}
    paid = [rows[m.id or 0] for m in members if m.id in rows and rows[m.id or 0].paid]
    unpaid = [m.full_name for m in members if m.id in rows and not rows[m.id or 0].paid]
    unknown = [m.full_name for m in members if m.id not in rows]
    lines = [_("Cả tháng {month}: {n}/{total} đồng chí đã đóng, tổng {sum}.").format(
        month=_label(period), n=len(paid), total=len(members),
        sum=fmt_dong(sum(f.amount for f in paid)))]
    if unpaid:
        lines.append(_("Chưa đóng: {names}.").format(names=", ".join(unpaid)))
    if unknown:
        lines.append(_("Chưa ghi: {names}.").format(names=", ".join(unknown)))
    if not unpaid and not unknown:
        lines.append(_("Đã ghi đủ cả chi bộ."))
    return lines


@callback("fe", who=Who.LINKED)
def fees_button(ctx: Ctx, parts: list[str]) -> None:
    """The button after a roll call: the month's fee form (the list, "all paid" in one
    tap, or the exceptions typed)."""
    cell = _cell(ctx)
    period = parts[0] if parts else ""
    if cell is None or not re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", period):
        ctx.deny("fees button")
        return
    forms.start_private(ctx, "fees", {"cell_id": cell.id, "period": period})


def own_fee_lines(s: Session, member: Member, year: int) -> list[str]:
    """For /toi: the member's own fee record this year."""
    rows = member_fees(s, member_id=member.id or 0, year=year)
    if not rows:
        return [_("Đảng phí năm {y}: chưa có ghi nhận.").format(y=year)]
    paid = [f for f in rows if f.paid]
    unpaid = [_label(f.period) for f in rows if not f.paid]
    line = _("Đảng phí năm {y}: đã đóng {n} tháng ({total}).").format(
        y=year, n=len(paid), total=fmt_dong(sum(f.amount for f in paid)))
    if unpaid:
        line += " " + _("Chưa đóng: {months}.").format(months=", ".join(unpaid))
    return [line]


@command("sodangphi", "feebook", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Sổ thu đảng phí của chi bộ cả năm (Excel): /sodangphi [năm] (Bí thư)"))
def fee_book(ctx: Ctx, args: list[str], rest: str) -> None:
    from handlers.fees.book import fee_book_xlsx, quarter_lines

    cell = _cell(ctx)
    if cell is None:
        ctx.deny("fee book: not a cell leader")
        return
    year = ctx.now().astimezone(ZoneInfo(cell.timezone)).year
    if args:
        y = ascii_int(args[0], 4)
        if y is None or not 2000 <= y <= 2100:
            ctx.reply(_("Năm không hợp lệ. Ví dụ: /sodangphi 2026."))
            return
        year = y
    s = ctx.session
    members = cell_members(s, cell_id=cell.id or 0, include_left=True)
    rows: list[FeePayment] = cell_fees(s, cell_id=cell.id or 0, year=year)
    ctx.reply("\n".join(quarter_lines(cell, year, rows)))
    ctx.send(ctx.incoming.chat.id, _("Sổ thu đảng phí năm {y} (Excel).").format(y=year),
             attachment=Attachment(f"so-dang-phi-{cell.id}-{year}.xlsx",
                                   fee_book_xlsx(cell, year, members, rows), "document"))
