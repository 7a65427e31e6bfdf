"""Tasks assigned by a meeting's resolution: listing and marking them done."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import select

from handlers.core.access import can_manage_cell, can_read_cell
from handlers.core.context import Ctx, column
from handlers.core.router import Where, Who, callback, command
from handlers.forms.cellform import actor_cell
from handlers.meetings.agenda import task_line
from models.audit import audit
from models.i18n import N_, _
from models.meeting import Meeting, Task, TaskStatus
from models.org import Organisation


@cache
def _open_stmt() -> Any:
    return (select(Task).join(Meeting, Meeting.id == Task.meeting_id)
            .where(Meeting.cell_id == bindparam("cell_id"),
                   Task.status == TaskStatus.OPEN.value)
            .order_by(Task.due_date, Task.id))


def open_tasks(ctx: Ctx, cell_id: int) -> list[Task]:
    return list(ctx.session.scalars(_open_stmt(), {"cell_id": cell_id}))


@command("nhiemvu", "tasks", who=Who.LINKED, where=Where.ANY,
         summary=N_("Nhiệm vụ chưa hoàn thành của chi bộ"))
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
    if not ctx.in_group and can_manage_cell(ctx.session, ctx.actor, cell):
        lines.append(_("Bấm để đánh dấu đã hoàn thành:"))
        kb = column([(f"✔ {i}", f"nv:{t.id}") for i, t in enumerate(items, 1)], 4)
    ctx.reply("\n".join(lines), kb)


@callback("nv", who=Who.LINKED)
def task_done(ctx: Ctx, parts: list[str]) -> None:
    s = ctx.session
    task = ctx.by_id(Task, parts[0] if parts else None)
    meeting = s.get(Meeting, task.meeting_id) if task else None
    cell = s.get(Organisation, meeting.cell_id) if meeting else None
    if task is None or cell is None or not can_manage_cell(s, ctx.actor, cell):
        ctx.deny("task done")
        return
    if task.status != TaskStatus.OPEN.value:
        ctx.reply(_("Nhiệm vụ này đã được ghi nhận trước đó."))
        return
    task.status = TaskStatus.DONE.value
    task.done_at = ctx.now()
    s.add(task)
    audit(s, "task.done", "task", task.id, ctx.actor.member.id if ctx.actor.member else None)
    ctx.reply(_("Đã ghi hoàn thành: {task}").format(task=task.description),
              toast=True)
