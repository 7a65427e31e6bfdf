"""The per-update context a handler receives: session, actor, chat, reply helpers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import Session

from handlers.core.access import Actor, who_may
from models.messages import Attachment, Button, Incoming, Keyboard, Outgoing
from models.org import ChatBinding, Organisation, binding_for
from models.outbox_queue import enqueue
from models.settings import Settings
from models.text import as_id

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Ctx:
    session: Session
    incoming: Incoming
    settings: Settings
    clock: Callable[[], datetime]
    actor: Actor
    binding: ChatBinding | None = None
    _sent: int = field(default=0, repr=False)
    _answered: bool = field(default=False, repr=False)
    # The update asked for something that was refused (denied, a stale or forged button):
    # a refused press leaves its keyboard as it was.
    refused: bool = False
    # The sender's form in this chat as loaded with the actor (``handlers.core.preload``); the
    # first ``forms.active_form`` takes it instead of querying. ``None`` = no form.
    preloaded_form: Any = field(default=None, repr=False)
    form_preloaded: bool = field(default=False, repr=False)

    @property
    def platform(self) -> str:
        return self.incoming.platform

    @property
    def in_group(self) -> bool:
        return self.incoming.chat.kind == "group"

    def now(self) -> datetime:
        return self.clock()

    def by_id(self, model: type[T], text: str | None) -> T | None:
        """The row a user-supplied id names, or None for anything that is not a valid id."""
        ident = as_id(text)
        return self.session.get(model, ident) if ident is not None else None

    def bound_cell(self) -> Organisation | None:
        if self.binding is None or not self.binding.active:
            return None
        return self.session.get(Organisation, self.binding.org_id)

    def _key(self) -> str:
        self._sent += 1
        return f"r:{self.platform}:{self.incoming.update_id}:{self._sent}"

    def reply(self, text: str, buttons: Keyboard = (), *, toast: bool = False) -> None:
        """Answer in the chat the update came from. The first reply to a button press also
        answers the press; ``toast`` makes it a short notice instead of a group message."""
        answer = None
        if self.incoming.callback_id and not self._answered:
            answer, self._answered = self.incoming.callback_id, True
        if answer is not None:
            # The press is answered on its own, at once and outside the chat's queue and
            # pacer (Telegram's window is short); a late answer is dropped, never posted.
            self.send(f"cb:{answer}"[:64], text if toast else "", answer_callback=answer,
                      toast=True)
            if toast:
                return
        self.send(self.incoming.chat.id, text, buttons, is_group=self.in_group)

    def answer_press(self, text: str = "") -> None:
        """Answer the button press, once: a handler that only sent elsewhere (a form moved
        to the private chat, a keyboard edited in place) leaves it to the router, which
        calls this so the member's button never keeps spinning."""
        if self.incoming.callback_id and not self._answered:
            self._answered = True
            self.send(f"cb:{self.incoming.callback_id}"[:64], text,
                      answer_callback=self.incoming.callback_id, toast=True)

    @property
    def press_answered(self) -> bool:
        return self._answered

    def send(
        self, chat_id: str, text: str, buttons: Keyboard = (), *, is_group: bool = False,
        platform: str | None = None, key: str | None = None, answer_callback: str | None = None,
        toast: bool = False, attachment: Attachment | None = None, edit: str | None = None,
    ) -> bool:
        out = Outgoing(platform=platform or self.platform, chat_id=chat_id, text=text,
                       buttons=buttons, key=key or self._key(),
                       answer_callback=answer_callback, toast=toast, attachment=attachment,
                       edit=edit)
        return enqueue(self.session, out, now=self.now(), is_group=is_group)

    def deny(self, reason: str | None = None) -> None:
        """Refuse, saying who may (``access.WHO_MAY``) where the command is known."""
        from models.i18n import _

        log.info("denied %s from %s:%s (%s)", self.incoming.text or self.incoming.callback_data,
                 self.platform, self.incoming.sender.id, reason or "no rule grants it")
        self.refused = True
        may = who_may(self.incoming)
        if may is None:
            self.reply(_("Xin lỗi, đồng chí không có quyền thực hiện việc này."))
        elif may[1]:
            self.reply(_("Xin lỗi, đồng chí không có quyền dùng lệnh /{cmd}: chỉ {who} mới "
                         "được dùng.").format(cmd=may[1], who=_(may[0])))
        else:
            self.reply(_("Xin lỗi, đồng chí không có quyền thực hiện việc này: chỉ {who} mới "
                         "được làm.").format(who=_(may[0])))

    def refuse(self, text: str) -> None:
        """A press that changes nothing (an old or forged button): say so in a notice."""
        self.refused = True
        self.reply(text, toast=True)


def find_binding(session: Session, platform: str, chat_id: str,
                 now: datetime | None = None) -> ChatBinding | None:
    """The group's binding; a supergroup's old id is accepted for a while (models.org)."""
    return binding_for(session, platform, chat_id, now)


def buttons(*rows: list[tuple[str, str]]) -> Keyboard:
    return tuple(tuple(Button(label, data) for label, data in row) for row in rows)


def column(items: list[tuple[str, str]], per_row: int = 1) -> Keyboard:
    return tuple(
        tuple(Button(lbl, d) for lbl, d in items[i:i + per_row])
        for i in range(0, len(items), per_row)
    )
