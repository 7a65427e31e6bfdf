"""/help and the Telegram command menus, shaped by the person's roles.

Each role sees the handful of commands it uses (a member, a secretary or deputy, an
officer, an upper-level follower); a person with several roles sees the union, the most
important role first, capped so that it fits a phone's screen; "/help tất cả" lists the
rest. The same lists become each person's Telegram menu: handed to the adapter as data
(``Outgoing.menu``), queued again whenever the person's roles or language change.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from sqlmodel import Session, select

from handlers.core.context import Ctx
from handlers.core.router import COMMANDS, CommandSpec, Where, Who, command
from models.i18n import N_, _, use_locale
from models.member import Identity, Member, Role, RoleAssignment
from models.messages import MenuCommand, Outgoing
from models.outbox_queue import enqueue
from models.text import fold

# The commands each role uses, most used first (data: edit here, not in the handlers).
# The order of ROLES is the importance a person with several roles sees them in.
ROLES: list[tuple[str, str, tuple[str, ...]]] = [
    ("leader", N_("Bí thư, Phó Bí thư"),
     ("diemdanh", "chamdiem", "ghibienban", "chuongtrinh", "dangphi", "hopchiuy", "lichhop",
      "nhiemvu", "code", "doilich")),
    ("officer", N_("Cán bộ theo dõi"),
     ("tinhhinh", "chuahop", "canhbao", "baocao", "mochamdiem", "mobienban", "duyet", "code",
      "sobienban")),
    ("follower", N_("Cấp ủy viên phụ trách"),
     ("lichhop", "bienban", "nghiquyet", "sobienban", "tinhhinh")),
    ("member", N_("Đảng viên"),
     ("lichhop", "comat", "vang", "nhiemvu", "bienban", "nghiquyet", "tinhhinh", "chibo", "toi",
      "lang")),
]
GROUP = ("lichhop", "comat", "vang", "nhiemvu", "chibo")
GUEST = ("start",)
MAX_LINES = 10  # commands shown by /help and put in a menu
ALL_WORDS = {"tat ca", "tatca", "all", "het"}
_ROLE_HINT = re.compile(r"\s*\([^()]*\)$")  # "(Bí thư)": the role list says it already


def roles_of(role_values: Iterable[str], linked: bool) -> list[str]:
    """The person's help roles, most important first."""
    values = set(role_values)
    have = {"leader": bool(values & {Role.SECRETARY.value, Role.DEPUTY.value}),
            "officer": Role.OFFICER.value in values,
            "follower": Role.FOLLOWER.value in values,
            "member": linked}
    return [key for key, _t, _c in ROLES if have[key]]


def commands_for(roles: list[str]) -> list[str]:
    """The union of the roles' commands, at most MAX_LINES: each working role (all but
    "member", whose commands come last) gets an equal share first, the most important
    role's first, then the slots left are filled in order."""
    lists = [[c for c in cmds if c in COMMANDS] for key, _t, cmds in ROLES if key in roles]
    if not lists:
        return list(GUEST)
    working = len([r for r in roles if r != "member"]) or 1
    share = -(-MAX_LINES // working)
    names: list[str] = []
    for pass_ in (share, MAX_LINES):
        for cmds in lists:
            for c in [c for c in cmds if c not in names][:pass_]:
                if len(names) < MAX_LINES:
                    names.append(c)
    return names


def _summary(spec: CommandSpec) -> str:
    return _ROLE_HINT.sub("", _(spec.summary))


def _role_titles(roles: list[str]) -> str:
    return ", ".join(_(t) for k, t, _c in ROLES if k in roles)


@command("help", "trogiup", who=Who.ANYONE, where=Where.ANY, summary=N_("Danh sách lệnh"))
def help_(ctx: Ctx, args: list[str], rest: str) -> None:
    kind = ctx.incoming.chat.kind
    if fold(rest) in ALL_WORDS:
        _everything(ctx)
        return
    if kind == "group":
        names = [n for n in GROUP if ctx.actor.linked] or ["link"]
        lines = [_("Lệnh dùng trong nhóm:")]
    else:
        roles = roles_of((r.role for r in ctx.actor.roles), ctx.actor.linked)
        names = commands_for(roles)
        lines = [_("Các lệnh chính của đồng chí ({roles}):").format(roles=_role_titles(roles))
                 if roles else _("Các lệnh đồng chí có thể dùng:")]
    lines += [f"/{n} — {_summary(COMMANDS[n])}" for n in names]
    lines.append(_("Gõ /help tất cả để xem mọi lệnh."))
    ctx.reply("\n".join(lines))


def _everything(ctx: Ctx) -> None:
    """Every command this person may use in this chat (the list before roles shaped it)."""
    kind = ctx.incoming.chat.kind
    lines = [_("Tất cả các lệnh:")]
    for spec in COMMANDS.values():
        if not spec.menu or not spec.summary:
            continue
        if spec.who is Who.LINKED and not ctx.actor.linked:
            continue
        if spec.where.value not in (kind, "any"):
            continue
        lines.append(f"/{spec.name} — {_(spec.summary)}")
    ctx.reply("\n".join(lines))


def default_menu() -> list[MenuCommand]:
    """The menu anyone gets before a menu of their own: a member's, in Vietnamese."""
    private = [*commands_for(["member"]), "help"]
    return [MenuCommand(n, _ROLE_HINT.sub("", COMMANDS[n].summary), n in private,
                        n in GROUP or n in ("help", "link"))
            for n in dict.fromkeys([*private, *GROUP, "link"]) if n in COMMANDS]


def person_menu(session: Session, member: Member) -> tuple[MenuCommand, ...]:
    """The member's own private-chat menu, in their language."""
    values = [r.role for r in session.exec(select(RoleAssignment)
                                           .where(RoleAssignment.member_id == member.id))]
    names = [*commands_for(roles_of(values, member.active)), "help"]
    with use_locale(member.locale):
        return tuple(MenuCommand(n, _summary(COMMANDS[n])[:256], True, False) for n in names)


def refresh_menu(session: Session, member: Member, now: object) -> int:
    """Queue the member's menu for each Telegram private chat of theirs; a menu already
    queued with the same content is not queued again. Returns how many were queued."""
    menu = person_menu(session, member)
    digest = hashlib.sha1(repr(menu).encode()).hexdigest()[:12]
    queued = 0
    for ident in session.exec(select(Identity).where(Identity.member_id == member.id,
                                                     Identity.platform == "telegram")):
        if not ident.private_chat_id:
            continue
        out = Outgoing(platform="telegram", chat_id=ident.private_chat_id, text="", menu=menu,
                       key=f"menu:{ident.private_chat_id}:{digest}")
        queued += bool(enqueue(session, out, now=now))  # type: ignore[arg-type]
    return queued


def refresh_all(session: Session, now: object) -> int:
    """Every linked Telegram member's menu (at start: people linked before menus were per
    person, or whose roles changed outside the importer); unchanged ones are skipped."""
    ids = set(session.exec(select(Identity.member_id).where(
        Identity.platform == "telegram", Identity.private_chat_id.is_not(None))))
    members = session.exec(select(Member).where(Member.id.in_(ids), Member.active == True))  # noqa: E712
    return sum(refresh_menu(session, m, now) for m in members)
