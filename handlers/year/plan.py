"""/kehoach: the cell's thematic plan for a year (3–4 topics: quarter, category, title,
presenter). Thematic meetings held in a topic's quarter are linked to it; /status and
the year report show plan against held, and the category mix across the bloc."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.core.access import is_member_of, led_cells
from handlers.core.context import Ctx
from handlers.core.router import Where, Who, command
from handlers.forms.amounts import ascii_int
from models.audit import audit
from models.i18n import N_, _, current_locale
from models.org import Organisation
from models.plan import (
    MAX_TOPICS,
    MIN_TOPICS,
    Category,
    ThematicTopic,
    categories,
    category_mix,
    link_topics,
    plan_rows,
    topics,
)

log = logging.getLogger(__name__)


def plan_categories(ctx_or_dir: Ctx | Path) -> list[Category]:
    directory = Path(ctx_or_dir) if isinstance(ctx_or_dir, (Path, str)) else \
        Path(ctx_or_dir.settings.locales_dir)
    return categories(Path(directory) / "plan")


def category_title(c: Category) -> str:
    return c.title_en if current_locale() == "en" and c.title_en else c.title


def plan_lines(s: Session, cell: Organisation, year: int, cats: list[Category]) -> list[str]:
    link_topics(s, cell_id=cell.id or 0, year=year)
    plan = topics(s, cell_id=cell.id or 0, year=year)
    names = {c.id: category_title(c) for c in cats}
    done = sum(1 for t in plan if t.meeting_id)
    lines = [_("Kế hoạch sinh hoạt chuyên đề năm {y}: {n} chủ đề, đã thực hiện {d}.").format(
        y=year, n=len(plan), d=done)]
    for i, t in enumerate(plan, 1):
        lines.append(_("{i}. Quý {q} — {title} ({cat}; trình bày: {who}) — {state}").format(
            i=i, q=t.quarter, title=t.title, cat=names.get(t.category, t.category),
            who=t.presenter or "—", state=_("đã thực hiện") if t.meeting_id
            else _("chưa thực hiện")))
    if len(plan) < MIN_TOPICS:
        lines.append(_("Cần đăng ký {a}–{b} chủ đề trong năm.").format(a=MIN_TOPICS,
                                                                      b=MAX_TOPICS))
    return lines


def _cell(ctx: Ctx) -> tuple[Organisation | None, bool]:
    """The actor's cell and whether they may edit its plan."""
    s = ctx.session
    led = led_cells(ctx.actor)
    if led:
        return s.get(Organisation, led[0]), True
    me = ctx.actor.member
    if me and me.cell_id and is_member_of(ctx.actor, me.cell_id):
        return s.get(Organisation, me.cell_id), False
    return None, False


@command("kehoach", "plan", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Kế hoạch sinh hoạt chuyên đề: /kehoach [năm] Quý | loại | chủ đề | "
                    "người trình bày"))
def plan(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    cell, may_edit = _cell(ctx)
    if cell is None:
        ctx.deny("plan: no cell")
        return
    year = ctx.now().astimezone(ZoneInfo(cell.timezone)).year
    text = rest.strip()
    if m := re.match(r"([0-9]{4})\b\s*", text):
        this_year, (year, text) = year, (int(m.group(1)), text[m.end():])
        if not 2000 <= year <= this_year + 1:  # next year's plan is made this December
            ctx.reply(_("Năm không hợp lệ. Ví dụ: /kehoach 2026."))
            return
    cats = plan_categories(ctx)
    if not text:
        lines = plan_lines(s, cell, year, cats)
        if may_edit:
            lines.append(_("Thêm: /kehoach {y} Quý 2 | SỐ LOẠI | Tên chủ đề | Người trình bày; "
                           "xóa: /kehoach {y} xoa SỐ. Loại chủ đề:").format(y=year))
            lines += [f"{i}. {category_title(c)}" for i, c in enumerate(cats, 1)]
        ctx.reply("\n".join(lines))
        return
    if not may_edit:
        ctx.deny("plan edit: not a cell leader")
        return
    plan_now = topics(s, cell_id=cell.id or 0, year=year)
    if m := re.fullmatch(r"(?:xoa|xóa|del)\s+([0-9]{1,2})", text, flags=re.IGNORECASE):
        n = int(m.group(1))
        if not 1 <= n <= len(plan_now) or plan_now[n - 1].meeting_id:
            ctx.reply(_("Không xóa được chủ đề số {n} (không có, hoặc đã thực hiện).").format(
                n=n))
            return
        s.delete(plan_now[n - 1])
        audit(s, "plan.remove", "organisation", cell.id, _actor(ctx), year=year, topic=n)
        ctx.reply(_("Đã xóa chủ đề số {n}.").format(n=n))
        return
    parts = [p.strip() for p in text.split("|")]
    error = _check(parts, cats, len(plan_now))
    if error:
        log.info("plan refused for cell %s: %s", cell.id, error)
        ctx.reply(error)
        return
    q = int(re.sub(r"\D", "", parts[0]))
    cat = _category(parts[1], cats)
    assert cat is not None
    topic = ThematicTopic(cell_id=cell.id or 0, year=year, quarter=q, title=parts[2],
                          category=cat.id, presenter=(parts[3] if len(parts) > 3 else None)
                          or None, created_at=ctx.now())
    s.add(topic)
    s.flush()
    audit(s, "plan.add", "organisation", cell.id, _actor(ctx), year=year, quarter=q,
          category=cat.id)
    ctx.reply("\n".join([_("Đã đăng ký chủ đề quý {q}: {title}.").format(q=q, title=parts[2]),
                         *plan_lines(s, cell, year, cats)]))


def _actor(ctx: Ctx) -> int | None:
    return ctx.actor.member.id if ctx.actor.member else None


def _category(text: str, cats: list[Category]) -> Category | None:
    n = ascii_int(text, 2)
    if n is not None and 1 <= n <= len(cats):
        return cats[n - 1]
    return next((c for c in cats if c.id == text.lower()), None)


def _check(parts: list[str], cats: list[Category], registered: int) -> str | None:
    if len(parts) not in (3, 4):
        return _("Cú pháp: /kehoach 2026 Quý 2 | SỐ LOẠI | Tên chủ đề | Người trình bày.")
    if not re.fullmatch(r"(?:qu[yý]\s*|q\s*)?[1-4]", parts[0], flags=re.IGNORECASE | re.ASCII):
        return _("Quý phải từ 1 đến 4 (ví dụ “Quý 2”).")
    if _category(parts[1], cats) is None:
        return _("Không có loại chủ đề “{x}”; chọn số trong danh sách /kehoach.").format(
            x=parts[1][:20])
    if not 5 <= len(parts[2]) <= 300:
        return _("Tên chủ đề cần từ 5 đến 300 ký tự.")
    if len(parts) == 4 and len(parts[3]) > 120:
        return _("Tên người trình bày dài quá 120 ký tự.")
    if registered >= MAX_TOPICS:
        return _("Chi bộ đã đăng ký đủ {n} chủ đề trong năm; xóa bớt trước khi thêm.").format(
            n=MAX_TOPICS)
    return None


def plan_summary(s: Session, root: Organisation, year: int, cats: list[Category]) -> list[str]:
    """For /status: topics registered and taken up across the subtree, and the mix of
    categories."""
    if root.is_cell:
        link_topics(s, cell_id=root.id or 0, year=year)
    rows = plan_rows(s, root, year)
    mix = category_mix(s, root, year)
    total = sum(mix.values())
    names = {c.id: category_title(c) for c in cats}
    lines = [_("Chuyên đề năm {y}: đăng ký {n}, đã thực hiện {d}; diễn đàn: {f}.").format(
        y=year, n=sum(r["registered"] for r in rows), d=sum(r["done"] or 0 for r in rows),
        f=sum(r["forums"] for r in rows))]
    if total:
        lines.append(_("Cơ cấu chủ đề: {mix}.").format(mix="; ".join(
            f"{names.get(k, k)} {v * 100 / total:.0f}%" for k, v in sorted(
                mix.items(), key=lambda kv: -kv[1]))))
    return lines
