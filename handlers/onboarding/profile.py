"""A member's own record, a cell's roster, and the cell's exemption decisions."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from handlers.core.access import can_manage_cell, can_read_cell, led_cells
from handlers.core.context import Ctx
from handlers.core.labels import label
from handlers.core.router import Where, Who, command
from handlers.fees.payments import own_fee_lines
from handlers.forms import engine as forms
from handlers.forms.engine import Choice, Form, Step
from handlers.forms.validators import parse_text
from models.audit import audit
from models.i18n import N_, _
from models.member import Member, cell_members, roles_of
from models.org import Organisation, lineage


@command("toi", "me", who=Who.LINKED, where=Where.PRIVATE, summary=N_("Hồ sơ của tôi"))
def me(ctx: Ctx, args: list[str], rest: str) -> None:
    m = ctx.actor.member
    assert m is not None
    s = ctx.session
    cell = s.get(Organisation, m.cell_id) if m.cell_id else None
    lines = [_("Đồng chí {name}").format(name=m.full_name),
             _("Đảng viên {kind}").format(kind=label(m.membership))]
    if cell:
        lines.append(" › ".join(o.name for o in lineage(s, cell)))
    for r in ctx.actor.roles:  # loaded with the actor
        org = s.get(Organisation, r.org_id)
        lines.append(f"• {label(r.role)} — {org.name if org else '?'}")
    if m.exempted:
        lines.append(_("Miễn sinh hoạt: {reason}").format(reason=m.exempt_reason or "—"))
    lines += own_fee_lines(s, m, ctx.now().astimezone(ZoneInfo(cell.timezone if cell else
                                                               ctx.settings.timezone)).year)
    ctx.reply("\n".join(lines))


def _cell_of_request(ctx: Ctx, args: list[str]) -> Organisation | None:
    s = ctx.session
    if args:
        return ctx.by_id(Organisation, args[0])
    if ctx.in_group:
        return ctx.bound_cell()
    m = ctx.actor.member
    return s.get(Organisation, m.cell_id) if m and m.cell_id else None


@command("chibo", "cell", who=Who.LINKED, where=Where.ANY,
         summary=N_("Danh sách đảng viên của chi bộ"))
def cell_roster(ctx: Ctx, args: list[str], rest: str) -> None:
    cell = _cell_of_request(ctx, args)
    if cell is None or not cell.is_cell:
        ctx.reply(_("Không xác định được chi bộ. Cú pháp: /chibo [mã số chi bộ]"))
        return
    if not can_read_cell(ctx.session, ctx.actor, cell):
        ctx.deny(f"cell {cell.id}")
        return
    members = cell_members(ctx.session, cell_id=cell.id or 0)
    due = [m for m in members if m.due_to_attend]
    lines = [_("{cell}: {n} đảng viên, {due} phải tham gia sinh hoạt.")
             .format(cell=cell.name, n=len(members), due=len(due))]
    for i, m in enumerate(members, 1):
        roles = [label(r.role) for r in roles_of(ctx.session, member_id=m.id or 0)
                 if r.org_id == cell.id]
        extra = f" ({', '.join(roles)})" if roles else ""
        flag = " — " + label("exempted") if m.exempted else ""
        lines.append(f"{i}. {m.full_name}{extra}{flag}")
    ctx.reply("\n".join(lines))


# -- exemption form (miễn sinh hoạt): the cell decides, the secretary records it ----------
EXEMPT_REASONS = [
    N_("Tuổi cao"), N_("Sức khỏe yếu"), N_("Điều trị bệnh dài ngày"),
    N_("Công tác, học tập ở nước ngoài"), N_("Nghỉ thai sản"), N_("Lý do khác"),
]


class ExemptionForm(Form):
    kind = "exempt"

    def authorised(self, ctx: Ctx, data: dict[str, Any]) -> bool:
        cell = ctx.session.get(Organisation, data.get("cell_id"))
        return cell is not None and can_manage_cell(ctx.session, ctx.actor, cell)

    def _member(self, ctx: Ctx, data: dict[str, Any]) -> Member | None:
        mid = data.get("member")
        return ctx.session.get(Member, mid) if mid else None

    def steps(self, ctx: Ctx, data: dict[str, Any]) -> list[Step]:
        def members(c: Ctx, d: dict[str, Any]) -> list[Choice]:
            return [Choice(m.id, m.full_name + (" ★" if m.exempted else ""))
                    for m in cell_members(c.session, cell_id=d["cell_id"])]

        def exempted(c: Ctx, d: dict[str, Any]) -> bool:
            m = self._member(c, d)
            return bool(m and m.exempted)

        return [
            Step("member", lambda c, d: _("Chọn đảng viên (★ là đang miễn sinh hoạt):"),
                 choices=members, per_row=2),
            Step("lift", lambda c, d: _("Đồng chí này đang được miễn sinh hoạt. Thôi miễn?"),
                 choices=lambda c, d: [Choice(True, _("Thôi miễn")),
                                       Choice(False, _("Giữ nguyên"))],
                 when=exempted, per_row=2),
            Step("reason", lambda c, d: _("Lý do miễn sinh hoạt:"),
                 choices=lambda c, d: [Choice(r, _(r)) for r in EXEMPT_REASONS],
                 when=lambda c, d: not exempted(c, d)),
            Step("note", lambda c, d: _("Ghi chú (số nghị quyết/biên bản của chi bộ, thời hạn):"),
                 parse=lambda c, d, t: parse_text(t, max_len=150),
                 when=lambda c, d: not exempted(c, d), optional=True),
        ]

    def summary(self, ctx: Ctx, data: dict[str, Any]) -> str:
        m = self._member(ctx, data)
        name = m.full_name if m else "?"
        reason = data.get("reason")
        if m and m.exempted:
            return (_("Thôi miễn sinh hoạt cho đồng chí {name}.").format(name=name)
                    if data.get("lift") else _("Giữ nguyên, không thay đổi."))
        return _("Miễn sinh hoạt cho đồng chí {name}.\nLý do: {reason}\nGhi chú: {note}").format(
            name=name, reason=_(reason) if reason else "—",
            note=data.get("note") or "—")

    def finish(self, ctx: Ctx, data: dict[str, Any]) -> None:
        m = self._member(ctx, data)
        if m is None or m.cell_id != data["cell_id"]:
            ctx.reply(_("Không tìm thấy đảng viên."))
            return
        actor_id = ctx.actor.member.id if ctx.actor.member else None
        if m.exempted:
            if data.get("lift"):
                m.exempted, m.exempt_reason = False, None
                audit(ctx.session, "member.exemption_lifted", "member", m.id, actor_id)
                ctx.reply(_("Đã ghi: đồng chí {name} sinh hoạt trở lại.").format(name=m.full_name))
            else:
                ctx.reply(_("Không có thay đổi."))
            return
        note = data.get("note")
        m.exempted = True
        m.exempt_reason = (data["reason"] + (f" — {note}" if note else ""))[:200]
        m.updated_at = ctx.now()
        audit(ctx.session, "member.exempted", "member", m.id, actor_id, reason=m.exempt_reason)
        ctx.session.add(m)
        ctx.reply(_("Đã ghi: đồng chí {name} được miễn sinh hoạt, không tính vào tỷ lệ dự họp "
                    "và không nhận nhắc lịch.").format(name=m.full_name))


forms.register(ExemptionForm())


@command("mien", "exempt", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Ghi miễn sinh hoạt / thôi miễn cho đảng viên (Bí thư)"))
def exempt(ctx: Ctx, args: list[str], rest: str) -> None:
    cells = led_cells(ctx.actor)
    if not cells:
        ctx.deny("not a cell leader")
        return
    forms.start(ctx, "exempt", {"cell_id": cells[0]})

