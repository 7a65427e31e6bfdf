"""Platform-neutral message types and the Messenger protocol every adapter implements."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol, TypeVar

from models.text import clean_text

T = TypeVar("T")

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
# Button data starting with this marks a keyboard that stays after a press (a toggle the
# handler edits in place): adapters do not replace it by the "✓ choice" they show.
KEEP_KEYBOARD = "~"


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


# Set by the core in ``Incoming.extra`` once a button press was taken (committed, neither
# denied nor stale): only then may an adapter mark the pressed keyboard "✓ choice".
PRESS_TAKEN = "press_taken"


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
        # byte (PostgreSQL refuses it), a lone surrogate (not encodable as UTF-8) or any
        # other character a .docx/.xlsx cannot hold (models.text.clean_text).
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
    # Also an action: this private chat's own command menu (Telegram), in its language.
    menu: tuple[MenuCommand, ...] | None = None
    # Replace an earlier message of the bot instead of posting: ``edit`` names it by its
    # platform message id (known from a button press), ``edit_of`` by the idempotency key
    # it was queued under (the sender looks up its platform id once it is sent). An
    # adapter without ``Capabilities.edit`` posts the text as a new message.
    edit: str | None = None
    edit_of: str | None = None
    # An action instead of a message: make the private chat's menu button open this Mini
    # App address, labelled ``text`` (Telegram; other platforms have no such button).
    menu_button: str | None = None

    @property
    def answer_only(self) -> bool:
        """Only an answer to a button press (a toast, or nothing, on the presser's screen):
        sent at once, outside the per-chat pacer, and dropped if Telegram says too late."""
        return self.answer_callback is not None and self.toast

    @property
    def chat_action(self) -> bool:
        """A setting of the chat (its command menu, its menu button), not a message in it:
        it counts against the platform's overall rate only, never the chat's pace."""
        return self.menu is not None or self.menu_button is not None


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
    # Messages a private chat may get at once before its per-second pace applies (Telegram
    # tolerates short bursts there: a person who writes twice gets both answers at once).
    private_burst: int = 1


# Platforms whose adapter can replace a sent message (``Capabilities.edit``), filled when
# the app registers its messengers: handlers then edit one message (a group's RSVP tally,
# a tap keyboard) instead of posting a new one each time.
_EDITING: set[str] = set()


def register_capabilities(platform: str, caps: Capabilities) -> None:
    if caps.edit:
        _EDITING.add(platform)
    else:
        _EDITING.discard(platform)


def can_edit(platform: str) -> bool:
    return platform in _EDITING


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


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP is 2).
    The Bot API limits text to "1-4096 characters after entities parsing" and captions to
    "0-1024" (core.telegram.org/bots/api#sendmessage, #senddocument), and counts entity
    offsets and lengths in UTF-16 code units (core.telegram.org/api/entities)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _fit(line: str, limit: int, measure: Callable[[str], int]) -> int:
    """How many code points of ``line`` fit ``limit`` (at least one)."""
    lo, hi = 1, len(line)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(line[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Split on line boundaries so each part's ``measure`` (an additive length: ``len``,
    or :func:`utf16_len` for Telegram) fits ``limit``; an over-long line is cut, at its
    last space when one is in the second half of what fits."""
    if measure(text) <= limit:
        return [text]
    parts: list[str] = []
    cur, cur_n = "", 0
    for line in text.split("\n"):
        n = measure(line)
        while n > limit:  # a single over-long line: cut it
            if cur:
                parts.append(cur)
                cur, cur_n = "", 0
            cut = _fit(line, limit, measure)
            space = line.rfind(" ", cut // 2, cut)
            cut = space + 1 if space > 0 else cut
            parts.append(line[:cut])
            line = line[cut:]
            n = measure(line)
        if cur and cur_n + 1 + n > limit:
            parts.append(cur)
            cur, cur_n = line, n
        elif cur:
            cur, cur_n = f"{cur}\n{line}", cur_n + 1 + n
        else:
            cur, cur_n = line, n
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


class Stopped(Exception):
    """``stop`` was set while :func:`unless_stopped` waited: the call was cancelled."""


async def unless_stopped(stop: asyncio.Event, call: Awaitable[T]) -> T:
    """Await ``call``, cancelling it as soon as ``stop`` is set (a long poll must not hold
    a shutdown for its 25 s); raises :class:`Stopped` then."""
    task = asyncio.ensure_future(call)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise Stopped
    return task.result()


class PlatformGone(Exception):
    """An adapter cannot go on (its token was refused): the message says so in plain
    words, for one log line; the runner stops that adapter and keeps the others."""


async def wait_either(stop: asyncio.Event, wake: asyncio.Event, timeout: float) -> None:
    """Sleep until ``stop`` or ``wake`` is set, at most ``timeout`` seconds."""
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
