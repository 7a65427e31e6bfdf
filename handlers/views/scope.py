"""Who sees what on the web view. Deny by default: officers their subtree, secretaries,
deputies and the assigned upper-level member their cell, a member only their own page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from handlers.core.access import (
    Actor,
    follows_cell,
    leads_cell,
    oversees,
)
from models.member import Identity, Member, RoleAssignment
from models.org import Organisation


def actor_for(session: Session, member_id: int) -> Actor:
    """The member behind a web session, with their roles (the chat's ``load_actor`` keys
    on a platform identity; a browser session keys on the member)."""
    member = session.get(Member, member_id)
    if member is None:
        return Actor()
    roles = list(session.exec(select(RoleAssignment)
                              .where(RoleAssignment.member_id == member_id)))
    ident = session.exec(select(Identity).where(Identity.member_id == member_id)).first()
    return Actor(identity=ident, member=member, roles=roles)


def officer_root(session: Session, actor: Actor) -> Organisation | None:
    """The highest organisation the actor is an officer of."""
    orgs = [session.get(Organisation, oid) for oid in actor.officer_orgs()]
    found = [o for o in orgs if o is not None]
    return min(found, key=lambda o: o.path.count("/")) if found else None


def may_see_org(session: Session, actor: Actor, org: Organisation) -> bool:
    if not actor.linked:
        return False
    if oversees(session, actor, org):
        return True
    return org.is_cell and (leads_cell(actor, org.id or 0) or follows_cell(actor, org.id or 0))


def may_see_member(session: Session, actor: Actor, member: Member) -> bool:
    if not actor.linked or actor.member is None:
        return False
    if actor.member.id == member.id:
        return True
    cell = session.get(Organisation, member.cell_id) if member.cell_id else None
    return cell is not None and may_see_org(session, actor, cell)


@dataclass(frozen=True)
class Home:
    """Where a viewer lands: an organisation (officer, secretary, follower) or their own
    member page; ``None`` for both means nothing to show (403)."""

    org: Organisation | None
    member: Member | None


def home(session: Session, actor: Actor) -> Home:
    if not actor.linked or actor.member is None:
        return Home(None, None)
    root = officer_root(session, actor)
    if root is not None:
        return Home(root, None)
    for r in sorted(actor.roles, key=lambda r: r.org_id):
        cell = session.get(Organisation, r.org_id)
        if cell is not None and cell.is_cell and may_see_org(session, actor, cell):
            return Home(cell, None)
    return Home(None, actor.member)
