"""What every update needs, in one statement built once: the actor (identity, member,
roles, cell) and the sender's active form in this chat.

SQL statements per plain update are the hot path's cost (SQLAlchemy building and loading
rows, not SQLite, dominated the profile): dedupe insert, this, the text's own lookups,
the reply's insert.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlmodel import Session

from handlers.core.access import Actor
from models.form import FormState
from models.member import Identity, Member, RoleAssignment
from models.messages import Incoming
from models.org import Organisation

NOT_LOADED: Any = object()  # the form was not preloaded: ``forms.active_form`` queries


@cache
def _stmt():  # type: ignore[no-untyped-def]
    form = and_(FormState.platform == bindparam("platform"),
                FormState.chat_id == bindparam("chat_id"),
                FormState.user_id == bindparam("user_id"))
    # The member's cell comes along into the session's identity map: most commands ask
    # for it (``session.get``), which then needs no statement of its own.
    return (select(Identity, Member, RoleAssignment, FormState, Organisation)
            .join(Member, Member.id == Identity.member_id)
            .outerjoin(RoleAssignment, RoleAssignment.member_id == Member.id)
            .outerjoin(FormState, form)
            .outerjoin(Organisation, Organisation.id == Member.cell_id)
            .where(Identity.platform == bindparam("platform"),
                   Identity.platform_user_id == bindparam("user_id")))


def load(session: Session, inc: Incoming) -> tuple[Actor, Any]:
    """The actor, and the active form (or None); for a user without an identity the form
    is ``NOT_LOADED`` (the onboarding path looks it up itself)."""
    rows = session.execute(_stmt(), {"platform": inc.platform, "user_id": inc.sender.id,
                                     "chat_id": inc.chat.id}).all()
    if not rows:
        return Actor(), NOT_LOADED
    ident, member, _r, form, cell = rows[0]
    roles = list({r[2].id: r[2] for r in rows if r[2] is not None}.values())
    return Actor(identity=ident, member=member, roles=roles, cell=cell), form
