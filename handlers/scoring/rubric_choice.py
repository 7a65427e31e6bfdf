"""/thangdiem: an officer sets which rubric (locales/rubrics/*.toml) scores a cell of the
subtree, from the chat instead of the config file. The next scoring uses it; scores
already made keep the rubric id and version they were made with. Audited with the
previous rubric."""

from __future__ import annotations

import logging

from handlers.core.access import oversees
from handlers.core.context import Ctx
from handlers.core.labels import cell_label
from handlers.core.router import Where, Who, command
from handlers.forms.amounts import ascii_int
from models.audit import audit
from models.i18n import N_, _
from models.org import CELL_KINDS, Organisation, subtree_cells
from models.rubric import RubricError, available, load_rubric

log = logging.getLogger(__name__)


def _root(ctx: Ctx) -> Organisation | None:
    orgs = [ctx.session.get(Organisation, oid) for oid in ctx.actor.officer_orgs()]
    orgs = [o for o in orgs if o is not None and o.kind not in CELL_KINDS]
    return min(orgs, key=lambda o: o.path.count("/")) if orgs else None


@command("thangdiem", "rubric", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Chọn thang điểm chấm sinh hoạt cho chi bộ: /thangdiem [SỐ chi bộ] "
                    "[MÃ thang điểm] (cấp ủy cấp trên)"))
def set_rubric(ctx: Ctx, args: list[str], rest: str) -> None:
    s = ctx.session
    root = _root(ctx)
    if root is None or not oversees(s, ctx.actor, root):
        ctx.deny("rubric: not an officer")
        return
    cells = subtree_cells(s, root=root)
    ids = available(ctx.settings.rubrics_dir)
    default = ctx.settings.rubric
    if not args:
        lines = [_("Thang điểm chấm sinh hoạt — {org}").format(org=root.name)]
        for i, c in enumerate(cells, 1):
            parent = s.get(Organisation, c.parent_id) if c.parent_id else None
            lines.append(_("{i}. {cell}: {rubric}").format(
                i=i, cell=cell_label(c.name, parent.name if parent else None),
                rubric=c.rubric_id or _("{id} (mặc định)").format(id=default)))
        lines.append(_("Thang điểm có: {ids}.").format(ids=", ".join(ids)))
        lines.append(_("Đổi: /thangdiem SỐ MÃ, ví dụ /thangdiem 2 {id}.").format(
            id=ids[-1] if ids else default))
        ctx.reply("\n".join(lines))
        return
    n = ascii_int(args[0], 4)
    if len(args) != 2 or n is None or not 1 <= n <= len(cells):
        ctx.reply(_("Cú pháp: /thangdiem SỐ MÃ, số thứ tự chi bộ trong danh sách /thangdiem."))
        return
    rubric_id = args[1].strip().lower()
    if rubric_id not in ids:
        ctx.reply(_("Không có thang điểm “{x}”. Thang điểm có: {ids}.").format(
            x=args[1][:40], ids=", ".join(ids)))
        return
    try:
        rubric = load_rubric(ctx.settings.rubrics_dir, rubric_id)
    except RubricError as exc:
        log.warning("rubric %s does not load: %s", rubric_id, exc)
        ctx.reply(_("Thang điểm “{x}” đang lỗi, chưa dùng được.").format(x=rubric_id))
        return
    cell = cells[n - 1]
    previous = cell.rubric_id or default
    cell.rubric_id = rubric.id
    s.add(cell)
    audit(s, "cell.rubric", "organisation", cell.id,
          ctx.actor.member.id if ctx.actor.member else None, previous=previous, rubric=rubric.id,
          version=rubric.version)
    ctx.reply(_("Đã đặt thang điểm của {cell}: {title} ({id}, phiên bản {v}); áp dụng từ lần "
                "chấm tới.").format(cell=cell.name, title=rubric.title, id=rubric.id,
                                    v=rubric.version))
