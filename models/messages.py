"""Platform-neutral message types and the Messenger protocol every adapter implements."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

ChatKind = Literal["private", "group"]


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a message. ``kind`` "callback" (default) sends ``data`` back as a
    press; "url" opens the link ``data``; "web_app" opens ``data`` as a Telegram Mini App
    (private chats only: Telegram refuses it in groups). Platforms without buttons show
    only choices: link buttons are left out there, so the text must carry the link."""

    label: str
    data: str
    kind: Literal["callback", "url", "web_app"] = "callback"

    @property
    def is_choice(self) -> bool:
        return self.kind == "callback"


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
    # A file kept in the store (models.files.StoredFile): the outbox keeps this reference
    # instead of a copy of ``data`` per recipient, and reads the bytes when it sends.
    file_id: int | None = None


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

    def __post_init__(self) -> None:
        # Every text a user controls is cleaned once, here, so no story can store a NUL
        # byte (PostgreSQL refuses it) or a lone surrogate (not encodable as UTF-8).
        for name in ("text", "callback_data"):
            value = getattr(self, name)
            if value is not None and clean_text(value) != value:
                object.__setattr__(self, name, clean_text(value))
        if self.chat.title is not None and clean_text(self.chat.title) != self.chat.title:
            object.__setattr__(self, "chat", replace(self.chat, title=clean_text(self.chat.title)))
        if clean_text(self.sender.name) != self.sender.name:
            object.__setattr__(self, "sender", replace(self.sender,
                                                       name=clean_text(self.sender.name)))
        att = self.attachment
        if att is not None and clean_text(att.filename) != att.filename:
            object.__setattr__(self, "attachment",
                               replace(att, filename=clean_text(att.filename)))


def clean_text(text: str) -> str:
    """``text`` without NUL bytes and with lone surrogates replaced by "?"."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


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
    # An action instead of a message: make the private chat's menu button open this Mini
    # App address, labelled ``text`` (Telegram; other platforms have no such button).
    menu_button: str | None = None

    @property
    def answer_only(self) -> bool:
        """Only an answer to a button press (a toast, or nothing, on the presser's screen):
        sent at once, outside the per-chat pacer, and dropped if Telegram says too late."""
        return self.answer_callback is not None and self.toast


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


class Failure(StrEnum):
    """What a failed send means for the core, whatever the platform said (each adapter
    maps its own error shapes to one of these; ``bot.delivery`` acts on them)."""

    TRANSIENT = "transient"  # retry later (network, 5xx, flood control with retry_after)
    QUOTA = "quota"  # the platform's sending quota is spent: back off exponentially
    MIGRATED = "migrated"  # the group chat has a new id (``new_chat_id``): resend there
    BLOCKED = "blocked"  # the recipient cannot be written to (blocked the bot, bot kicked)
    EXPIRED = "expired"  # a button answer came too late: drop it, say nothing
    PERMANENT = "permanent"  # the request itself is wrong: never retry


class SendError(Exception):
    """A failed send. ``transient`` errors are retried; ``retry_after`` is the server's ask;
    ``failure`` says what the failure means (see ``Failure``)."""

    def __init__(
        self, message: str, *, transient: bool | None = None,
        retry_after: float | None = None, failure: Failure | None = None,
        new_chat_id: str | None = None,
    ) -> None:
        super().__init__(message)
        if failure is None:
            failure = Failure.TRANSIENT if transient else Failure.PERMANENT
        self.failure = failure
        self.transient = failure in (Failure.TRANSIENT, Failure.QUOTA)
        self.retry_after = retry_after
        self.new_chat_id = new_chat_id


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
    flat = [b for row in buttons for b in row if b.is_choice]
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
