"""Who may see or do what. Every check answers False unless a rule grants it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import bindparam
from sqlmodel import Session, select

from models.i18n import N_
from models.member import Identity, Member, Role, RoleAssignment
from models.messages import Incoming
from models.org import Organisation
from models.text import parse_command

CELL_LEADERS = (Role.SECRETARY.value, Role.DEPUTY.value)


@dataclass
class Actor:
    """The person behind an update, as far as the store knows them."""

    identity: Identity | None = None
    member: Member | None = None
    roles: list[RoleAssignment] = field(default_factory=list)
    # The member's cell, when loaded with them: held here so that it stays in the session's
    # (weak) identity map and ``session.get`` of it needs no statement.
    cell: Organisation | None = None

    @property
    def linked(self) -> bool:
        return self.member is not None and self.member.active

    def has_role(self, org_id: int, *roles: str) -> bool:
        return any(r.org_id == org_id and r.role in roles for r in self.roles)

    def officer_orgs(self) -> list[int]:
        return [r.org_id for r in self.roles if r.role == Role.OFFICER.value]


@cache
def _actor_stmt():  # type: ignore[no-untyped-def]
    """Identity, member and roles in one statement, built once (it is on every update)."""
    return (select(Identity, Member, RoleAssignment)
            .join(Member, Member.id == Identity.member_id)
            .outerjoin(RoleAssignment, RoleAssignment.member_id == Member.id)
            .where(Identity.platform == bindparam("platform"),
                   Identity.platform_user_id == bindparam("user_id")))


def load_actor(session: Session, platform: str, user_id: str) -> Actor:
    rows = session.execute(_actor_stmt(), {"platform": platform, "user_id": user_id}).all()
    if not rows:
        return Actor()
    ident, member = rows[0][0], rows[0][1]
    return Actor(identity=ident, member=member, roles=[r[2] for r in rows if r[2] is not None])


def ancestors(session: Session, org: Organisation) -> list[int]:
    return [int(p) for p in org.path.strip("/").split("/") if p]


def oversees(session: Session, actor: Actor, org: Organisation) -> bool:
    """An officer of ``org`` or of any organisation above it."""
    if not actor.linked:
        return False
    officer_of = set(actor.officer_orgs())
    return bool(officer_of) and bool(officer_of & set(ancestors(session, org)))


def is_member_of(actor: Actor, cell_id: int) -> bool:
    return actor.linked and actor.member is not None and actor.member.cell_id == cell_id


def leads_cell(actor: Actor, cell_id: int) -> bool:
    """Secretary or deputy of the cell: may act for it."""
    return actor.linked and actor.has_role(cell_id, *CELL_LEADERS)


def follows_cell(actor: Actor, cell_id: int) -> bool:
    """The upper-level committee member assigned to the cell."""
    return actor.linked and actor.has_role(cell_id, Role.FOLLOWER.value)


def can_read_cell(session: Session, actor: Actor, cell: Organisation) -> bool:
    return (is_member_of(actor, cell.id or 0) or leads_cell(actor, cell.id or 0)
            or follows_cell(actor, cell.id or 0) or oversees(session, actor, cell))


def can_manage_cell(session: Session, actor: Actor, cell: Organisation) -> bool:
    """Act for the cell: its secretary/deputy, or an officer above it."""
    return leads_cell(actor, cell.id or 0) or oversees(session, actor, cell)


def led_cells(actor: Actor) -> list[int]:
    return sorted({r.org_id for r in actor.roles if r.role in CELL_LEADERS})


# Who may use a command (or press a button), as a refusal says it: data, not code. The
# handlers decide; this only words the refusal (deny by default stays in the handlers).
_LEADERS = N_("Bí thư hoặc Phó Bí thư của chi bộ")
_OFFICERS = N_("cán bộ theo dõi của cấp ủy cấp trên")
_LEADERS_OFFICERS = N_("Bí thư, Phó Bí thư của chi bộ hoặc cán bộ theo dõi cấp trên")
_FOLLOWER = N_("cấp ủy viên cấp trên được phân công phụ trách chi bộ")
_READERS = N_("đảng viên của chi bộ, cấp ủy viên phụ trách và cán bộ theo dõi cấp trên")
_TAKER = N_("Bí thư, Phó Bí thư hoặc đồng chí được giao ghi biên bản")
WHO_MAY: dict[str, str] = {
    **dict.fromkeys(("chamdiem", "score", "sc", "diemdanh", "rollcall", "rc", "lydo", "reason",
                     "hopchiuy", "committee", "dieuchinh", "override", "chuongtrinh", "agenda",
                     "ag", "doilich", "reschedule", "huyhop", "cancelmeeting", "themhop",
                     "addmeeting", "quytac", "rule", "dangphi", "fees", "fe", "sodangphi",
                     "feebook", "mien", "exempt", "thuky", "minutetaker", "sotay", "handbook",
                     "danhgia", "review", "kehoach", "plan", "bb", "jr", "hcu", "sts"), _LEADERS),
    **dict.fromkeys(("mochamdiem", "reopen", "mobienban", "reopenminutes", "duyet", "confirm",
                     "chuahop", "missing", "ms", "rl"), _OFFICERS),
    **dict.fromkeys(("code", "ma", "canhbao", "flags", "baocao", "report"), _LEADERS_OFFICERS),
    **dict.fromkeys(("cf", "ca"), _FOLLOWER),
    **dict.fromkeys(("bienban", "getminutes", "nghiquyet", "resolution", "sobienban",
                     "minutesbook", "lichhop", "schedule", "chibo", "cell", "st", "sm"), _READERS),
    **dict.fromkeys(("ghibienban", "minutes"), _TAKER),
}


def who_may(inc: Incoming) -> tuple[str, str] | None:
    """(the untranslated "who may" words, the command) for the update being refused: the
    command typed, or the command a button belongs to; None when neither is known."""
    if inc.callback_data:
        parts = inc.callback_data.split(":")
        key = parts[1] if parts[0] == "mt" and len(parts) > 1 else parts[0]
        cmd = parts[1] if parts[0] == "mt" and len(parts) > 1 else ""
    else:
        parsed = parse_command(inc.text or "")
        key = cmd = parsed[0] if parsed else ""
    who = WHO_MAY.get(key)
    return (who, cmd) if who else None
