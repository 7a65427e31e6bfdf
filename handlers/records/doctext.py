"""The meeting's documents as chat text: for Zalo (no files) and for the secretary's check."""

from __future__ import annotations

from handlers.records.data import Heading, MinutesData, ResolutionData, TaskLine
from handlers.records.documents import (
    absence_text,
    bullet,
    date_line,
    draft_mark,
    due_text,
    evaluation_lines,
    guest_text,
    hhmm,
    minutes_title,
    organise_text,
    resolution_number,
    vote_line,
)
from models.i18n import _, fmt_date


def _head(h: Heading) -> list[str]:
    return [h.parent.upper(), h.cell.upper(), _("ĐẢNG CỘNG SẢN VIỆT NAM"), date_line(h)]


def _tasks(tasks: list[TaskLine]) -> list[str]:
    return [_("{i}. {text} — đồng chí {who} thực hiện, hạn {due}.").format(
        i=i, text=t.text, who=t.who, due=due_text(t.due)) for i, t in enumerate(tasks, 1)]


def minutes_text(d: MinutesData) -> str:
    mark = draft_mark(d.final)
    lines = [*_head(d.heading), "", *([mark] if mark else []), _("BIÊN BẢN"),
             minutes_title(d), ""]
    start = d.started or d.heading.day
    lines.append(_("Thời gian bắt đầu: {hhmm}, ngày {date}.").format(
        hhmm=hhmm(d.started), date=fmt_date(start)))
    lines.append(_("Địa điểm: {place}.").format(place=d.place or _("trụ sở cơ quan")))
    lines.append(_("I. THÀNH PHẦN"))
    for n, t, up in d.guests:
        lines.append(_("- Khách mời:") + " " + guest_text(n, t, up) + ".")
    lines.append(_("- Chủ trì:") + " " + _("đồng chí {name}.").format(name=d.chair))
    lines.append(_("- Thư ký:") + " " + _("đồng chí {name}.").format(name=d.minute_taker))
    lines.append(_("- Đảng viên:") + " " + _(
        "tổng số {total} đồng chí; miễn sinh hoạt {ex}; phải dự {due}; có mặt {present}; "
        "vắng {absent}.").format(total=d.total, ex=len(d.exempted), due=d.due,
                                 present=d.present, absent=len(d.absent)))
    lines += ["  + " + absence_text(a) for a in d.absent]
    lines.append(_("II. NỘI DUNG"))
    lines += [f"{i}. {t}" + (_(" (đồng chí {name} trình bày)").format(name=p) if p else "")
              for i, (t, p) in enumerate(d.agenda, 1)]
    lines.append(_("III. DIỄN BIẾN"))
    lines += [_("- Đồng chí {name}:").format(name=s) + " " + t for s, t in d.opinions]
    lines.append(_("IV. KẾT LUẬN CỦA CHỦ TRÌ"))
    lines += [(f"- {t}: " if t else "- ") + c for t, c in d.conclusions]
    if d.tasks:
        lines.append(_("Phân công nhiệm vụ:"))
        lines += _tasks(d.tasks)
    lines += [_("V. BIỂU QUYẾT"), vote_line(d.vote, d.present)]
    if d.ended:
        lines.append(_("Kết thúc lúc {hhmm}.").format(hhmm=hhmm(d.ended)))
    lines.append(_("Thư ký: {a} — Chủ trì: {b}").format(a=d.minute_taker, b=d.chair))
    return "\n".join(lines)


def resolution_text(d: ResolutionData) -> str:
    lines = [*_head(d.heading), resolution_number(d), "", _("NGHỊ QUYẾT"),
             _("SINH HOẠT CHI BỘ THÁNG {m} NĂM {y}").format(m=d.month, y=d.year), "",
             _("I. ĐÁNH GIÁ KẾT QUẢ THÁNG {m}/{y}").format(m=d.month, y=d.year)]
    lines += [bullet(x) for x in evaluation_lines(d)]
    lines += [(f"- {t}: " if t else "- ") + c for t, c in d.conclusions]
    lines.append(_("II. NHIỆM VỤ THÁNG TỚI"))
    lines += _tasks(d.tasks) or [_("Chi bộ tiếp tục thực hiện các nhiệm vụ thường xuyên.")]
    lines += [_("III. TỔ CHỨC THỰC HIỆN"), organise_text(), "",
              _("T/M CHI BỘ — BÍ THƯ: {name}").format(name=d.secretary), "",
              _("Nơi nhận:"), *d.recipients]
    return "\n".join(lines)
