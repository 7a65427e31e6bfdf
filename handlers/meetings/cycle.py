"""The meeting cycle: materialise meetings from rules, plan their steps, sweep due steps.

The database is the source of truth (DESIGN.md flow 3). Each step of a meeting is a row
in ``scheduled_message`` with a unique (meeting, step, recipient); the sweeper claims due
rows one at a time and, in the same transaction, writes the step's messages to the
outbox under keys derived from (meeting, step, revision, target). A double sweep or a
restart therefore never sends twice; a step found due after its useful moment is marked
``missed`` and logged instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, bindparam, update
from sqlmodel import Session, select

from handlers.meetings import reminders  # noqa: F401  (registers the step handlers)
from handlers.meetings.schedule_rules import (
    add_months,
    local_to_utc,
    meeting_date,
    notice_at,
    outside_quiet,
    parse_hhmm,
    quarter_months,
)
from handlers.meetings.steps import STEP_HANDLERS as STEP_HANDLERS
from handlers.meetings.steps import handler_for
from models.db import insert_once
from models.dberrors import is_transient
from models.meeting import Meeting, MeetingKind, MeetingStatus
from models.org import CELL_KINDS, Organisation
from models.schedule import ScheduledStep, StepStatus
from models.settings import CycleSettings, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepDef:
    name: str
    offset: timedelta  # from the meeting start; negative = before
    useful_for: timedelta  # after the start, how long the step still makes sense


def step_defs(c: CycleSettings, kind: str) -> list[StepDef]:
    h = lambda x: timedelta(hours=x)  # noqa: E731
    defs = [
        StepDef("committee", -h(c.committee_before_h), h(0)),
        StepDef("agenda_request", -h(c.agenda_request_before_h), h(0)),
        StepDef("agenda_post", -h(c.agenda_post_before_h), h(0)),
        *(StepDef(f"remind_{x:g}h", -h(x), h(0)) for x in c.member_reminder_before_h),
        StepDef("rollcall", h(0), h(8)),
        StepDef("scoring", h(c.scoring_after_h), timedelta(days=c.correction_window_days)),
        StepDef("escalation", h(c.escalation_after_h), timedelta(days=30)),
        # Sổ tay đảng viên (handlers/sotay_reminders.py): until /sotay records the upload.
        StepDef("sotay_before", -h(48), h(0)),
        StepDef("sotay_after_1", h(24), h(48)),
        StepDef("sotay_after_2", h(44), h(48)),
    ]
    if kind == MeetingKind.COMMITTEE.value:
        return [d for d in defs if d.name.startswith("remind_")]
    return defs


def _recipient(meeting: Meeting) -> str:
    return "*" if meeting.revision == 0 else f"*r{meeting.revision}"


def plan_steps(session: Session, meeting: Meeting, cycle: CycleSettings) -> int:
    """Insert the meeting's pending steps for its current revision (idempotent)."""
    existing = {(s.step, s.recipient) for s in session.exec(
        select(ScheduledStep).where(ScheduledStep.meeting_id == meeting.id))}
    recipient = _recipient(meeting)
    n = 0
    defs = step_defs(cycle, meeting.kind)
    if meeting.kind == MeetingKind.REGULAR.value and _mid_quarter(meeting.period):
        defs.append(StepDef("thematic_check", -timedelta(hours=cycle.agenda_request_before_h),
                            timedelta(0)))
    if meeting.kind == MeetingKind.REGULAR.value and meeting.period.endswith("-12"):
        # The year's review opens: each member is asked for the self-assessment.
        defs.append(StepDef("review_open", timedelta(hours=3), timedelta(days=30)))
    due = due_times(session, meeting, defs, cycle)
    for d in defs:
        if (d.name, recipient) in existing:
            continue
        session.add(ScheduledStep(meeting_id=meeting.id or 0, step=d.name, recipient=recipient,
                                  due_at=due[d.name],
                                  useful_until=meeting.scheduled_at + d.useful_for))
        n += 1
    return n


def due_times(session: Session, meeting: Meeting, defs: list[StepDef],
              cycle: CycleSettings) -> dict[str, datetime]:
    """When each step falls: its offset from the start, the cell's own notice day and hour
    (/baotruoc), and never in the quiet hours."""
    due = {d.name: meeting.scheduled_at + d.offset for d in defs}
    cell = session.get(Organisation, meeting.cell_id)
    if cell is not None and cell.notice_days is not None and cell.notice_time \
            and "agenda_post" in due:
        # The chi ủy and the agenda request come at least two days and one day before.
        post = notice_at(meeting.scheduled_at, meeting.timezone, cell.notice_days,
                         cell.notice_time)
        due["agenda_post"] = post
        due["committee"] = min(due["committee"], post - timedelta(hours=48))
        due["agenda_request"] = min(due["agenda_request"], post - timedelta(hours=24))
    return {d.name: outside_quiet(due[d.name], meeting.timezone, cycle.quiet_hours,
                                  before=meeting.scheduled_at if d.offset < timedelta(0)
                                  else None) for d in defs}


def retime(session: Session, meeting: Meeting, cycle: CycleSettings) -> int:
    """Move the meeting's pending steps to when they now fall (the cell's notice setting
    changed); steps already sent stay sent. Returns how many moved."""
    due = due_times(session, meeting, step_defs(cycle, meeting.kind), cycle)
    moved = 0
    for step in session.exec(select(ScheduledStep).where(
            ScheduledStep.meeting_id == meeting.id,
            ScheduledStep.status == StepStatus.PENDING.value)):
        at = due.get(step.step)
        if at is not None and at != step.due_at:
            step.due_at = at
            session.add(step)
            moved += 1
    return moved


def _mid_quarter(period: str) -> bool:
    return quarter_months(period)[1] == period


def replan(session: Session, meeting: Meeting, cycle: CycleSettings) -> None:
    """After a reschedule: drop pending steps, bump the revision, plan again."""
    session.execute(
        update(ScheduledStep)
        .where(ScheduledStep.meeting_id == meeting.id,
               ScheduledStep.status == StepStatus.PENDING.value)
        .values(status=StepStatus.CANCELLED.value))
    meeting.revision += 1
    session.add(meeting)
    session.flush()
    plan_steps(session, meeting, cycle)


def cancel_steps(session: Session, meeting: Meeting) -> None:
    session.execute(
        update(ScheduledStep)
        .where(ScheduledStep.meeting_id == meeting.id,
               ScheduledStep.status == StepStatus.PENDING.value)
        .values(status=StepStatus.CANCELLED.value))


def regular_time(cell: Organisation, cycle: CycleSettings, year: int, month: int) -> datetime:
    rule = cell.meeting_rule or cycle.default_rule
    at = parse_hhmm(cell.meeting_time or cycle.default_meeting_time)
    return local_to_utc(meeting_date(rule, year, month), at, cell.timezone)


@cache
def _existing_stmt(by_cell: bool) -> Any:
    """The regular meetings of some periods (and cells), built once: /lichhop asks it."""
    q = select(Meeting.cell_id, Meeting.period).where(
        Meeting.kind == MeetingKind.REGULAR.value, Meeting.seq == 0,
        Meeting.period.in_(bindparam("periods", expanding=True)))
    return q.where(Meeting.cell_id.in_(bindparam("cells", expanding=True))) if by_cell else q


def materialise(session: Session, settings: Settings, now: datetime,
                cells: list[Organisation] | None = None) -> int:
    """Create the coming months' regular meetings that do not exist yet."""
    cycle = settings.cycle
    if cells is None:
        cells = list(session.exec(select(Organisation).where(
            Organisation.kind.in_(CELL_KINDS), Organisation.active == True)))  # noqa: E712
    periods = sorted({
        "{:04d}-{:02d}".format(*add_months(local.year, local.month, k))
        for local in {now.astimezone(ZoneInfo(c.timezone)).replace(day=1, hour=0, minute=0)
                      for c in cells}
        for k in range(cycle.months_ahead + 1)})
    # Only the coming periods' keys, as tuples: the history of past meetings is not read.
    by_cell = len(cells) <= 500
    params: dict[str, Any] = {"periods": periods}
    if by_cell:
        params["cells"] = [c.id for c in cells]
    have = {(cell_id, period)
            for cell_id, period in session.execute(_existing_stmt(by_cell), params)}
    created = 0
    dialect = session.get_bind().dialect.name
    for cell in cells:
        local = now.astimezone(ZoneInfo(cell.timezone))
        for k in range(cycle.months_ahead + 1):
            y, m = add_months(local.year, local.month, k)
            period = f"{y:04d}-{m:02d}"
            if (cell.id, period) in have:
                continue
            when = regular_time(cell, cycle, y, m)
            if when <= now:
                continue
            # ON CONFLICT DO NOTHING: an update and the sweep may materialise the same month
            # at once (PostgreSQL); the one that loses skips it instead of failing its batch.
            row = Meeting(cell_id=cell.id or 0, kind=MeetingKind.REGULAR.value, seq=0,
                          period=period, scheduled_at=when, timezone=cell.timezone,
                          created_at=now, updated_at=now)  # the model's defaults, as a row
            new_id = session.execute(_insert_meeting_stmt(dialect), {
                c: getattr(row, c) for c in _MEETING_COLUMNS}).scalar()
            if new_id is None:
                continue
            meeting = session.get(Meeting, new_id)
            assert meeting is not None
            plan_steps(session, meeting, cycle)
            created += 1
    return created


_MEETING_COLUMNS = [c.name for c in Meeting.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]


@cache
def _insert_meeting_stmt(dialect: str) -> Any:
    table = Meeting.__table__  # type: ignore[attr-defined]
    return insert_once(table, ["cell_id", "period", "kind", "seq"], table.c.id, dialect)


@dataclass
class SweepResult:
    done: int = 0
    missed: int = 0
    cancelled: int = 0


def sweep(engine: Engine, settings: Settings, now: datetime, limit: int = 2000) -> SweepResult:
    """Turn due steps into outbox rows, each in its own transaction."""
    result = SweepResult()
    with Session(engine) as s:
        ids = list(s.exec(select(ScheduledStep.id).where(
            ScheduledStep.status == StepStatus.PENDING.value, ScheduledStep.due_at <= now)
            .order_by(ScheduledStep.due_at, ScheduledStep.id).limit(limit)))
    for step_id in ids:
        with Session(engine) as s:
            q = select(ScheduledStep).where(ScheduledStep.id == step_id,
                                            ScheduledStep.status == StepStatus.PENDING.value)
            if s.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            step = s.exec(q).first()
            if step is None:  # another sweeper took it
                continue
            try:
                outcome = _run_step(s, step, settings, now)
            except Exception as exc:  # a bug in one step must not stall the others
                if is_transient(exc):
                    raise  # the database is away: the step stays pending for later
                log.exception("step %s of meeting %s failed", step.step, step.meeting_id)
                s.rollback()
                step = s.get(ScheduledStep, step_id)
                assert step is not None
                outcome = StepStatus.MISSED
            step.status = outcome.value
            step.done_at = now
            s.add(step)
            s.commit()
        if outcome is StepStatus.DONE:
            result.done += 1
        elif outcome is StepStatus.MISSED:
            result.missed += 1
        else:
            result.cancelled += 1
    return result


def _run_step(s: Session, step: ScheduledStep, settings: Settings, now: datetime) -> StepStatus:
    meeting = s.get(Meeting, step.meeting_id)
    if meeting is None or meeting.status == MeetingStatus.CANCELLED.value:
        return StepStatus.CANCELLED
    cell = s.get(Organisation, meeting.cell_id)
    fn = handler_for(step.step)
    if cell is None or fn is None:
        log.error("step %s of meeting %s: no handler or cell", step.step, meeting.id)
        return StepStatus.MISSED
    if now > step.useful_until:
        log.warning("step %s of meeting %s due %s missed: its moment has passed",
                    step.step, meeting.id, step.due_at.isoformat())
        return StepStatus.MISSED
    fn(s, meeting, cell, step, now, settings)
    return StepStatus.DONE
