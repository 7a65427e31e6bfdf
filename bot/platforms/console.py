"""Terminal chat: talk to the bot as any imported member, privately or in the cell group.

The console is a local operator's tool, so choosing a member links that member's console
identity directly; there is no link code. Buttons are shown as numbered choices and
answered by number or by their words.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from models.base import utcnow
from models.member import Identity, Member
from models.messages import (
    Capabilities,
    Chat,
    Incoming,
    Outgoing,
    Sender,
    SentRef,
    numbered,
)
from models.org import ChatBinding, Organisation
from models.text import fold

PLATFORM = "console"


def private_chat_id(member_id: int) -> str:
    return f"dm-{member_id}"


def group_chat_id(cell_id: int) -> str:
    return f"group-{cell_id}"


def save_file(out_dir: Path, filename: str, data: bytes) -> Path:
    """``data`` under ``out_dir`` by its own name (no folders from the name); the same bytes
    sent again (to each member) reuse the file, other bytes get "-2", "-3" …"""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = Path(filename.replace("\\", "/")).name or "tep"
    path, n = out_dir / name, 1
    while path.exists() and path.read_bytes() != data:
        n += 1
        path = out_dir / f"{Path(name).stem}-{n}{Path(name).suffix}"
    if not path.exists():
        path.write_bytes(data)
    return path.resolve()


class ConsoleMessenger:
    """Prints what the bot sends; ``describe`` names the chat a message goes to."""

    platform = PLATFORM
    capabilities = Capabilities(buttons=False, max_text=4096, global_per_second=10_000,
                                group_per_minute=1_000_000, private_per_second=10_000)

    def __init__(self, describe: Callable[[str], str],
                 write: Callable[[str], None] = print, out_dir: Path | None = None) -> None:
        self.describe = describe
        self.write = write
        self.out_dir = out_dir  # where the files the bot sends are saved (trainers open them)
        self._ids = itertools.count(1)
        self.sent: list[Outgoing] = []

    def save(self, filename: str, data: bytes) -> Path | None:
        return save_file(self.out_dir, filename, data) if self.out_dir is not None else None

    async def send(self, out: Outgoing) -> SentRef:
        self.sent.append(out)
        if out.join is not None:
            verdict = "duyệt" if out.join.approve else "từ chối"
            self.write(f"── {self.describe(out.chat_id)} ──\n[bot {verdict} yêu cầu vào nhóm "
                       f"của {out.join.user_id}]\n")
            return SentRef(str(next(self._ids)))
        if out.menu is not None:  # Telegram's menus only: nothing to show in a console
            return SentRef(str(next(self._ids)))
        body = numbered(out.text, out.buttons)
        if out.attachment is not None:
            saved = await asyncio.to_thread(self.save, out.attachment.filename,
                                            out.attachment.data)
            body += f"\n[{out.attachment.kind}: {out.attachment.filename}, " \
                    f"{len(out.attachment.data)} bytes" + (f" → {saved}]" if saved else "]")
        self.write(f"── {self.describe(out.chat_id)} ──\n{body}\n")
        return SentRef(str(next(self._ids)))


def find_member(session: Session, name: str) -> list[Member]:
    needle = fold(name)
    members = list(session.exec(select(Member).where(Member.active == True)))  # noqa: E712
    exact = [m for m in members if fold(m.full_name) == needle]
    return exact or [m for m in members if needle in fold(m.full_name)]


def ensure_identity(session: Session, member: Member) -> Identity:
    ident = session.exec(select(Identity).where(Identity.platform == PLATFORM,
                                                Identity.member_id == member.id)).first()
    if ident is None:
        ident = Identity(member_id=member.id or 0, platform=PLATFORM,
                         platform_user_id=f"m{member.id}", display_name=member.full_name,
                         private_chat_id=private_chat_id(member.id or 0))
        session.add(ident)
    return ident


def ensure_group(session: Session, cell: Organisation) -> ChatBinding:
    chat_id = group_chat_id(cell.id or 0)
    b = session.exec(select(ChatBinding).where(ChatBinding.platform == PLATFORM,
                                               ChatBinding.chat_id == chat_id)).first()
    if b is None:
        b = ChatBinding(platform=PLATFORM, chat_id=chat_id, org_id=cell.id or 0,
                        title=cell.name)
        session.add(b)
    return b


@dataclass
class ConsoleUser:
    member_id: int
    name: str
    cell_id: int | None
    in_group: bool = False
    _updates: itertools.count = field(default_factory=lambda: itertools.count(1))

    def incoming(self, text: str, run_id: str, at: datetime | None = None) -> Incoming:
        if self.in_group and self.cell_id:
            chat = Chat(group_chat_id(self.cell_id), "group")
        else:
            chat = Chat(private_chat_id(self.member_id), "private")
        return Incoming(platform=PLATFORM, update_id=f"{run_id}-{self.member_id}-"
                        f"{next(self._updates)}", chat=chat,
                        sender=Sender(f"m{self.member_id}", self.name),
                        text=text, timestamp=at or utcnow(), mentions_bot=True)


async def read_line(prompt: str) -> str | None:
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None
