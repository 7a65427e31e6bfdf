"""Reopening a meeting's closed record (its score, its minutes) after the correction
window: only an officer above the cell may, and the cell's leaders are told."""

from __future__ import annotations

from collections.abc import Callable

from handlers.core.access import oversees
from handlers.core.context import Ctx
from handlers.core.notify import send_private
from handlers.forms.named import RECENT, lookup, offer
from models.audit import audit
from models.i18n import _, use_locale
from models.meeting import Meeting
from models.member import Role, members_with_role
from models.org import Organisation, subtree_cells
from models.text import fold


def overseen_meeting(ctx: Ctx, args: list[str], what: str,
                     command: str = "") -> tuple[Meeting, Organisation] | None:
    """The meeting ``args`` names ("12/2026 Chi bộ Văn phòng", a button's id) and its cell,
    when the sender oversees that cell; a choice of buttons when the words fit several;
    otherwise denied (logged as ``what``) and None."""
    s = ctx.session
    cells: dict[int, Organisation] = {}
    for oid in ctx.actor.officer_orgs():
        root = s.get(Organisation, oid)
        if root is not None and oversees(s, ctx.actor, root):
            cells.update({c.id or 0: c for c in subtree_cells(s, root=root)})
    text = " ".join(args)
    look = lookup(ctx, list(cells), text, ctx.settings.timezone) if cells else None
    if look is None or look.foreign:
        ctx.deny(what)
        return None
    if not look.named:  # an officer who named no meeting is told how to name one
        ctx.reply(_("Đồng chí ghi tháng và tên chi bộ, ví dụ: /{cmd} 11/2026 TÊN CHI BỘ.")
                  .format(cmd=command or "mochamdiem"))
        return None
    found = look.found
    if len(found) > 1 and look.rest:  # the cell's name after the month narrows it
        needle = fold(look.rest)
        found = [m for m in found if needle in fold(cells[m.cell_id].name)] or found
    if len(found) == 1:
        return found[0], cells[found[0].cell_id]
    if found and command:
        offer(ctx, found[:RECENT], command)
    else:
        ctx.reply(_("Không tìm thấy buổi sinh hoạt “{said}” ở các chi bộ đồng chí theo dõi. "
                    "Ví dụ: /{cmd} 11/2026 TÊN CHI BỘ.").format(said=look.said[:40],
                                                            cmd=command or "mochamdiem"))
    return None


def reopened(ctx: Ctx, meeting: Meeting, cell: Organisation, event: str, key: str,
             message: Callable[[], str]) -> None:
    """Audit the reopening and tell the cell's secretary and deputy privately, each in
    their own language (``message`` is called under it)."""
    s = ctx.session
    audit(s, event, "meeting", meeting.id, ctx.actor.member.id if ctx.actor.member else None)
    for leader in members_with_role(s, org_id=cell.id or 0,
                                    roles=(Role.SECRETARY.value, Role.DEPUTY.value)):
        with use_locale(leader.locale):
            send_private(s, leader, message(),
                         f"{key}:{meeting.id}:{ctx.incoming.update_id}:{leader.id}",
                         now=ctx.now())
