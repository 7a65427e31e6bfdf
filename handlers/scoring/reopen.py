"""Reopening a meeting's closed record (its score, its minutes) after the correction
window: only an officer above the cell may, and the cell's leaders are told."""

from __future__ import annotations

from collections.abc import Callable

from handlers.core.access import oversees
from handlers.core.context import Ctx
from handlers.core.notify import send_private
from models.audit import audit
from models.i18n import use_locale
from models.meeting import Meeting
from models.member import Role, members_with_role
from models.org import Organisation


def overseen_meeting(ctx: Ctx, args: list[str],
                     what: str) -> tuple[Meeting, Organisation] | None:
    """The meeting ``args`` names and its cell, when the sender oversees that cell;
    otherwise denied (logged as ``what``) and None."""
    s = ctx.session
    meeting = ctx.by_id(Meeting, args[0] if args else None)
    cell = s.get(Organisation, meeting.cell_id) if meeting else None
    if meeting is None or cell is None or not oversees(s, ctx.actor, cell):
        ctx.deny(what)
        return None
    return meeting, cell


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
