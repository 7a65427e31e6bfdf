"""Platform-neutral message types and the Messenger protocol every adapter implements."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

ChatKind = Literal["private", "group"]


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Chat:
    id: str
    kind: ChatKind
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    id: str
    name: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    data: bytes
    kind: Literal["document", "photo"] = "document"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One update from a platform. ``event`` is "message" unless the chat itself changed."""

    platform: str
    update_id: str
    chat: Chat
    sender: Sender
    text: str | None = None
    callback_data: str | None = None
    callback_id: str | None = None  # to answer the button press (Telegram)
    message_id: str | None = None
    timestamp: datetime | None = None
    event: Literal["message", "callback", "bot_removed", "chat_migrated", "join_request",
                   "unsupported"] = "message"
    mentions_bot: bool = False
    reply_to_bot: bool = False
    # A file the member sent (downloaded by the adapter); ``text`` is then its caption.
    attachment: Attachment | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JoinDecision:
    """Approve or decline a user's request to join the group chat ``Outgoing.chat_id``."""

    user_id: str
    approve: bool


@dataclass(frozen=True, slots=True)
class Outgoing:
    platform: str
    chat_id: str
    text: str
    buttons: Keyboard = ()
    attachment: Attachment | None = None
    key: str | None = None  # idempotency key; the outbox derives one when None
    reply_to: str | None = None
    # The button press this message answers; with ``toast`` the answer is a short notice
    # on the presser's screen instead of a chat message (for group chats).
    answer_callback: str | None = None
    toast: bool = False
    join: JoinDecision | None = None  # an action instead of a message (``text`` unused)


@dataclass(frozen=True, slots=True)
class MenuCommand:
    """One entry of a platform's command menu, handed to the adapter as data. ``summary``
    is the untranslated (Vietnamese) text; the adapter translates it per language."""

    name: str
    summary: str
    private: bool  # offered in private chats
    group: bool  # offered in group chats


@dataclass(frozen=True, slots=True)
class SentRef:
    message_id: str


@dataclass(frozen=True, slots=True)
class Capabilities:
    buttons: bool
    max_text: int
    edit: bool = False
    documents: bool = True
    photos: bool = True
    # Sending limits the outbox honours (messages per second overall, per minute per group).
    global_per_second: float = 30.0
    group_per_minute: float = 20.0
    private_per_second: float = 1.0


class SendError(Exception):
    """A failed send. ``transient`` errors are retried; ``retry_after`` is the server's ask."""

    def __init__(
        self, message: str, *, transient: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


class Messenger(Protocol):
    platform: str
    capabilities: Capabilities

    async def send(self, out: Outgoing) -> SentRef: ...


class Adapter(Messenger, Protocol):
    """A platform connection: receives updates (polling or webhook) and sends."""

    async def start(self) -> None: ...

    async def run(self, stop: object) -> None: ...

    async def stop(self) -> None: ...


def numbered(text: str, buttons: Keyboard) -> str:
    """Render buttons as a numbered list for platforms without them."""
    flat = [b for row in buttons for b in row]
    if not flat:
        return text
    lines = [text, ""] + [f"{i}. {b.label}" for i, b in enumerate(flat, 1)]
    return "\n".join(lines)


def split_text(text: str, limit: int) -> list[str]:
    """Split on line boundaries so each part fits ``limit`` characters."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    cur = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single over-long line: hard cut
            if cur:
                parts.append(cur)
                cur = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{cur}\n{line}" if cur else line
        if len(candidate) > limit:
            parts.append(cur)
            cur = line
        else:
            cur = candidate
    if cur:
        parts.append(cur)
    return parts


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if ``stop`` is set meanwhile (polling backoff)."""
    if seconds <= 0:
        return
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return
