"""/duyet: the base organisation approves the year of its cells: a whole cell at once
(the cell's level and its members' levels as proposed), or one member's level changed
with a reason (the audit keeps the previous level, the new one, who and why). Every level
passes the conditions of the classification rules and the 20% cap; a year that is not
rated (classify.not_rated) gets no level."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session

from handlers.core.access import oversees
from handlers.core.context import Ctx
from handlers.core.labels import cell_label, label
from handlers.core.router import Where, Who, command
from handlers.forms.amounts import ascii_int
from handlers.year import classify
from handlers.year.review import _levels_help, _year_arg, as_of, bad_year, level_line
from models.audit import audit
from models.i18n import N_, _, fmt_percent
from models.member import Member
from models.org import CELL_KINDS, Organisation, subtree_cells
from models.review import member_review, org_review, year_record

log = logging.getLogger(__name__)
MEMBERS = ("dv", "dangvien", "member")


def _officer_root(ctx: Ctx) -> Organisation | None:
    orgs = [ctx.session.get(Organisation, oid) for oid in ctx.actor.officer_orgs()]
    orgs = [o for o in orgs if o is not None and o.kind not in CELL_KINDS]
    return min(orgs, key=lambda o: o.path.count("/")) if orgs else None


def _parent_name(s: Session, org: Organisation) -> str | None:
    parent = s.get(Organisation, org.parent_id) if org.parent_id else None
    return parent.name if parent else None


def _cell_level(ctx: Ctx, row: Any, year: int) -> tuple[str | None, str]:
    rv = org_review(ctx.session, org_id=row["cell_id"], year=year)
    if rv.confirmed_level:
        return rv.confirmed_level, "confirmed"
    rules = classify.rules_for(ctx.settings)
    return (rv.proposed_level or classify.cell_proposal(row, rules, ctx.settings),
            "proposed" if rv.proposed_level else "prefilled")


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
        ctx.reply(bad_year(ctx, "duyet", root.timezone))
        return
    cells = subtree_cells(s, root=root)
    rows = {r["cell_id"]: r for r in classify.year_cells(s, root, year)}
    if not args:
        lines = [_("Duyệt xếp loại năm {y} — {org}").format(y=year, org=root.name)]
        for i, c in enumerate(cells, 1):
            row = rows.get(c.id)
            if row is None:
                continue
            level, stage = _cell_level(ctx, row, year)
            lines.append(_("{i}. {cell}: {lv}").format(
                i=i, cell=cell_label(c.name, _parent_name(s, c)),
                lv=level_line(level, stage, classify.not_rated("cell", row, ctx.settings))))
        lines.append(_("Duyệt: /duyet {y} SỐ [MỨC] — duyệt mức của chi bộ và đề xuất của chi "
                       "bộ cho từng đảng viên. Từng đảng viên: /duyet {y} SỐ dv (danh sách), "
                       "/duyet {y} SỐ dv STT MỨC LÝ DO (STT: số thứ tự đảng viên).").format(y=year))
        ctx.reply("\n".join(lines))
        return
    n = ascii_int(args[0], 4)
    if n is None or not 1 <= n <= len(cells) or cells[n - 1].id not in rows:
        ctx.reply(_("Cú pháp: /duyet {y} SỐ [MỨC], số thứ tự chi bộ trong danh sách /duyet "
                    "{y}.").format(y=year))
        return
    cell = cells[n - 1]
    if len(args) >= 2 and classify.fold_key(args[1]) in MEMBERS:
        _member(ctx, cell, year, n, args[2:])
        return
    _cell(ctx, root, cells, cell, rows[cell.id], year, args[1:])


def _cell(ctx: Ctx, root: Organisation, cells: list[Organisation], cell: Organisation,
          row: Any, year: int, args: list[str]) -> None:
    s, rules = ctx.session, classify.rules_for(ctx.settings)
    rv = org_review(s, org_id=cell.id or 0, year=year)
    reason = classify.not_rated("cell", row, ctx.settings)
    if reason is not None and args:
        ctx.reply(_("{cell} không xếp loại năm {y}: {reason}.").format(
            cell=cell.name, y=year, reason=reason))
        return
    level = classify.parse_level(" ".join(args)) if args else \
        (rv.proposed_level or classify.cell_proposal(row, rules, ctx.settings))
    if level is None and reason is None:
        ctx.reply(_("Không rõ mức. Chọn 1–4:") + "\n" + _levels_help())
        return
    records = year_record(s, root, year, as_of(ctx, root.timezone))
    why = classify.refusal(rules, "org", classify.cell_facts(row, ctx.settings), level) \
        if level else None
    if why is None:  # the cap at this unit, for members and for cells
        levels = [classify.member_level(r, rules, ctx.settings)[0] for r in records]
        why = classify.cap_refusal(rules, levels, root.name)
    if why is None and level:
        org_levels = [org_review(s, org_id=c.id or 0, year=year).confirmed_level
                      for c in cells if c.id != cell.id]
        why = classify.cap_refusal(rules, [*org_levels, level], root.name)
    if why is not None:
        log.info("confirm refused for cell %s: %s", cell.id, why)
        ctx.reply(why)
        return
    actor_id = ctx.actor.member.id if ctx.actor.member else None
    mine = [r for r in records if r["cell_id"] == cell.id]
    levels = {}
    for r in mine:
        lv = levels[r["member_id"]] = classify.member_level(r, rules, ctx.settings)[0]
        if lv is None:  # not rated: nothing to approve
            continue
        member = s.get(Member, r["member_id"])
        assert member is not None
        mrv = member_review(s, member=member, year=year)
        mrv.confirmed_level = lv
        mrv.confirmed_by, mrv.confirmed_at, mrv.updated_at = actor_id, ctx.now(), ctx.now()
        s.add(mrv)
    previous = rv.confirmed_level
    rv.confirmed_level, rv.confirmed_by, rv.updated_at = level, actor_id, ctx.now()
    s.add(rv)
    rated = [lv for lv in levels.values() if lv]
    audit(s, "review.confirm", "organisation", cell.id, actor_id, year=year,
          previous=previous, level=level, members=len(rated))
    good = sum(1 for lv in rated if lv in ("htxsnv", "httnv"))
    cell_text = label(level) if level else classify.not_rated_text(reason or "")
    ctx.reply(_("Đã duyệt {cell} năm {y}: {lv}; {n} đảng viên ({share} hoàn thành tốt trở "
                "lên).").format(cell=cell.name, y=year, lv=cell_text, n=len(rated),
                                share=fmt_percent(good / len(rated)) if rated else "—")
              + _unrated_note(len(mine) - len(rated)))


def _unrated_note(n: int) -> str:
    return (" " + _("{n} đảng viên không xếp loại (không có buổi sinh hoạt phải dự).")
            .format(n=n)) if n else ""


def _member(ctx: Ctx, cell: Organisation, year: int, cell_no: int, args: list[str]) -> None:
    """/duyet Y N dv: the cell's members and their levels; /duyet Y N dv K MỨC LÝ DO: the
    base organisation sets member K's level, with a reason."""
    s, rules = ctx.session, classify.rules_for(ctx.settings)
    records = year_record(s, cell, year, as_of(ctx, cell.timezone))
    if not args:
        lines = [_("Xếp loại đảng viên năm {y} — {cell}").format(y=year, cell=cell.name)]
        for i, r in enumerate(records, 1):
            level, stage = classify.member_level(r, rules, ctx.settings)
            lines.append(_("{i}. {name}: {lv}").format(
                i=i, name=r["name"],
                lv=level_line(level, stage, classify.not_rated("member", r, ctx.settings))))
        lines.append(_("Điều chỉnh: /duyet {y} {n} dv SỐ MỨC LÝ DO.").format(y=year, n=cell_no))
        ctx.reply("\n".join(lines))
        return
    k = ascii_int(args[0], 3)
    level = classify.parse_level(args[1]) if len(args) >= 2 else None
    reason = " ".join(args[2:]).strip()
    if k is None or not 1 <= k <= len(records) or level is None:
        ctx.reply(_("Cú pháp: /duyet {y} {n} dv SỐ MỨC LÝ DO, ví dụ /duyet {y} {n} dv 3 2 Hoàn "
                    "thành tốt nhiệm vụ chuyên môn.").format(y=year, n=cell_no))
        return
    if not 10 <= len(reason) <= 500:
        ctx.reply(_("Đề nghị ghi lý do điều chỉnh (10–500 ký tự) sau mức xếp loại."))
        return
    r = records[k - 1]
    member = s.get(Member, r["member_id"])
    assert member is not None
    why = None
    if (nr := classify.not_rated("member", r, ctx.settings)) is not None:
        why = _("Đồng chí {name} không xếp loại năm {y}: {reason}.").format(
            name=member.full_name, y=year, reason=nr)
    if why is None:
        why = classify.member_refusal(rules, r, records, level, cell.name, ctx.settings)
    if why is not None:
        log.info("override refused for member %s: %s", member.id, why)
        ctx.reply(why)
        return
    previous, _stage = classify.member_level(r, rules, ctx.settings)
    actor_id = ctx.actor.member.id if ctx.actor.member else None
    mrv = member_review(s, member=member, year=year)
    mrv.confirmed_level, mrv.confirmed_by = level, actor_id
    mrv.confirmed_at = mrv.updated_at = ctx.now()
    s.add(mrv)
    audit(s, "review.override", "member", member.id, actor_id, year=year, previous=previous,
          level=level, reason=reason)
    ctx.reply(_("Đã điều chỉnh xếp loại năm {y} của đồng chí {name}: {old} → {new}. Lý do: "
                "{why}").format(y=year, name=member.full_name,
                                old=label(previous) if previous else "—", new=label(level),
                                why=reason))
