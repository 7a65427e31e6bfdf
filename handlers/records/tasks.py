"""Tasks assigned by a meeting's resolution: listing and marking them done."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, select

from handlers.core.access import can_manage_cell, can_read_cell
from handlers.core.context import Ctx, buttons, column
from handlers.core.notify import send_private
from handlers.core.router import Where, Who, callback, command, text_fallback
from handlers.forms.cellform import actor_cell
from handlers.meetings.agenda import task_line
from handlers.meetings.schedule_rules import local_to_utc, outside_quiet, parse_hhmm
from handlers.meetings.steps import step_handler
from models.audit import audit
from models.i18n import N_, _, use_locale
from models.meeting import Meeting, Task, TaskStatus
from models.member import Member, Role, members_with_role
from models.org import Organisation
from models.schedule import ScheduledStep
from models.settings import Settings
from models.text import fold


@cache
def _open_stmt() -> Any:
    return (select(Task).join(Meeting, Meeting.id == Task.meeting_id)
            .where(Meeting.cell_id == bindparam("cell_id"),
                   Task.status == TaskStatus.OPEN.value)
            .order_by(Task.due_date, Task.id))


def open_tasks(ctx: Ctx, cell_id: int) -> list[Task]:
    return list(ctx.session.scalars(_open_stmt(), {"cell_id": cell_id}))


@command("nhiemvu", "tasks", who=Who.LINKED, where=Where.ANY,
         summary=N_("Nhiệm vụ chưa hoàn thành; báo xong nhiệm vụ của mình: “xong 2”"))
def tasks(ctx: Ctx, args: list[str], rest: str) -> None:
    cell = actor_cell(ctx)
    if cell is None or not can_read_cell(ctx.session, ctx.actor, cell):
        ctx.deny("tasks")
        return
    items = open_tasks(ctx, cell.id or 0)
    if not items:
        ctx.reply(_("Chi bộ không còn nhiệm vụ nào chưa hoàn thành."))
        return
    lines = [_("Nhiệm vụ chưa hoàn thành của {cell}:").format(cell=cell.name)]
    lines += [f"{i}. " + task_line(ctx.session, t, cell.timezone).lstrip("• ")
              for i, t in enumerate(items, 1)]
    kb = ()
    if not ctx.in_group:
        # Leaders close any task; a member closes their own ("xong 2" works too).
        mine = [(i, t) for i, t in enumerate(items, 1) if _may_close(ctx, t, cell)]
        if mine:
            lines.append(_("Bấm (hoặc gõ “xong 2”) để báo đã hoàn thành:"))
            kb = column([(f"✔ {i}", f"nv:{t.id}") for i, t in mine], 4)
    ctx.reply("\n".join(lines), kb)


def _may_close(ctx: Ctx, task: Task, cell: Organisation) -> bool:
    me = ctx.actor.member
    return can_manage_cell(ctx.session, ctx.actor, cell) or (
        me is not None and task.assignee_id == me.id)


@callback("nv", who=Who.LINKED)
def task_done(ctx: Ctx, parts: list[str]) -> None:
    s = ctx.session
    task = ctx.by_id(Task, parts[0] if parts else None)
    meeting = s.get(Meeting, task.meeting_id) if task else None
    cell = s.get(Organisation, meeting.cell_id) if meeting else None
    if task is None or cell is None or not _may_close(ctx, task, cell):
        ctx.deny("task done")
        return
    close_task(ctx, task, cell)


def close_task(ctx: Ctx, task: Task, cell: Organisation) -> None:
    s = ctx.session
    if task.status != TaskStatus.OPEN.value:
        ctx.reply(_("Nhiệm vụ này đã được ghi nhận hoàn thành trước đó; không có gì thay "
                    "đổi."), toast=True)
        return
    task.status = TaskStatus.DONE.value
    task.done_at = ctx.now()
    s.add(task)
    me = ctx.actor.member
    audit(s, "task.done", "task", task.id, me.id if me else None)
    ctx.reply(_("Đã ghi hoàn thành: {task}").format(task=task.description), toast=True)
    if me is not None and not can_manage_cell(s, ctx.actor, cell):
        # The secretary sees it, and may reopen it.
        for leader in members_with_role(s, org_id=cell.id or 0,
                                        roles=(Role.SECRETARY.value, Role.DEPUTY.value)):
            with use_locale(leader.locale):
                send_private(s, leader, _("Đồng chí {name} báo đã hoàn thành nhiệm vụ: {task}.")
                             .format(name=me.full_name, task=task.description),
                             f"task:{task.id}:done:{ctx.incoming.update_id}:{leader.id}",
                             now=ctx.now(), buttons=buttons(
                                 [(_("↩ Mở lại nhiệm vụ"), f"nvr:{task.id}")]))


@callback("nvr", who=Who.LINKED)
def task_reopen(ctx: Ctx, parts: list[str]) -> None:
    """The secretary or deputy reopens a task a member reported done."""
    s = ctx.session
    task = ctx.by_id(Task, parts[0] if parts else None)
    meeting = s.get(Meeting, task.meeting_id) if task else None
    cell = s.get(Organisation, meeting.cell_id) if meeting else None
    if task is None or cell is None or not can_manage_cell(s, ctx.actor, cell):
        ctx.deny("task reopen")
        return
    if task.status == TaskStatus.OPEN.value:
        ctx.reply(_("Nhiệm vụ này đang mở; không có gì thay đổi."), toast=True)
        return
    task.status, task.done_at = TaskStatus.OPEN.value, None
    s.add(task)
    audit(s, "task.reopened", "task", task.id,
          ctx.actor.member.id if ctx.actor.member else None)
    ctx.reply(_("Đã mở lại nhiệm vụ: {task}").format(task=task.description))
    who = s.get(Member, task.assignee_id) if task.assignee_id else None
    if who is not None:
        with use_locale(who.locale):
            send_private(s, who, _("Đồng chí Bí thư đã mở lại nhiệm vụ “{task}”: nhiệm vụ "
                                   "chưa được tính là hoàn thành.").format(
                task=task.description), f"task:{task.id}:reopen:{ctx.incoming.update_id}",
                now=ctx.now())


_DONE = re.compile(r"^(?:xong|da xong|hoan thanh|da hoan thanh)(?: nhiem vu)? (\d{1,3})$")


@text_fallback
def done_typed(ctx: Ctx) -> bool:
    """"xong 2" in the private chat: task 2 of /nhiemvu is done."""
    m = _DONE.match(fold(ctx.incoming.text or "").rstrip("."))
    if m is None or ctx.in_group or ctx.actor.member is None:
        return False
    cell = actor_cell(ctx)
    if cell is None:
        return False
    items = open_tasks(ctx, cell.id or 0)
    n = int(m.group(1))
    if not 1 <= n <= len(items):
        ctx.reply(_("Không có nhiệm vụ số {n}; gõ /nhiemvu để xem danh sách.").format(n=n))
        return True
    if not _may_close(ctx, items[n - 1], cell):
        ctx.deny("task done: not the assignee")
        return True
    close_task(ctx, items[n - 1], cell)
    return True


TASK_STEP = "taskdue"


def plan_task_reminders(s: Session, meeting: Meeting, tasks: list[Task],
                        settings: Settings) -> None:
    """A cycle step per task with a deadline: the assignee is reminded before it."""
    c = settings.cycle
    for t in tasks:
        if t.due_date is None or t.assignee_id is None or t.id is None:
            continue
        at = local_to_utc(t.due_date - timedelta(days=c.task_reminder_days),
                          parse_hhmm(c.task_reminder_time), meeting.timezone)
        end = local_to_utc(t.due_date + timedelta(days=1), time(0), meeting.timezone)
        s.add(ScheduledStep(meeting_id=meeting.id or 0, step=TASK_STEP, recipient=f"t{t.id}",
                            due_at=outside_quiet(at, meeting.timezone, c.quiet_hours,
                                                 before=end),
                            useful_until=end))


@step_handler(TASK_STEP)
def _remind_task(s: Session, meeting: Meeting, cell: Organisation, step: ScheduledStep,
                 now: datetime, settings: Settings) -> None:
    task = s.get(Task, int(step.recipient.removeprefix("t")))
    if task is None or task.status != TaskStatus.OPEN.value or task.assignee_id is None:
        return  # done (or dropped) before its deadline: nothing to remind
    who = s.get(Member, task.assignee_id)
    if who is None or not who.active:
        return
    with use_locale(who.locale):
        send_private(s, who, _("🔔 Nhắc nhiệm vụ: “{task}”, hạn {due}. Khi xong, đồng chí bấm "
                               "nút dưới đây (hoặc gõ /nhiemvu).").format(
            task=task.description, due=task.due_date.strftime("%d/%m/%Y")
            if task.due_date else ""),
            f"task:{task.id}:remind", now=now,
            buttons=buttons([(_("✔ Đã hoàn thành"), f"nv:{task.id}")]))
