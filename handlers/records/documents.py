""".docx renderers for the meeting's records, laid out per Hướng dẫn 36-HD/VPTW.

A4, Times New Roman 14 pt, margins 20/20/30/15 mm; the issuing body top left (the parent
committee, the cell in bold capitals, "*"), "ĐẢNG CỘNG SẢN VIỆT NAM" top right in bold
with a short rule under it and the place and date in italics; the document type centred
in bold capitals; signature blocks; "Nơi nhận:" bottom left. Each renderer reads one
plain data object from ``handlers.records.data`` and returns the file's bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from handlers.core.labels import label
from handlers.records.data import (
    Absence,
    CommitteeData,
    Heading,
    MinutesData,
    ResolutionData,
    TaskLine,
    vote_passed,
)
from models.i18n import _, fmt_date, fmt_number, fmt_percent
from models.text import clean_text

FONT = "Times New Roman"
BODY_PT = 14
# Room to sign and stamp between the title of a signature block and the name: about
# 30 mm (a round seal is 35–42 mm across and overlaps the signature).
SIGN_SPACE_PT = 85


def _new() -> DocxDocument:
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(20), Mm(20)
    sec.left_margin, sec.right_margin = Mm(30), Mm(15)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(BODY_PT)
    rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), FONT)
    pf = style.paragraph_format
    pf.space_before, pf.space_after, pf.line_spacing = Pt(0), Pt(4), 1.15
    return doc


def _para(where: DocxDocument | _Cell, text: str = "", *, bold: bool = False,
          italic: bool = False, size: float | None = None, align: str = "justify",
          indent: bool = False, after: float | None = None) -> Paragraph:
    p = where.add_paragraph()
    p.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "left": WD_ALIGN_PARAGRAPH.LEFT,
                   "right": WD_ALIGN_PARAGRAPH.RIGHT,
                   "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}[align]
    if indent:
        p.paragraph_format.first_line_indent = Mm(10)
    if after is not None:
        p.paragraph_format.space_after = Pt(after)
    if text:
        run = p.add_run(clean_text(text))
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = Pt(size)
    return p


def _labelled(doc: DocxDocument, head: str, text: str, *, indent: bool = True) -> Paragraph:
    """"- Head: text" with the head in bold."""
    p = _para(doc, indent=indent)
    p.add_run(clean_text(head)).bold = True
    p.add_run(" " + clean_text(text) if text else "")
    return p


def _rule(where: _Cell, indent_mm: float) -> None:
    """A short centred line (the rule under "ĐẢNG CỘNG SẢN VIỆT NAM"): an empty paragraph
    with a bottom border, narrowed by its indents."""
    p = where.add_paragraph()
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.line_spacing = Pt(3)
    p.paragraph_format.left_indent = Mm(indent_mm)
    p.paragraph_format.right_indent = Mm(indent_mm)
    p.add_run().font.size = Pt(2)
    ppr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    ppr.append(bdr)


def _no_borders(table) -> None:  # type: ignore[no-untyped-def]
    tblpr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tblpr.append(borders)


def _widths(table, *mm: float) -> None:  # type: ignore[no-untyped-def]
    """Column widths that Word (cell widths) and LibreOffice (the grid) both honour."""
    table.autofit = False
    for col, w in zip(table.columns, mm, strict=True):
        col.width = Mm(w)
        for cell in col.cells:
            cell.width = Mm(w)


def date_line(h: Heading) -> str:
    d = h.day
    text = _("ngày {d:02d} tháng {m:02d} năm {y}").format(d=d.day, m=d.month, y=d.year)
    return f"{h.place}, {text}" if h.place else text[:1].upper() + text[1:]


def _heading(doc: DocxDocument, h: Heading, number: str | None = None) -> None:
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _no_borders(table)
    _widths(table, 72, 93)
    left, right = table.rows[0].cells
    left.paragraphs[0].text = ""
    p = left.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run(clean_text(h.parent.upper())).font.size = Pt(13)
    _para(left, h.cell.upper(), bold=True, size=13, align="center", after=0)
    _para(left, "*", align="center", after=2)
    if number:
        _para(left, number, size=13, align="center")
    p = right.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(_("ĐẢNG CỘNG SẢN VIỆT NAM"))
    run.bold, run.font.size = True, Pt(15)
    p.paragraph_format.space_after = Pt(0)
    _rule(right, 20)
    _para(right, "", after=2)
    _para(right, date_line(h), italic=True, align="center")
    _para(doc, "", after=0)


def _title(doc: DocxDocument, *lines: str) -> None:
    for i, line in enumerate(lines):
        _para(doc, line, bold=True, size=15 if i == 0 else BODY_PT, align="center",
              after=0 if i < len(lines) - 1 else 10)


def _signatures(doc: DocxDocument, left: tuple[str, str, str],
                right: tuple[str, str, str]) -> None:
    _para(doc, "", after=0)
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, 82, 83)
    for cell, (role, sub, name) in zip(table.rows[0].cells, (left, right), strict=True):
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        cell.paragraphs[0].add_run(role).bold = True
        if sub:
            _para(cell, sub, bold=True, align="center", after=0)
        _para(cell, "", after=SIGN_SPACE_PT)
        _para(cell, name, bold=True, align="center")


def _bytes(doc: DocxDocument) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def due_text(d: date | None) -> str:
    return fmt_date(d) if d else _("trong tháng")


def guest_text(name: str, title: str | None, upper: bool) -> str:
    """"đồng chí Nguyễn Văn An, Đảng ủy viên, phụ trách chi bộ (cấp ủy cấp trên dự)"."""
    text = _("đồng chí {name}").format(name=name) + (f", {title}" if title else "")
    return text + (" " + _("(cấp ủy cấp trên dự)") if upper else "")


def draft_mark(final: bool) -> str | None:
    """"DỰ THẢO" on every unconfirmed revision of the minutes."""
    return None if final else _("DỰ THẢO")


def absence_text(a: Absence) -> str:
    if a.excused:
        return _("{name} (vắng có lý do: {reason})").format(name=a.name, reason=a.reason or "")
    return _("{name} (vắng không có lý do)").format(name=a.name)


def hhmm(d: object) -> str:
    return d.strftime("%H giờ %M") if hasattr(d, "strftime") else ""  # type: ignore[union-attr]


def minutes_title(d: MinutesData) -> str:
    kind = _("CHUYÊN ĐỀ") if d.thematic else _("THƯỜNG KỲ")
    return _("SINH HOẠT CHI BỘ {kind} THÁNG {m} NĂM {y}").format(kind=kind, m=d.month, y=d.year)


def minutes_docx(d: MinutesData) -> bytes:
    doc = _new()
    _heading(doc, d.heading)
    if (mark := draft_mark(d.final)) is not None:
        _para(doc, mark, bold=True, size=BODY_PT, align="center", after=4)
    _title(doc, _("BIÊN BẢN"), minutes_title(d))
    start = d.started or d.heading.day
    _para(doc, _("Thời gian bắt đầu: {hhmm}, ngày {date}.").format(
        hhmm=hhmm(d.started), date=fmt_date(start)), indent=True)
    _para(doc, _("Địa điểm: {place}.").format(place=d.place or _("trụ sở cơ quan")),
          indent=True)
    if d.topic:
        _para(doc, _("Chuyên đề: {topic}.").format(topic=d.topic), indent=True)
    _para(doc, _("I. THÀNH PHẦN"), bold=True)
    if d.guests:
        _labelled(doc, _("- Khách mời:"), "; ".join(
            guest_text(n, t, up) for n, t, up in d.guests) + ".")
    _labelled(doc, _("- Chủ trì:"), _("đồng chí {name}.").format(name=d.chair))
    _labelled(doc, _("- Thư ký:"), _("đồng chí {name}.").format(name=d.minute_taker))
    _labelled(doc, _("- Đảng viên:"), _(
        "tổng số {total} đồng chí; miễn sinh hoạt {ex}; phải dự {due}; có mặt {present}; "
        "vắng {absent}.").format(total=d.total, ex=len(d.exempted), due=d.due,
                                 present=d.present, absent=len(d.absent)))
    for a in d.absent:
        _para(doc, "+ " + absence_text(a), indent=True)
    for name, reason in d.exempted:
        _para(doc, "+ " + _("{name} (miễn sinh hoạt: {reason})").format(
            name=name, reason=reason or ""), indent=True)
    if d.late:
        _para(doc, "+ " + _("Đến muộn: {names}.").format(names=", ".join(d.late)), indent=True)
    _para(doc, _("II. NỘI DUNG"), bold=True)
    for i, (title, presenter) in enumerate(d.agenda, 1):
        who = _(" (đồng chí {name} trình bày)").format(name=presenter) if presenter else ""
        _para(doc, f"{i}. {title}{who}.", indent=True)
    _para(doc, _("III. DIỄN BIẾN"), bold=True)
    _para(doc, _("Các ý kiến phát biểu:"), indent=True)
    for speaker, text in d.opinions:
        _labelled(doc, _("- Đồng chí {name}:").format(name=speaker), text)
    if not d.opinions:
        _para(doc, _("Không có ý kiến phát biểu."), indent=True)
    _para(doc, _("IV. KẾT LUẬN CỦA CHỦ TRÌ"), bold=True)
    for title, text in d.conclusions:
        if title:
            _labelled(doc, f"- {title}:", text)
        else:
            _para(doc, text, indent=True)
    if d.tasks:
        _para(doc, _("Phân công nhiệm vụ:"), indent=True)
        _tasks(doc, d.tasks)
    _para(doc, _("V. BIỂU QUYẾT"), bold=True)
    _para(doc, vote_line(d.vote, d.present), indent=True)
    if d.ended:
        _para(doc, _("Buổi sinh hoạt kết thúc lúc {hhmm} cùng ngày. Biên bản đã được đọc lại "
                     "cho chi bộ nghe và thông qua.").format(hhmm=hhmm(d.ended)), indent=True)
    _signatures(doc, (_("THƯ KÝ"), "", d.minute_taker), (_("CHỦ TRÌ"), "", d.chair))
    return _bytes(doc)


def vote_line(vote: tuple[int, int, int] | None, present: int) -> str:
    if vote is None:
        return _("Chưa ghi kết quả biểu quyết.")
    agree, disagree, other = vote
    line = _("Số đảng viên có mặt: {p}; tán thành {a}/{p} ({share}); không tán thành {d}; ý "
             "kiến khác {o}.").format(p=present, a=agree, d=disagree, o=other,
                                     share=fmt_number(100 * agree / present if present else 0)
                                     + "%")
    if not vote_passed(vote, present):  # the minutes record a failed vote as such
        line += " " + vote_failed_text()
    return line


def vote_failed_text() -> str:
    return _("Nghị quyết không được thông qua (số tán thành không quá một nửa số đảng viên có "
             "mặt).")


def _tasks(doc: DocxDocument, tasks: Iterable[TaskLine]) -> None:
    for i, t in enumerate(tasks, 1):
        _para(doc, _("{i}. {text} — đồng chí {who} thực hiện, hạn {due}.").format(
            i=i, text=t.text, who=t.who, due=due_text(t.due)), indent=True)


def resolution_number(d: ResolutionData) -> str:
    return _("Số {n:02d}-NQ/CB").format(n=d.number)


def resolution_docx(d: ResolutionData) -> bytes:
    doc = _new()
    _heading(doc, d.heading, resolution_number(d))
    _title(doc, _("NGHỊ QUYẾT"), _("SINH HOẠT CHI BỘ THÁNG {m} NĂM {y}").format(
        m=d.month, y=d.year))
    _para(doc, _("Căn cứ Điều lệ Đảng Cộng sản Việt Nam; căn cứ kết quả buổi sinh hoạt chi bộ "
                 "tháng {m}/{y},").format(m=d.month, y=d.year), italic=True, indent=True)
    _para(doc, _("CHI BỘ QUYẾT NGHỊ"), bold=True, align="center")
    _para(doc, _("I. ĐÁNH GIÁ KẾT QUẢ THÁNG {m}/{y}").format(m=d.month, y=d.year), bold=True)
    for line in evaluation_lines(d):
        _para(doc, bullet(line), indent=True)
    for title, text in d.conclusions:
        if title:
            _labelled(doc, f"- {title}:", text)
        else:
            _para(doc, "- " + text, indent=True)
    _para(doc, _("II. NHIỆM VỤ THÁNG TỚI"), bold=True)
    if d.tasks:
        _tasks(doc, d.tasks)
    else:
        _para(doc, _("Chi bộ tiếp tục thực hiện các nhiệm vụ thường xuyên."), indent=True)
    _para(doc, _("III. TỔ CHỨC THỰC HIỆN"), bold=True)
    _para(doc, organise_text(), indent=True)
    _nq_signature(doc, d)
    return _bytes(doc)


def bullet(line: str) -> str:
    """"- " before a point of the evaluation; its sub-items already start with "+ "."""
    return line if line.startswith("+ ") else "- " + line


def evaluation_lines(d: ResolutionData) -> list[str]:
    share = fmt_percent(d.present / d.due) if d.due else "—"
    lines = [_("Chi bộ có {due} đảng viên phải dự, có mặt {present}/{due} ({share}), vắng "
               "{absent}.").format(due=d.due, present=d.present, share=share,
                                   absent=len(d.absent))]
    if d.absent:
        lines.append(_("Vắng: {names}.").format(names="; ".join(absence_text(a) for a in d.absent)))
    if d.score is not None and d.band:
        lines.append(_("Chất lượng buổi sinh hoạt: {score} điểm, xếp loại {band}.").format(
            score=fmt_number(d.score), band=label(d.band)))
    if d.last_tasks:
        done = [t for t in d.last_tasks if t.done]
        lines.append(_("Nhiệm vụ tháng trước: hoàn thành {d}/{n}.").format(
            d=len(done), n=len(d.last_tasks)))
        lines += ["+ " + (_("{text} (đồng chí {who}): đã hoàn thành.") if t.done else
                          _("{text} (đồng chí {who}): chưa hoàn thành.")).format(
                              text=t.text, who=t.who) for t in d.last_tasks]
    if d.vote is not None:
        lines.append(_("Nghị quyết được {a}/{p} đảng viên có mặt tán thành.").format(
            a=d.vote[0], p=d.present))
    return lines


def organise_text() -> str:
    return _("Các đồng chí đảng viên được phân công có trách nhiệm tổ chức thực hiện nghị "
             "quyết; chi ủy theo dõi, đôn đốc và báo cáo kết quả tại kỳ sinh hoạt tháng sau.")


def _nq_signature(doc: DocxDocument, d: ResolutionData) -> None:
    _para(doc, "", after=0)
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, 90, 75)
    left, right = table.rows[0].cells
    p = left.paragraphs[0]
    r = p.add_run(_("Nơi nhận:"))
    r.bold, r.italic, r.underline = True, True, False
    for line in d.recipients:
        _para(left, line, size=12, align="left", after=0)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    right.paragraphs[0].add_run(_("T/M CHI BỘ")).bold = True
    _para(right, _("BÍ THƯ"), bold=True, align="center", after=SIGN_SPACE_PT)
    _para(right, d.secretary, bold=True, align="center")


def committee_docx(d: CommitteeData) -> bytes:
    doc = _new()
    _heading(doc, d.heading)
    _title(doc, _("BIÊN BẢN"), _("HỌP CHI ỦY CHUẨN BỊ SINH HOẠT CHI BỘ THÁNG {m} NĂM {y}")
           .format(m=d.month, y=d.year))
    _para(doc, _("Thời gian: {hhmm}, ngày {date}.").format(hhmm=hhmm(d.held),
                                                          date=fmt_date(d.held)), indent=True)
    _labelled(doc, _("- Có mặt:"), ", ".join(d.attendees) + ".")
    if d.absent:
        _labelled(doc, _("- Vắng:"), ", ".join(d.absent) + ".")
    _para(doc, _("Nội dung thống nhất:"), bold=True)
    for line in d.content.splitlines():
        if line.strip():
            _para(doc, line.strip(), indent=True)
    if d.recorder and d.recorder != d.secretary:
        _signatures(doc, (_("THƯ KÝ"), "", d.recorder), (_("BÍ THƯ"), "", d.secretary))
    else:  # the secretary wrote them: one block, no unnamed "THƯ KÝ"
        _signature(doc, _("T/M CHI ỦY"), _("BÍ THƯ"), d.secretary)
    return _bytes(doc)


def _signature(doc: DocxDocument, role: str, sub: str, name: str) -> None:
    """One signature block on the right half."""
    _para(doc, "", after=0)
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, 82, 83)
    cell = table.rows[0].cells[1]
    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    cell.paragraphs[0].add_run(role).bold = True
    _para(cell, sub, bold=True, align="center", after=SIGN_SPACE_PT)
    _para(cell, name, bold=True, align="center")


def book_docx(cell: str, year: int, parent: str, minutes: list[MinutesData]) -> bytes:
    """The minutes book of the year: every final minutes of the cell in date order."""
    doc = _new()
    _para(doc, parent.upper(), align="center")
    _para(doc, cell.upper(), bold=True, align="center", after=120)
    _title(doc, _("SỔ GHI BIÊN BẢN SINH HOẠT CHI BỘ"), _("NĂM {y}").format(y=year))
    _para(doc, _("Gồm {n} biên bản.").format(n=len(minutes)), align="center")
    for d in minutes:
        doc.add_page_break()
        _title(doc, _("BIÊN BẢN"), minutes_title(d))
        sub = Document(io.BytesIO(minutes_docx(d)))
        body = list(sub.element.body)
        # Skip the heading table and both title lines; copy the rest.
        end = doc.element.body[-1]  # the section properties stay last
        for el in body[4:]:
            if not el.tag.endswith("sectPr"):
                end.addprevious(el)
    return _bytes(doc)
