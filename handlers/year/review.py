"""The yearly review: /tudanhgia (a member's self-assessment, from December), /danhgia
(the cell's proposal per member, prefilled from the year's record, and the cell's own
level), /duyet (the base organisation confirms). Every level is checked against the
conditions of the classification rules (data) and the 20% cap on "xuất sắc" per unit."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.core.access import led_cells, oversees
from handlers.core.context import Ctx
from handlers.core.labels import cell_label, label
from handlers.core.notify import send_private
from handlers.core.router import Where, Who, command
from handlers.forms.amounts import ascii_int
from handlers.meetings.steps import step_handler
from handlers.year import classify
from models.audit import audit
from models.classification import LEVELS
from models.i18n import N_, _, fmt_percent, use_locale
from models.meeting import Meeting
from models.member import Member, cell_members
from models.org import CELL_KINDS, Organisation, subtree_cells
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


def _bad_year(ctx: Ctx, command: str, tz: str) -> str:
    y = ctx.now().astimezone(ZoneInfo(tz)).year
    return _("Năm không hợp lệ hoặc chưa đến: chỉ từ năm 2000 đến năm {y}. Ví dụ: /{cmd} "
             "{y}.").format(y=y, cmd=command)


def _record_line(r: dict[str, Any]) -> str:
    return _("dự {a}/{d}, vắng không lý do {u}, chưa đóng đảng phí {p} tháng, nhiệm vụ "
             "{t}/{n}").format(a=r["attended"], d=r["due"], u=r["unexcused"], p=r["unpaid"],
                               t=r["tasks_done"], n=r["tasks"])


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
        mine = next((r for r in year_record(s, cell, year) if r["member_id"] == me.id), None)
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
    for i, r in enumerate(year_record(s, cell, year), 1):
        level, stage = classify.member_level(r, rules, ctx.settings)
        lines.append(_("{i}. {name}: {rec}; tự xếp loại: {self}; đề xuất: {lv}{auto}").format(
            i=i, name=r["name"], rec=_record_line(r),
            self=label(r["self_level"]) if r["self_level"] else "—", lv=label(level),
            auto=_(" (tự động từ ghi nhận)") if stage == "prefilled" else ""))
    row = _cell_row(s, cell, year)
    if row is not None:
        band = classify.cell_year_band(row, ctx.settings)
        rv = org_review(s, org_id=cell.id or 0, year=year)
        lines.append(_("Chi bộ: chất lượng sinh hoạt cả năm {band} ({held}/12 buổi); đề xuất "
                       "xếp loại: {lv}.").format(
            band=label(band) if band else _("chưa đủ buổi để xếp loại"), held=row["held"],
            lv=label(rv.proposed_level or classify.cell_proposal(row, rules, ctx.settings))))
    lines.append(_("Sửa: /danhgia {y} SỐ MỨC (1–4), /danhgia {y} SỐ kyluat, /danhgia {y} "
                   "chibo MỨC.").format(y=year))
    return "\n".join(lines)


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
        ctx.reply(_bad_year(ctx, "danhgia", cell.timezone))
        return
    if not args:
        ctx.reply(_cell_listing(ctx, cell, year))
        return
    rules = classify.rules_for(ctx.settings)
    actor_id = ctx.actor.member.id if ctx.actor.member else None
    if args[0].lower() in ("chibo", "chi_bo", "cell") and len(args) >= 2:
        _propose_cell(ctx, cell, year, " ".join(args[1:]))
        return
    records = year_record(s, cell, year)
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
    if classify.fold_key(choice) == "kyluat":
        rv.disciplined, rv.proposed_level, rv.updated_at = True, None, ctx.now()
        s.add(rv)
        audit(s, "review.disciplined", "member", member.id, actor_id, year=year)
        ctx.reply(_("Đã ghi: đồng chí {name} bị kỷ luật trong năm {y}; đề xuất xếp loại được "
                    "tính lại.").format(name=member.full_name, y=year))
        return
    level = classify.parse_level(choice)
    if level is None:
        ctx.reply(_("Không rõ mức “{x}”. Chọn 1–4:").format(x=choice[:20]) + "\n" +
                  _levels_help())
        return
    why = classify.refusal(rules, "member", classify.member_facts(r), level)
    if why is None:
        others = [classify.member_level(o, rules, ctx.settings)[0] for o in records
                  if o["member_id"] != r["member_id"]]
        why = classify.cap_refusal(rules, [*others, level], cell.name)
    if why is not None:
        log.info("review refused for member %s: %s", member.id, why)
        ctx.reply(why)
        return
    rv.proposed_level, rv.proposed_by = level, actor_id
    rv.proposed_at = rv.updated_at = ctx.now()
    s.add(rv)
    audit(s, "review.propose", "member", member.id, actor_id, year=year, level=level)
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
    why = classify.refusal(rules, "org", classify.cell_facts(row, ctx.settings), level)
    if why is not None:
        ctx.reply(why)
        return
    rv = org_review(s, org_id=cell.id or 0, year=year)
    rv.proposed_level, rv.updated_at = level, ctx.now()
    rv.proposed_by = ctx.actor.member.id if ctx.actor.member else None
    s.add(rv)
    audit(s, "review.propose_org", "organisation", cell.id, rv.proposed_by, year=year,
          level=level)
    ctx.reply(_("Đã ghi đề xuất xếp loại {cell} năm {y}: {lv}.").format(
        cell=cell.name, y=year, lv=label(level)))


# -- /duyet ---------------------------------------------------------------------------------
def _officer_root(ctx: Ctx) -> Organisation | None:
    orgs = [ctx.session.get(Organisation, oid) for oid in ctx.actor.officer_orgs()]
    orgs = [o for o in orgs if o is not None and o.kind not in CELL_KINDS]
    return min(orgs, key=lambda o: o.path.count("/")) if orgs else None


@command("duyet", "confirm", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Tổ chức cơ sở duyệt xếp loại cuối năm: /duyet [năm] [SỐ chi bộ] [MỨC]"))
def confirm(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    root = _officer_root(ctx)
    if root is None or not oversees(s, ctx.actor, root):
        ctx.deny("confirm: not an officer")
        return
    year, args = _year_arg(ctx, args, root.timezone)
    if year is None:
        ctx.reply(_bad_year(ctx, "duyet", root.timezone))
        return
    rules = classify.rules_for(ctx.settings)
    cells = subtree_cells(s, root=root)
    rows = {r["cell_id"]: r for r in classify.year_cells(s, root, year)}
    records = year_record(s, root, year)
    if not args:
        lines = [_("Duyệt xếp loại năm {y} — {org}").format(y=year, org=root.name)]
        for i, c in enumerate(cells, 1):
            rv = org_review(s, org_id=c.id or 0, year=year)
            row = rows.get(c.id)
            proposal = rv.proposed_level or (classify.cell_proposal(row, rules, ctx.settings)
                                             if row else None)
            lines.append(_("{i}. {cell}: đề xuất {lv}; đã duyệt: {ok}").format(
                i=i, cell=cell_label(c.name, _parent_name(s, c)), lv=label(proposal),
                ok=label(rv.confirmed_level) if rv.confirmed_level else "—"))
        lines.append(_("Duyệt: /duyet {y} SỐ [MỨC] — duyệt mức của chi bộ và đề xuất của chi "
                       "bộ cho từng đảng viên.").format(y=year))
        ctx.reply("\n".join(lines))
        return
    n = ascii_int(args[0], 4)
    if n is None or not 1 <= n <= len(cells):
        ctx.reply(_("Cú pháp: /duyet {y} SỐ [MỨC], số thứ tự chi bộ trong danh sách /duyet "
                    "{y}.").format(y=year))
        return
    cell = cells[n - 1]
    row = rows.get(cell.id)
    rv = org_review(s, org_id=cell.id or 0, year=year)
    level = classify.parse_level(" ".join(args[1:])) if len(args) >= 2 else \
        (rv.proposed_level or (classify.cell_proposal(row, rules, ctx.settings) if row else None))
    if level is None or row is None:
        ctx.reply(_("Không rõ mức. Chọn 1–4:") + "\n" + _levels_help())
        return
    why = classify.refusal(rules, "org", classify.cell_facts(row, ctx.settings), level)
    mine = [r for r in records if r["cell_id"] == cell.id]
    if why is None:  # the cap at this unit, for members and for cells
        levels = [classify.member_level(r, rules, ctx.settings)[0] for r in records]
        why = classify.cap_refusal(rules, levels, root.name)
    if why is None:
        org_levels = [org_review(s, org_id=c.id or 0, year=year).confirmed_level
                      for c in cells if c.id != cell.id]
        why = classify.cap_refusal(rules, [lv for lv in org_levels if lv] + [level],
                                   root.name)
    if why is not None:
        log.info("confirm refused for cell %s: %s", cell.id, why)
        ctx.reply(why)
        return
    actor_id = ctx.actor.member.id if ctx.actor.member else None
    for r in mine:
        member = s.get(Member, r["member_id"])
        assert member is not None
        mrv = member_review(s, member=member, year=year)
        mrv.confirmed_level = classify.member_level(r, rules, ctx.settings)[0]
        mrv.confirmed_by, mrv.confirmed_at, mrv.updated_at = actor_id, ctx.now(), ctx.now()
        s.add(mrv)
    rv.confirmed_level, rv.confirmed_by, rv.updated_at = level, actor_id, ctx.now()
    s.add(rv)
    audit(s, "review.confirm", "organisation", cell.id, actor_id, year=year, level=level,
          members=len(mine))
    good = sum(1 for r in mine if classify.member_level(r, rules, ctx.settings)[0]
               in ("htxsnv", "httnv"))
    ctx.reply(_("Đã duyệt {cell} năm {y}: {lv}; {n} đảng viên ({share} hoàn thành tốt trở "
                "lên).").format(cell=cell.name, y=year, lv=label(level), n=len(mine),
                                share=fmt_percent(good / len(mine)) if mine else "—"))


def _parent_name(s: Session, org: Organisation) -> str | None:
    parent = s.get(Organisation, org.parent_id) if org.parent_id else None
    return parent.name if parent else None
