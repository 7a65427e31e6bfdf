"""The overview: tiles with the change against the previous period, and "Còn thiếu"
(cells not met or not scored, members not linked to the bot) first.

Every figure comes from ``models.reports.cell_rows`` (added up by ``handlers.views.rollup``)
and ``summary``, the same calls the committee's workbook makes, under its own wording."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from handlers.committee.status import encode
from handlers.core.labels import cell_label, label
from handlers.meetings.schedule_rules import quarter_months
from handlers.views import rollup
from handlers.views.cache import cached, name_key
from handlers.year.marks import below_target
from models import reports
from models.i18n import _, fmt_percent, to_local
from models.meeting import Meeting
from models.member import Identity, Member, Role, RoleAssignment
from models.org import CELL_KINDS, Organisation
from models.outbox import OutboxMessage
from models.records import cells_without_upper_attendee
from models.reports import Period
from models.schedule import ScheduledStep
from models.settings import Settings
from models.text import as_id

# The cycle steps that remind a cell's leaders to hold, roll-call or score the meeting.
REMINDER_STEPS = ("agenda_request", "rollcall", "scoring", "escalation")


def previous(period: Period) -> Period:
    y, m = int(period.first[:4]), int(period.first[5:7])
    if period.kind == "month":
        return reports.month(y - (m == 1), 12 if m == 1 else m - 1)
    if period.kind == "quarter":
        q = (m - 1) // 3 + 1
        return reports.quarter(y - (q == 1), 4 if q == 1 else q - 1)
    return reports.year(y - 1)


def rate(attended: int, due: int) -> float | None:
    """The workbook's attendance rate (``exports._rate``): 4 decimals, None without due."""
    return round(attended / due, 4) if due else None


@dataclass
class Tile:
    key: str
    title: str
    value: str
    delta: str = ""  # "+2", "−1,5 điểm %"; empty: no change or nothing to compare
    bad: bool = False
    note: str = ""


@dataclass
class Missing:
    cell_id: int
    cell: str
    what: str
    secretaries: list[str]
    overdue_days: int | None
    reminders: int
    reason: str = ""


@dataclass
class Overview:
    root: Organisation
    period: Period
    summary: dict[str, Any]
    tiles: list[Tile]
    missing: list[Missing]
    unlinked: Unlinked


def _delta(now: int, before: int) -> str:
    d = now - before
    return f"+{d}" if d > 0 else (f"−{-d}" if d < 0 else "")


def _rate_delta(now: float | None, before: float | None) -> str:
    if now is None or before is None or round((now - before) * 100, 1) == 0:
        return ""
    d = (now - before) * 100
    return _("{sign}{n} điểm %").format(sign="+" if d > 0 else "−",
                                         n=f"{abs(d):.1f}".replace(".", ","))


def tiles(s: Session, root: Organisation, period: Period, settings: Settings) -> tuple[
        dict[str, Any], list[Tile], Unlinked]:
    sm = rollup.summary(s, root, period)  # from the cell rows the page reads anyway
    pv = cached(reports.summary, s, root, previous(period))
    r_now, r_before = rate(sm["attended"], sm["due"]), rate(pv["attended"], pv["due"])
    rat = sm["ratings"]
    last = period.months[-1]
    no_upper = cached(_without_upper, s, root, tuple(quarter_months(last)))
    q = (int(last[5:]) - 1) // 3 + 1
    unlinked = unlinked_members(s, root)
    target = settings.year.attendance_target
    out = [
        Tile("met", _("Chi bộ đã sinh hoạt"), f"{sm['met']}/{sm['cells']}",
             _delta(sm["met"], pv["met"])),
        Tile("not_met", _("Chi bộ chưa sinh hoạt"), str(sm["not_met"]),
             _delta(sm["not_met"], pv["not_met"]), bad=sm["not_met"] > 0),
        Tile("not_held", _("Buổi không đủ điều kiện"), str(sm["not_held"]),
             _delta(sm["not_held"], pv["not_held"]), bad=sm["not_held"] > 0),
        Tile("unscored", _("Chưa chấm điểm"), str(sm["unscored"]),
             _delta(sm["unscored"], pv["unscored"]), bad=sm["unscored"] > 0),
        Tile("rate", _("Tỷ lệ dự họp"), fmt_percent(r_now) if r_now is not None else "—",
             _rate_delta(r_now, r_before),
             bad=below_target(sm["attended"], sm["due"], settings),
             note=_("mục tiêu {t}").format(t=fmt_percent(target))),
        Tile("unexcused", _("Vắng không lý do"), str(sm["unexcused"]),
             _delta(sm["unexcused"], pv["unexcused"]), bad=sm["unexcused"] > 0),
        Tile("ratings", _("Xếp loại"), " · ".join(
            f"{label(b)} {rat.get(b, 0)}" for b in reports.BANDS)),
        Tile("no_upper", _("Chưa có cấp ủy cấp trên dự (quý {q})").format(q=q),
             str(len(no_upper)), bad=bool(no_upper)),
        Tile("unlinked", _("Chưa kết nối với bot"), str(unlinked.total),
             bad=unlinked.total > 0),
    ]
    return sm, out, unlinked


def _without_upper(s: Session, root: Organisation, months: tuple[str, ...]
                   ) -> list[tuple[int, str]]:
    return cells_without_upper_attendee(s, root.path, list(months))


def _not_linked() -> Any:
    return ~select(Identity.id).where(Identity.member_id == Member.id).exists()


def _unlinked_cells(s: Session, root: Organisation) -> list[tuple[int, str, str | None, int]]:
    """(cell id, cell, parent, members not linked) per cell that has any, in tree order."""
    parent = aliased(Organisation, name="parent")
    return [tuple(r) for r in s.exec(  # type: ignore[misc]
        select(Organisation.id, Organisation.name, parent.name, func.count(Member.id))
        .join(Organisation, Organisation.id == Member.cell_id)
        .outerjoin(parent, parent.id == Organisation.parent_id)
        .where(Organisation.path.like(root.path + "%"), Organisation.kind.in_(CELL_KINDS),
               Organisation.active == True, Member.active == True,  # noqa: E712
               _not_linked())
        .group_by(Organisation.id, Organisation.name, parent.name, Organisation.path)
        .order_by(Organisation.path)).all()]


@dataclass
class Unlinked:
    """Members not linked to the bot, per cell, by name: the first ``UNLINKED_CELLS``
    cells in full, the rest counted (a page stays small on a bloc that just started)."""

    cells: list[tuple[int, str, list[tuple[int, str]]]]
    more_cells: int
    more_members: int
    total: int


UNLINKED_CELLS = 20


def unlinked_members(s: Session, root: Organisation) -> Unlinked:
    cells = cached(_unlinked_cells, s, root)
    shown = cells[:UNLINKED_CELLS]
    names: dict[int, list[tuple[int, str]]] = {}
    if shown:
        for mid, name, cid in s.exec(
                select(Member.id, Member.full_name, Member.cell_id)
                .where(Member.cell_id.in_([c[0] for c in shown]),
                       Member.active == True, _not_linked())  # noqa: E712
                .order_by(Member.full_name)).all():
            names.setdefault(cid, []).append((mid, name))
    rest = cells[UNLINKED_CELLS:]
    return Unlinked([(cid, cell_label(cname, pname),
                      sorted(names.get(cid, []), key=lambda r: name_key(r[1])))
                     for cid, cname, pname, _n in shown],
                    len(rest), sum(c[3] for c in rest), sum(c[3] for c in cells))


def missing(s: Session, root: Organisation, period: Period, today: date) -> list[Missing]:
    """Cells whose regular meeting of the period was not held or not scored (the /missing
    rule), with their secretary, days overdue and the reminders already sent."""
    rows = [c for c in cached(reports.cell_rows, s, root, period)
            if c["held"] == 0 or c["unscored"]]
    if not rows:
        return []
    ids = [c["cell_id"] for c in rows]
    meetings: dict[int, Meeting] = {}
    for m in s.exec(select(Meeting).where(Meeting.cell_id.in_(ids),
                                          Meeting.period.in_(period.months),
                                          Meeting.kind == "regular", Meeting.seq == 0,
                                          Meeting.status != "cancelled")
                    .order_by(Meeting.scheduled_at)):
        meetings[m.cell_id] = m  # the latest of the period
    secs: dict[int, list[str]] = {}
    for oid, name in s.exec(select(RoleAssignment.org_id, Member.full_name)
                            .join(Member, Member.id == RoleAssignment.member_id)
                            .where(RoleAssignment.org_id.in_(ids),
                                   RoleAssignment.role == Role.SECRETARY.value,
                                   Member.active == True)  # noqa: E712
                            .order_by(Member.id)):
        secs.setdefault(oid, []).append(name)
    steps = dict(s.exec(select(Meeting.cell_id, func.count(ScheduledStep.id))
                        .join(ScheduledStep, ScheduledStep.meeting_id == Meeting.id)
                        .where(Meeting.id.in_([m.id for m in meetings.values()]),
                               ScheduledStep.step.in_(REMINDER_STEPS),
                               ScheduledStep.status == "done")
                        .group_by(Meeting.cell_id)).all()) if meetings else {}
    # "Nhắc các chi bộ này" (/missing) keys its reminders missing:<cell>:<period>:<day>:…
    pressed: dict[int, int] = {}
    for key in s.exec(select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key.like(f"missing:%:{encode(period)}:%"))):
        cid = as_id(key.split(":")[1])
        if cid is not None:
            pressed[cid] = pressed.get(cid, 0) + 1
    out = []
    for c in rows:
        m = meetings.get(c["cell_id"])
        local = to_local(m.scheduled_at, m.timezone).date() if m is not None else None
        overdue = (today - local).days if local is not None and local < today else None
        if c["held"] == 0:
            what = (_("không đủ điều kiện") if c["not_held"] else _("chưa sinh hoạt"))
        else:
            what = _("chưa chấm điểm")
        out.append(Missing(
            c["cell_id"], cell_label(c["cell"], c["parent"]), what,
            secs.get(c["cell_id"], []), overdue,
            steps.get(c["cell_id"], 0) + pressed.get(c["cell_id"], 0),
            (m.cancel_reason or "") if m is not None and m.status == "not_held" else ""))
    return out


def overview(s: Session, root: Organisation, period: Period, settings: Settings,
             today: date) -> Overview:
    sm, ts, unlinked = tiles(s, root, period, settings)
    return Overview(root, period, sm, ts, missing(s, root, period, today), unlinked)
