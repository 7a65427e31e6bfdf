"""Rehearsal: the console on a simulated clock (`chibot console --at …`).

A trainer plays a month without writing Python: `:tua 3d` / `:tua 2h` moves the clock
forward in steps of at most an hour; at each step the cycle runs exactly as `chibot run`
would (materialise, sweep due steps, deliver the outbox), so every notice, reminder and
prompt is printed to the chat of the member who receives it. Every member of the
rehearsed cell, and the officers above it, get a console identity so nothing is lost.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.app import App
from bot.platforms.console import ensure_group, ensure_identity
from bot.scheduler import CycleRunner
from handlers.core.notify import officers_above
from models.member import Member, Role, cell_members, members_with_role
from models.org import Organisation
from models.text import fold

_AT_FORMATS = ("%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d")
_SPAN = re.compile(r"(\d+)\s*(ngay|d|gio|h|phut|m)")
_UNITS = {"d": "days", "ngay": "days", "h": "hours", "gio": "hours", "m": "minutes",
          "phut": "minutes"}
MAX_SPAN = timedelta(days=400)


class RehearsalError(ValueError):
    """A rehearsal argument the console refuses; the message says why (Vietnamese)."""


class SimClock:
    """A clock that stands still until it is moved."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def parse_at(text: str, timezone: str) -> datetime:
    """"2026-11-17 08:00" (or 17/11/2026 08:00), local time in ``timezone`` -> aware UTC."""
    for fmt in _AT_FORMATS:
        try:
            local = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(ZoneInfo("UTC"))
    raise RehearsalError(f"Không đọc được thời điểm “{text}”: dùng dạng 2026-11-17 08:00.")


def parse_span(text: str) -> timedelta:
    """"3d", "2h", "45m", "1d 12h", "3 ngày", "2 giờ" -> timedelta (positive, bounded)."""
    t = fold(text).replace(" ", "")
    parts = _SPAN.findall(t)
    if not parts or _SPAN.sub("", t):
        raise RehearsalError(f"Không hiểu “{text.strip()}”: dùng ví dụ :tua 3d, :tua 2h, :tua 30m.")
    span = timedelta()
    for n, unit in parts:
        span += timedelta(**{_UNITS[unit]: int(n)})
    if not timedelta() < span <= MAX_SPAN:
        raise RehearsalError("Khoảng thời gian phải lớn hơn 0 và không quá 400 ngày.")
    return span


def cast(app: App, member: Member) -> None:
    """Console identities for everyone the rehearsal of ``member``'s cell may reach."""
    with Session(app.engine) as s:
        cell = s.get(Organisation, member.cell_id) if member.cell_id else None
        if cell is None:
            return
        people = [*cell_members(s, cell_id=cell.id or 0), *officers_above(s, cell),
                  *members_with_role(s, org_id=cell.id or 0, roles=(Role.FOLLOWER.value,))]
        for m in people:
            if m.active:
                ensure_identity(s, m)
        ensure_group(s, cell)
        s.commit()


class Rehearsal:
    def __init__(self, app: App, clock: SimClock) -> None:
        self.app = app
        self.clock = clock
        self.cycle = CycleRunner(app.engine, app.settings, clock)

    async def tick(self) -> None:
        """One scheduler tick at the current simulated time, then delivery."""
        self.cycle.tick()
        await self.app.sender.drain()

    async def advance(self, span: timedelta) -> None:
        """Move the clock by ``span`` in steps of at most an hour, ticking at each."""
        end = self.clock.now + span
        while self.clock.now < end:
            self.clock.now = min(self.clock.now + timedelta(hours=1), end)
            await self.tick()
