"""Test doubles: a settable clock, a recording messenger, and a chat driver."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from bot.app import App
from bot.platforms.console import ensure_group, ensure_identity, find_member
from models.member import Member
from models.messages import (
    Capabilities,
    Chat,
    Incoming,
    Outgoing,
    Sender,
    SendError,
    SentRef,
)
from models.org import Organisation


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 24, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)

    def set(self, when: datetime) -> None:
        self.now = when


@dataclass
class RecordingMessenger:
    """Records every send; ``fail`` holds SendErrors to raise on the next sends."""

    platform: str = "console"
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(
        buttons=False, max_text=4096, global_per_second=100_000, group_per_minute=10_000_000,
        private_per_second=100_000))
    sent: list[Outgoing] = field(default_factory=list)
    fail: list[SendError] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def send(self, out: Outgoing) -> SentRef:
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append(out)
        return SentRef(str(next(self._ids)))

    def texts(self, chat_id: str | None = None) -> list[str]:
        return [o.text for o in self.sent if chat_id is None or o.chat_id == chat_id]

    def clear(self) -> None:
        self.sent.clear()


class Driver:
    """Speaks to the bot as members through the console platform and collects replies."""

    def __init__(self, app: App, messenger: RecordingMessenger) -> None:
        self.app = app
        self.messenger = messenger
        self._ids = itertools.count(1)

    def member(self, name: str) -> Member:
        with Session(self.app.engine) as s:
            found = find_member(s, name)
            assert len(found) == 1, f"{name}: {len(found)} matches"
            ensure_identity(s, found[0])
            if found[0].cell_id:
                cell = s.get(Organisation, found[0].cell_id)
                assert cell is not None
                ensure_group(s, cell)
            s.commit()
            s.refresh(found[0])
            return found[0]

    def incoming(self, name: str, text: str | None = None, *, group: bool = False,
                 callback: str | None = None, update_id: str | None = None) -> Incoming:
        m = self.member(name)
        chat = Chat(f"group-{m.cell_id}", "group") if group else Chat(f"dm-{m.id}", "private")
        return Incoming(platform="console", update_id=update_id or f"u{next(self._ids)}",
                        chat=chat, sender=Sender(f"m{m.id}", m.full_name), text=text,
                        callback_data=callback, timestamp=self.app.clock(),
                        event="callback" if callback else "message", mentions_bot=group)

    async def say(self, name: str, text: str, *, group: bool = False) -> list[str]:
        """Send ``text`` as member ``name``; return the texts the bot sent in response."""
        before = len(self.messenger.sent)
        self.app.handle(self.incoming(name, text, group=group))
        await self.app.sender.drain()
        return [o.text for o in self.messenger.sent[before:]]

    async def press(self, name: str, data: str, *, group: bool = False) -> list[str]:
        before = len(self.messenger.sent)
        self.app.handle(self.incoming(name, callback=data, group=group))
        await self.app.sender.drain()
        return [o.text for o in self.messenger.sent[before:]]

    def last_buttons(self) -> list[tuple[str, str]]:
        for o in reversed(self.messenger.sent):
            if o.buttons:
                return [(b.label, b.data) for row in o.buttons for b in row]
        return []


def member_id(app: App, name: str) -> int:
    with Session(app.engine) as s:
        m = s.exec(select(Member).where(Member.full_name == name)).one()
        return m.id or 0


QLNS = "Chi bộ Phòng Quản lý ngân sách"
SEC = "Dương Văn Thành"


def link_cell(driver: Driver, cell_name: str, skip: tuple[str, ...] = ()) -> Organisation:
    """Console-link every active member of the cell (except ``skip``) and bind its group."""
    with Session(driver.app.engine) as s:
        cell = s.exec(select(Organisation).where(Organisation.name == cell_name)).one()
        names = [m.full_name for m in s.exec(select(Member).where(Member.cell_id == cell.id,
                                                                 Member.active == True))]  # noqa: E712
    for n in names:
        if n not in skip:
            driver.member(n)
    if skip:  # members who never opened a private chat with the bot
        with Session(driver.app.engine) as s:
            from models.member import Identity

            for n in skip:
                m = s.exec(select(Member).where(Member.full_name == n)).one()
                for ident in s.exec(select(Identity).where(Identity.member_id == m.id)):
                    s.delete(ident)
            s.commit()
    return cell


async def tick(app: App) -> None:
    """One scheduler tick: sweep due steps, deliver the outbox."""
    from handlers.meetings.cycle import sweep

    sweep(app.engine, app.settings, app.clock())
    await app.sender.drain()


@contextlib.asynccontextmanager
async def serving(adapter: Any, emulator: Any) -> AsyncIterator[None]:
    """Run a started adapter's receive loop against an emulator; stop both afterwards."""
    stop = asyncio.Event()
    task = asyncio.create_task(adapter.run(stop))
    try:
        yield
    finally:
        stop.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await adapter.stop()
        await emulator.stop()
