"""The yearly review: /tudanhgia (a member's self-assessment, from December), /danhgia
(the cell's proposal per member, prefilled from the year's record, and the cell's own
level); /duyet, the base organisation's approval, is in handlers/year/approve.py. A level
already approved is not the secretary's to change. Every level is checked against the
conditions of the classification rules (data) and the 20% cap on "xuất sắc" per unit."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.core.access import led_cells
from handlers.core.context import Ctx
from handlers.core.labels import label
from handlers.core.notify import send_private
from handlers.core.router import Where, Who, command
from handlers.forms.amounts import ascii_int
from handlers.meetings.steps import step_handler
from handlers.year import classify
from models.audit import audit
from models.classification import LEVELS
from models.i18n import N_, _, use_locale
from models.meeting import Meeting
from models.member import Member, cell_members
from models.org import Organisation
from models.review import member_review, org_review, year_record
from models.schedule import ScheduledStep
from models.settings import Settings

log = logging.getLogger(__name__)


def review_year(ctx: Ctx, tz: str) -> tuple[int, bool]:
    """(the year under review, whether its review is open): December and the first two
    months of the next year."""
    local = ctx.now().astimezone(ZoneInfo(tz))
    if local.month == 12:
        return local.year, True
    if local.month <= 2:
        return local.year - 1, True
    return local.year, False


def _year_arg(ctx: Ctx, args: list[str], tz: str) -> tuple[int | None, list[str]]:
    """The year named first in ``args`` (else the year under review); None for a year
    that is not one or has not come yet (a year is reviewed in its December at the
    earliest: "/danhgia 2099" would open a review of nothing)."""
    if args and (y := ascii_int(args[0], 4)) is not None and len(args[0]) == 4:
        return (y if 2000 <= y <= ctx.now().astimezone(ZoneInfo(tz)).year else None), args[1:]
    return review_year(ctx, tz)[0], args


def bad_year(ctx: Ctx, command: str, tz: str) -> str:
    y = ctx.now().astimezone(ZoneInfo(tz)).year
    return _("Năm không hợp lệ hoặc chưa đến: chỉ từ năm 2000 đến năm {y}. Ví dụ: /{cmd} "
             "{y}.").format(y=y, cmd=command)


def _record_line(r: dict[str, Any]) -> str:
    return _("dự {a}/{d} (vắng có lý do {e}), vắng không lý do {u}, chưa đóng đảng phí {p} "
             "tháng, nhiệm vụ đến hạn {t}/{n}").format(
        a=r["attended"], d=r["due"], e=r["excused"], u=r["unexcused"], p=r["unpaid"],
        t=r["tasks_done"], n=r["tasks"])


def level_line(level: str | None, stage: str, reason: str | None) -> str:
    """A level as listings show it, with whether it is approved (one wording for /danhgia
    and /duyet)."""
    if level is None:
        return classify.not_rated_text(reason or "")
    if stage == "confirmed":
        return _("đã duyệt: {lv}").format(lv=label(level))
    if stage == "prefilled":
        return _("đề xuất: {lv} (tự động từ ghi nhận)").format(lv=label(level))
    return _("đề xuất: {lv}").format(lv=label(level))


def as_of(ctx: Ctx, tz: str) -> date:
    """Today in the cell's timezone: tasks due after it do not count yet."""
    return ctx.now().astimezone(ZoneInfo(tz)).date()


def _levels_help() -> str:
    return "\n".join(f"{i}. {label(lv)}" for i, lv in enumerate(LEVELS, 1))


@step_handler("review_open")
def review_open(s: Session, meeting: Meeting, cell: Organisation, step: ScheduledStep,
                now: datetime, settings: Settings) -> None:
    """After December's meeting: each member of the cell gets the self-assessment form."""
    year = int(meeting.period[:4])
    for m in cell_members(s, cell_id=cell.id or 0):
        with use_locale(m.locale):
            text = "\n".join([_("Kính gửi đồng chí {name}: chi bộ bắt đầu kiểm điểm, đánh giá, "
                                "xếp loại năm {y}. Đề nghị đồng chí gửi bản tự kiểm điểm: "
                                "chọn mức và viết vài dòng, ví dụ /tudanhgia 2 Hoàn thành các "
                                "nhiệm vụ được giao…").format(name=m.full_name, y=year),
                              _levels_help()])
        send_private(s, m, text, f"m{meeting.id}:review_open:{m.id}", now=now)


# -- /tudanhgia ---------------------------------------------------------------------------
@command("tudanhgia", "selfreview", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Bản tự kiểm điểm cuối năm: /tudanhgia MỨC NỘI DUNG (từ tháng 12)"))
def self_review(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    me = ctx.actor.member
    cell = s.get(Organisation, me.cell_id) if me and me.cell_id else None
    if me is None or cell is None:
        ctx.deny("self review: no cell")
        return
    year, open_ = review_year(ctx, cell.timezone)
    if not open_:
        ctx.reply(_("Bản tự kiểm điểm năm {y} mở từ tháng 12/{y}.").format(y=year))
        return
    rv = member_review(s, member=me, year=year)
    if not args:
        mine = next((r for r in year_record(s, cell, year, as_of(ctx, cell.timezone))
                     if r["member_id"] == me.id), None)
        lines = [_("Tự kiểm điểm năm {y} — đồng chí {name}").format(y=year, name=me.full_name)]
        if mine:
            lines.append(_("Ghi nhận cả năm: {rec}.").format(rec=_record_line(mine)))
        if rv.self_level:
            lines.append(_("Đã tự xếp loại: {lv}.").format(lv=label(rv.self_level)))
        lines += [_("Chọn mức và viết vài dòng tự đánh giá, ví dụ: /tudanhgia 2 Hoàn thành các "
                    "nhiệm vụ được giao…"), _levels_help()]
        ctx.reply("\n".join(lines))
        return
    level = classify.parse_level(args[0])
    text = rest.strip()[len(args[0]):].strip()
    if level is None:
        ctx.reply(_("Không rõ mức “{x}”. Chọn 1–4:").format(x=args[0][:20]) + "\n" +
                  _levels_help())
        return
    if not 10 <= len(text) <= 1000:
        ctx.reply(_("Đề nghị đồng chí viết vài dòng tự đánh giá (10–1000 ký tự) sau mức xếp "
                    "loại."))
        return
    rv.self_level, rv.self_text, rv.self_at, rv.updated_at = level, text, ctx.now(), ctx.now()
    s.add(rv)
    audit(s, "review.self", "member", me.id, me.id, year=year, level=level)
    ctx.reply(_("Đã ghi bản tự kiểm điểm năm {y}: {lv}. Chi bộ sẽ xem xét, đề xuất.").format(
        y=year, lv=label(level)))


# -- /danhgia -------------------------------------------------------------------------------
def _cell_row(s: Session, cell: Organisation, year: int) -> Any:
    rows = classify.year_cells(s, cell, year)
    return rows[0] if rows else None


def _cell_listing(ctx: Ctx, cell: Organisation, year: int) -> str:
    s, rules = ctx.session, classify.rules_for(ctx.settings)
    lines = [_("Đánh giá, xếp loại năm {y} — {cell}").format(y=year, cell=cell.name)]
    for i, r in enumerate(year_record(s, cell, year, as_of(ctx, cell.timezone)), 1):
        level, stage = classify.member_level(r, rules, ctx.settings)
        lines.append(_("{i}. {name}: {rec}; tự xếp loại: {self}; {lv}").format(
            i=i, name=r["name"], rec=_record_line(r),
            self=label(r["self_level"]) if r["self_level"] else "—",
            lv=level_line(level, stage, classify.not_rated("member", r, ctx.settings))))
    row = _cell_row(s, cell, year)
    if row is not None:
        lines.append(cell_line(ctx, row, year))
    lines.append(_("Sửa: /danhgia {y} SỐ MỨC (1–4), /danhgia {y} SỐ kyluat, /danhgia {y} "
                   "chibo MỨC.").format(y=year))
    return "\n".join(lines)


def cell_line(ctx: Ctx, row: Any, year: int) -> str:
    """The cell's own year: meeting quality (or why it is not rated) and its level."""
    rules = classify.rules_for(ctx.settings)
    reason = classify.not_rated("cell", row, ctx.settings)
    rv = org_review(ctx.session, org_id=row["cell_id"], year=year)
    if rv.confirmed_level:
        level, stage = rv.confirmed_level, "confirmed"
    elif rv.proposed_level:
        level, stage = rv.proposed_level, "proposed"
    else:
        level, stage = classify.cell_proposal(row, rules, ctx.settings), "prefilled"
    return _("Chi bộ: chất lượng sinh hoạt cả năm {q}; xếp loại {lv}.").format(
        q=classify.year_quality(row, ctx.settings), lv=level_line(level, stage, reason))


@command("danhgia", "review", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Đề xuất xếp loại đảng viên và chi bộ cuối năm: /danhgia [năm] (Bí thư)"))
def review(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    cells = led_cells(ctx.actor)
    cell = s.get(Organisation, cells[0]) if cells else None
    if cell is None:
        ctx.deny("review: not a cell leader")
        return
    year, args = _year_arg(ctx, args, cell.timezone)
    if year is None:
        ctx.reply(bad_year(ctx, "danhgia", cell.timezone))
        return
    if not args:
        ctx.reply(_cell_listing(ctx, cell, year))
        return
    rules = classify.rules_for(ctx.settings)
    actor_id = ctx.actor.member.id if ctx.actor.member else None
    if args[0].lower() in ("chibo", "chi_bo", "cell") and len(args) >= 2:
        _propose_cell(ctx, cell, year, " ".join(args[1:]))
        return
    records = year_record(s, cell, year, as_of(ctx, cell.timezone))
    n = ascii_int(args[0], 3)
    if len(args) < 2 or n is None or not 1 <= n <= len(records):
        ctx.reply(_("Cú pháp: /danhgia {y} SỐ MỨC, ví dụ /danhgia {y} 3 2 (số thứ tự trong "
                    "danh sách, mức 1–4).").format(y=year))
        return
    r = records[n - 1]
    member = s.get(Member, r["member_id"])
    assert member is not None
    rv = member_review(s, member=member, year=year)
    choice = " ".join(args[1:])
    disciplined = classify.fold_key(choice) == "kyluat"
    level = None if disciplined else classify.parse_level(choice)
    if not disciplined and level is None:
        ctx.reply(_("Không rõ mức “{x}”. Chọn 1–4:").format(x=choice[:20]) + "\n" +
                  _levels_help())
        return
    if rv.confirmed_level:  # approved: only the base organisation changes it now
        log.info("review refused for member %s: already approved", member.id)
        ctx.reply(_("Xếp loại năm {y} của đồng chí {name} đã được cấp trên duyệt ({lv}); chi "
                    "bộ không sửa được. Nếu cần, đề nghị cấp ủy cấp trên điều chỉnh.").format(
            y=year, name=member.full_name, lv=label(rv.confirmed_level)))
        return
    if (reason := classify.not_rated("member", r, ctx.settings)) is not None:
        ctx.reply(_("Đồng chí {name} không xếp loại năm {y}: {reason}.").format(
            name=member.full_name, y=year, reason=reason))
        return
    if disciplined:
        previous = rv.proposed_level
        rv.disciplined, rv.proposed_level, rv.updated_at = True, None, ctx.now()
        s.add(rv)
        audit(s, "review.disciplined", "member", member.id, actor_id, year=year,
              previous=previous)
        ctx.reply(_("Đã ghi: đồng chí {name} bị kỷ luật trong năm {y}; đề xuất xếp loại được "
                    "tính lại.").format(name=member.full_name, y=year))
        return
    assert level is not None
    why = classify.member_refusal(rules, r, records, level, cell.name, ctx.settings)
    if why is not None:
        log.info("review refused for member %s: %s", member.id, why)
        ctx.reply(why)
        return
    previous = rv.proposed_level
    rv.proposed_level, rv.proposed_by = level, actor_id
    rv.proposed_at = rv.updated_at = ctx.now()
    s.add(rv)
    audit(s, "review.propose", "member", member.id, actor_id, year=year, previous=previous,
          level=level)
    ctx.reply(_("Đã ghi đề xuất của chi bộ: đồng chí {name} — {lv}.").format(
        name=member.full_name, lv=label(level)))


def _propose_cell(ctx: Ctx, cell: Organisation, year: int, text: str) -> None:
    s, rules = ctx.session, classify.rules_for(ctx.settings)
    level = classify.parse_level(text)
    row = _cell_row(s, cell, year)
    if level is None or row is None:
        ctx.reply(_("Không rõ mức “{x}”. Chọn 1–4:").format(x=text[:20]) + "\n" +
                  _levels_help())
        return
    rv = org_review(s, org_id=cell.id or 0, year=year)
    why = classify.refusal(rules, "org", classify.cell_facts(row, ctx.settings), level)
    if (reason := classify.not_rated("cell", row, ctx.settings)) is not None:
        why = _("{cell} không xếp loại năm {y}: {reason}.").format(cell=cell.name, y=year,
                                                                    reason=reason)
    elif rv.confirmed_level:
        why = _("Xếp loại năm {y} của {cell} đã được cấp trên duyệt ({lv}); chi bộ không sửa "
                "được.").format(y=year, cell=cell.name, lv=label(rv.confirmed_level))
    if why is not None:
        log.info("cell review refused for %s: %s", cell.id, why)
        ctx.reply(why)
        return
    previous = rv.proposed_level
    rv.proposed_level, rv.updated_at = level, ctx.now()
    rv.proposed_by = ctx.actor.member.id if ctx.actor.member else None
    s.add(rv)
    audit(s, "review.propose_org", "organisation", cell.id, rv.proposed_by, year=year,
          previous=previous, level=level)
    ctx.reply(_("Đã ghi đề xuất xếp loại {cell} năm {y}: {lv}.").format(
        cell=cell.name, y=year, lv=label(level)))
