"""Committee status: /tinhhinh with drill-down, /chuahop with reminders, /canhbao, /baocao.

Scope: an officer sees their subtree, a secretary or deputy their cell, a member only
their own record; everything else is denied.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from handlers.committee.charts import chart_png
from handlers.committee.exports import workbook
from handlers.committee.upper_attendance import upper_attendee_line
from handlers.core.access import can_manage_cell, led_cells, oversees
from handlers.core.context import Ctx, buttons, column
from handlers.core.labels import cell_label, label
from handlers.core.notify import private_target
from handlers.core.router import Where, Who, callback, command
from handlers.year import flags as yearflags
from handlers.year import marks as yearmarks
from handlers.year.plan import plan_categories, plan_summary
from models import reports
from models.attendance import Attendance
from models.collation import sort_within
from models.i18n import N_, _, fmt_datetime, fmt_number, fmt_percent, use_locale
from models.meeting import Meeting
from models.member import Member, Role, members_with_role
from models.messages import Attachment, Outgoing
from models.org import Organisation
from models.outbox_queue import enqueue
from models.reports import Period, month, parse_period, quarter, year


# -- scope ----------------------------------------------------------------------------
def officer_root(ctx: Ctx) -> Organisation | None:
    """The highest organisation the actor is an officer of."""
    orgs = [ctx.session.get(Organisation, oid) for oid in ctx.actor.officer_orgs()]
    orgs = [o for o in orgs if o is not None]
    return min(orgs, key=lambda o: o.path.count("/")) if orgs else None


def may_view(ctx: Ctx, org: Organisation) -> bool:
    if oversees(ctx.session, ctx.actor, org):
        return True
    return org.is_cell and can_manage_cell(ctx.session, ctx.actor, org)


def _today(ctx: Ctx):  # type: ignore[no-untyped-def]
    return ctx.now().astimezone(ZoneInfo(ctx.settings.timezone)).date()


def _period(ctx: Ctx, text: str) -> Period | None:
    p = parse_period(text, _today(ctx))
    if p is None:
        ctx.reply(_("Không hiểu kỳ “{text}”. Ví dụ: 11/2026, 2026-11, tháng 11, quý 4, "
                    "2026.").format(text=text[:30]))
    return p


def encode(p: Period) -> str:
    if p.kind == "month":
        return "m" + p.first
    if p.kind == "quarter":
        return f"q{p.first[:4]}-{(int(p.first[5:]) + 2) // 3}"
    return "y" + p.first[:4]


def decode(code: str) -> Period | None:
    try:
        if code.startswith("m"):
            return month(int(code[1:5]), int(code[6:8]))
        if code.startswith("q"):
            return quarter(int(code[1:5]), int(code[6]))
        if code.startswith("y"):
            return year(int(code[1:5]))
    except (ValueError, IndexError):
        return None
    return None


# -- texts ------------------------------------------------------------------------------
def _rate(a: int, d: int) -> str:
    return fmt_percent(a / d) if d else "—"


def summary_text(s: Session, root: Organisation, period: Period) -> str:
    sm = reports.summary(s, root, period)
    rat = sm["ratings"]
    lines = [
        _("📊 {org} — kỳ {period}").format(org=root.name, period=period.label),
        _("Chi bộ đã sinh hoạt: {met}/{n}; chưa sinh hoạt: {not_met}; chưa chấm điểm: "
          "{unscored}; không đủ điều kiện: {bad}.").format(
            met=sm["met"], n=sm["cells"], not_met=sm["not_met"], unscored=sm["unscored"],
            bad=sm["not_held"]),
        _("Tỷ lệ dự họp: {rate} ({a}/{d} lượt); vắng không lý do: {u}.").format(
            rate=_rate(sm["attended"], sm["due"]), a=sm["attended"], d=sm["due"],
            u=sm["unexcused"]),
        _("Xếp loại: Tốt {t}, Khá {k}, Trung bình {tb}, Kém {ke}.").format(
            t=rat.get("tot", 0), k=rat.get("kha", 0), tb=rat.get("trung_binh", 0),
            ke=rat.get("kem", 0)),
    ]
    return "\n".join(lines)


def cell_text(s: Session, cell: Organisation, period: Period) -> tuple[str, list[Meeting]]:
    meetings = list(s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                                 Meeting.period.in_(period.months))
                           .order_by(Meeting.scheduled_at)))
    rows = {r["meeting_id"]: r for r in reports.meeting_rows(s, cell, period)}
    lines = [_("📋 {cell} — kỳ {period}").format(cell=cell.name, period=period.label)]
    for m in meetings:
        r = rows.get(m.id, {})
        score = r.get("confirmed_score") or r.get("cell_score")
        lines.append(_("• {when}: {status}; có mặt {a}/{d}; vắng không lý do {u}; điểm {score}")
                     .format(when=fmt_datetime(m.scheduled_at, m.timezone), status=label(m.status),
                             a=r.get("attended", 0), d=r.get("due", 0), u=r.get("unexcused", 0),
                             score=fmt_number(score) if score is not None else "—"))
    if not meetings:
        lines.append(_("Chưa có buổi sinh hoạt nào trong kỳ."))
    return "\n".join(lines), meetings


def _org_view(ctx: Ctx, org: Organisation, period: Period) -> None:
    s = ctx.session
    upper = upper_attendee_line(s, org, period.months[-1])  # HD 42: once a quarter
    if org.is_cell:
        text, meetings = cell_text(s, org, period)
        text += "\n" + "\n".join([*plan_summary(s, org, int(period.first[:4]),
                                                plan_categories(ctx)), upper])
        kb = column([(fmt_datetime(m.scheduled_at, m.timezone), f"sm:{m.id}")
                     for m in meetings], 2)
        ctx.reply(text, kb)
        return
    children = sort_within(reports.child_rows(s, org, period))
    lines = [summary_text(s, org, period), upper]
    if period.kind == "year":
        lines += plan_summary(s, org, int(period.first[:4]), plan_categories(ctx))
    lines.append("")
    for c in children:
        lines.append(_("• {name}: họp {met}/{n}, dự họp {rate}, chưa chấm {u}").format(
            name=c["name"], met=c["met"], n=c["cells"], rate=_rate(c["attended"], c["due"]),
            u=c["unscored"]) + yearmarks.marks(c, ctx.settings))
    code = encode(period)
    kb = column([(c["name"][:40], f"st:{c['org_id']}:{code}") for c in children], 1)
    ctx.reply("\n".join(lines), kb)


# -- /status ------------------------------------------------------------------------------
@command("tinhhinh", "status", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Tình hình sinh hoạt: /tinhhinh [tháng], ví dụ /tinhhinh 11/2026"))
def status(ctx: Ctx, args: list[str], rest: str) -> None:
    period = _period(ctx, rest)
    if period is None:
        return
    root = officer_root(ctx)
    if root is not None:
        _org_view(ctx, root, period)
        return
    cells = led_cells(ctx.actor)
    if cells:
        cell = ctx.session.get(Organisation, cells[0])
        if cell is not None:
            _org_view(ctx, cell, period)
            return
    _own_record(ctx, period)


def _own_record(ctx: Ctx, period: Period) -> None:
    m = ctx.actor.member
    cell = ctx.session.get(Organisation, m.cell_id) if m and m.cell_id else None
    if m is None or cell is None:
        ctx.deny("no record")
        return
    rows = reports.member_rows(ctx.session, cell, period, member_id=m.id)
    r = rows[0] if rows else {"due": 0, "attended": 0, "excused": 0, "unexcused": 0}
    ctx.reply(_("Đồng chí {name} — kỳ {period}: phải dự {d} buổi, có mặt {a}, vắng có lý do "
                "{e}, vắng không lý do {u}.").format(
        name=m.full_name, period=period.label, d=r["due"], a=r["attended"], e=r["excused"],
        u=r["unexcused"]))


@callback("st", who=Who.LINKED)
def status_drill(ctx: Ctx, parts: list[str]) -> None:
    org = ctx.by_id(Organisation, parts[0] if parts else None)
    period = decode(parts[1]) if len(parts) == 2 else None
    if org is None or period is None or not may_view(ctx, org):
        ctx.deny("status drill-down")
        return
    _org_view(ctx, org, period)


@callback("sm", who=Who.LINKED)
def meeting_members(ctx: Ctx, parts: list[str]) -> None:
    s = ctx.session
    m = ctx.by_id(Meeting, parts[0] if parts else None)
    cell = s.get(Organisation, m.cell_id) if m else None
    if m is None or cell is None or not may_view(ctx, cell):
        ctx.deny("meeting members")
        return
    rows = s.exec(select(Member.full_name, Attendance.status, Attendance.reason)
                  .join(Attendance, Attendance.member_id == Member.id)
                  .where(Attendance.meeting_id == m.id).order_by(Member.id)).all()
    lines = [_("{cell} — {when} ({status})").format(
        cell=cell.name, when=fmt_datetime(m.scheduled_at, m.timezone), status=label(m.status))]
    lines += [f"• {name}: {label(st) if st else '—'}" + (f" ({reason})" if reason else "")
              for name, st, reason in rows]
    if not rows:
        lines.append(_("Chưa có điểm danh."))
    ctx.reply("\n".join(lines))


# -- /missing -------------------------------------------------------------------------------
def _missing(ctx: Ctx, root: Organisation, period: Period) -> list[dict]:  # type: ignore[type-arg]
    return [c for c in reports.cell_rows(ctx.session, root, period)
            if c["held"] == 0 or c["unscored"] > 0]


@command("chuahop", "missing", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Chi bộ chưa sinh hoạt / chưa chấm điểm trong tháng (cán bộ theo dõi)"))
def missing(ctx: Ctx, args: list[str], rest: str) -> None:
    root = officer_root(ctx)
    if root is None:
        ctx.deny("missing: not an officer")
        return
    period = _period(ctx, rest)
    if period is None:
        return
    rows = _missing(ctx, root, period)
    if not rows:
        ctx.reply(_("Kỳ {period}: mọi chi bộ của {org} đã sinh hoạt và chấm điểm.").format(
            period=period.label, org=root.name))
        return
    lines = [_("Kỳ {period}: {n} chi bộ chưa sinh hoạt hoặc chưa chấm điểm:").format(
        period=period.label, n=len(rows))]
    for c in rows:
        leaders = members_with_role(ctx.session, org_id=c["cell_id"],
                                    roles=(Role.SECRETARY.value,))
        what = _("chưa sinh hoạt") if c["held"] == 0 else _("chưa chấm điểm")
        lines.append(f"• {cell_label(c['cell'], c['parent'])}: {what} — " +
                     (", ".join(m.full_name for m in leaders) or _("chưa có bí thư")) +
                     yearmarks.marks(c, ctx.settings))
    ctx.reply("\n".join(lines), buttons([(_("📨 Nhắc các chi bộ này"),
                                          f"ms:{root.id}:{encode(period)}")]))


@callback("ms", who=Who.LINKED)
def remind_missing(ctx: Ctx, parts: list[str]) -> None:
    """Remind the secretaries of the missing cells: at most once a day per cell."""
    s = ctx.session
    root = ctx.by_id(Organisation, parts[0] if parts else None)
    period = decode(parts[1]) if len(parts) == 2 else None
    if root is None or period is None or not oversees(s, ctx.actor, root):
        ctx.deny("remind missing")
        return
    day = _today(ctx).isoformat()
    sent = already = unreachable = 0
    for c in _missing(ctx, root, period):
        for sec in members_with_role(s, org_id=c["cell_id"],
                                     roles=(Role.SECRETARY.value, Role.DEPUTY.value)):
            with use_locale(sec.locale):
                text = _("Kính gửi đồng chí {name}: {cell} chưa hoàn thành sinh hoạt hoặc chấm "
                         "điểm kỳ {period}. Đề nghị đồng chí cập nhật qua bot (/diemdanh, "
                         "/chamdiem). Trân trọng.").format(name=sec.full_name,
                                                          cell=cell_label(c["cell"], c["parent"]),
                                                          period=period.label)
            target = private_target(s, sec)
            if target is None:
                unreachable += 1
                continue
            # The key carries the day: a second press the same day queues nothing.
            key = f"missing:{c['cell_id']}:{encode(period)}:{day}:{sec.id}"
            if enqueue(s, Outgoing(platform=target[0], chat_id=target[1], text=text, key=key),
                       now=ctx.now()):
                sent += 1
            else:
                already += 1
    ctx.reply(_("Đã gửi {sent} lời nhắc; {already} đã được nhắc hôm nay; {u} chưa kết nối "
                "với bot.").format(sent=sent, already=already, u=unreachable), toast=True)


# -- /flags ---------------------------------------------------------------------------------
def _scope_root(ctx: Ctx) -> Organisation | None:
    root = officer_root(ctx)
    if root is None:
        cells = led_cells(ctx.actor)
        root = ctx.session.get(Organisation, cells[0]) if cells else None
    return root


@command("canhbao", "flags", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Đảng viên vắng nhiều, chi bộ chưa sinh hoạt chuyên đề"))
def flags(ctx: Ctx, args: list[str], rest: str) -> None:
    root = _scope_root(ctx)
    if root is None:
        ctx.deny("flags")
        return
    today = _today(ctx)
    q = quarter(today.year, (today.month - 1) // 3 + 1)
    no_thematic = reports.cells_without_thematic(ctx.session, root, q.months)
    lines = [_("⚠️ Cảnh báo — {org}").format(org=root.name), *yearflags.dieu8_lines(
        ctx.session, root, f"{today.year:04d}-{today.month:02d}"),
        *yearflags.streak_lines(ctx.session, root, today.year, ctx.now())]
    lines.append(_("Chi bộ chưa có sinh hoạt chuyên đề trong quý {q}:").format(
        q=q.label.removeprefix("Q")))  # "quý 3/2026", not "quý Q3/2026"
    lines += [f"• {cell_label(c['cell'], c.get('parent'))}" for c in no_thematic] \
        or [_("• Không có.")]
    ctx.reply("\n".join(lines))


# -- /report ----------------------------------------------------------------------------------
@command("baocao", "report", who=Who.LINKED, where=Where.PRIVATE,
         summary=N_("Báo cáo Excel và biểu đồ: /baocao thang|quy|nam [kỳ]"))
def report(ctx: Ctx, args: list[str], rest: str) -> None:
    if args and args[0].lower() in ("sobienban", "minutes"):
        from handlers.records.minutes_book import send_book

        send_book(ctx, args[1:])  # the minutes book: members read their own cell's
        return
    root = _scope_root(ctx)
    if root is None:
        ctx.deny("report")
        return
    today = _today(ctx)
    kind = args[0].lower() if args else "thang"
    tail = " ".join(args[1:])
    if kind in ("quy", "quarter", "q"):
        period = parse_period("q" + (tail or str((today.month - 1) // 3 + 1)), today)
    elif kind in ("nam", "year"):
        period = parse_period(tail or str(today.year), today)
    elif kind in ("thang", "month"):
        period = parse_period(tail, today)
    else:
        period = parse_period(rest, today)
    if period is None:
        ctx.reply(_("Cú pháp: /baocao thang [11/2026] | quy [4/2026] | nam [2026]."))
        return
    s = ctx.session
    name = f"bao-cao-{encode(period)}"
    ctx.reply(summary_text(s, root, period))
    ctx.send(ctx.incoming.chat.id, _("Báo cáo {period} (Excel).").format(period=period.label),
             attachment=Attachment(f"{name}.xlsx", workbook(s, root, period, ctx.settings),
                                   "document"))
    ctx.send(ctx.incoming.chat.id, _("Biểu đồ tỷ lệ dự họp và xếp loại."),
             attachment=Attachment(f"{name}.png", chart_png(s, root, period, ctx.now()),
                                   "photo"))
    if period.kind == "year":
        from handlers.year.sheets import levels_chart_png

        ctx.send(ctx.incoming.chat.id, _("Biểu đồ xếp loại năm {y}.").format(y=period.label),
                 attachment=Attachment(f"{name}-xep-loai.png", levels_chart_png(
                     s, root, int(period.first[:4]), ctx.settings), "photo"))

