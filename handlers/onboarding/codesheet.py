"""The printable code sheet of a cell (`chibot code --cell X --all`): one card per member
with the name, a fresh one-time code and a QR code of the bot's deep link
``https://t.me/<bot>?start=<CODE>``, cut out and handed to each member at the meeting;
and the code that binds the cell's group chat. One code per command does not onboard a
40-member cell.

Codes are made by ``models.member.new_link_code`` exactly as `chibot code --member` makes
them (same alphabet, same lifetime). Without a bot username the QR code holds the code
alone and the sheet says how to use it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import segno
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt
from sqlmodel import Session

from handlers.records.documents import _bytes, _new, _para, _widths
from models.i18n import _, fmt_datetime
from models.member import cell_members, new_link_code
from models.org import Organisation

COLUMNS = 3  # cards per row: 3 × 55 mm fill the 165 mm between the margins
CARD_MM = 55
QR_MM = 34


@dataclass(frozen=True)
class Card:
    name: str
    code: str
    link: str  # what the QR code holds: the deep link, or the code alone


@dataclass(frozen=True)
class CodeSheet:
    cell: str
    parent: str
    cards: list[Card]
    group_code: str
    expires: str  # local date and time, as printed
    bot_username: str


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}" if bot_username else code


def issue_cell_codes(session: Session, cell: Organisation, *, now: datetime,
                     bot_username: str, timezone: str) -> CodeSheet:
    """A fresh member code for every active member of ``cell`` and a group code; the
    caller commits."""
    cards = []
    for m in cell_members(session, cell_id=cell.id or 0):
        link = new_link_code(session, purpose="member", member_id=m.id, now=now)
        cards.append(Card(m.full_name, link.code, deep_link(bot_username, link.code)))
    group = new_link_code(session, purpose="chat", org_id=cell.id, now=now)
    parent = session.get(Organisation, cell.parent_id) if cell.parent_id else None
    return CodeSheet(cell=cell.name, parent=parent.name if parent else "", cards=cards,
                     group_code=group.code,
                     expires=fmt_datetime(group.expires_at, timezone),
                     bot_username=bot_username.lstrip("@"))


def _qr_png(data: str) -> io.BytesIO:
    buf = io.BytesIO()
    segno.make(data, error="m").save(buf, kind="png", scale=8, border=2)
    buf.seek(0)
    return buf


def sheet_docx(sheet: CodeSheet) -> bytes:
    """A4 .docx: heading, how to use the codes, the group code, then the cards."""
    doc = _new()
    if sheet.parent:
        _para(doc, sheet.parent.upper(), size=12, align="center", after=0)
    _para(doc, sheet.cell.upper(), bold=True, size=13, align="center", after=8)
    _para(doc, _("MÃ LIÊN KẾT TÀI KHOẢN VỚI BOT CHI BỘ"), bold=True, size=15,
          align="center", after=8)
    if sheet.bot_username:
        how = _("Mỗi đồng chí nhận phiếu mang tên mình, quét mã QR bằng điện thoại (mở "
                "Telegram, bot @{bot}) hoặc gửi /start MÃ cho bot.").format(
                    bot=sheet.bot_username)
    else:
        how = _("Mỗi đồng chí nhận phiếu mang tên mình và gửi /start MÃ cho bot chi bộ trên "
                "Telegram hoặc Zalo. Mã QR trên phiếu chỉ chứa mã.")
    _para(doc, how, size=12)
    _para(doc, _("Mỗi mã chỉ dùng một lần và hết hạn lúc {until}. Không đưa mã của mình cho "
                 "người khác.").format(until=sheet.expires), size=12)
    p = _para(doc, size=12, after=10)
    p.add_run(_("Nhóm chat của chi bộ: ")).font.size = Pt(12)
    run = p.add_run(_("Bí thư thêm bot vào nhóm rồi gửi /link {code} trong nhóm.")
                    .format(code=sheet.group_code))
    run.bold, run.font.size = True, Pt(12)

    rows = -(-len(sheet.cards) // COLUMNS)
    table = doc.add_table(rows=rows, cols=COLUMNS)
    table.style = "Table Grid"  # the borders are the cutting lines
    _widths(table, *([CARD_MM] * COLUMNS))
    for i, card in enumerate(sheet.cards):
        cell = table.rows[i // COLUMNS].cells[i % COLUMNS]
        first = cell.paragraphs[0]
        first.alignment = WD_ALIGN_PARAGRAPH.CENTER
        name = first.add_run(card.name)
        name.bold, name.font.size = True, Pt(12)
        pic = _para(cell, align="center", after=0)
        pic.add_run().add_picture(_qr_png(card.link), width=Mm(QR_MM))
        code = _para(cell, align="center", after=0)
        run = code.add_run(card.code)
        run.bold, run.font.size, run.font.name = True, Pt(16), "Courier New"
        _para(cell, f"/start {card.code}", size=10, align="center")
    return _bytes(doc)
