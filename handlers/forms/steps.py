"""A form's step and its choices (re-exported by :mod:`handlers.forms.engine`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handlers.core.context import Ctx
from models.messages import Keyboard

Data = dict[str, Any]


@dataclass(frozen=True)
class Choice:
    value: Any
    label: str


Data = dict[str, Any]


@dataclass
class Step:
    name: str
    prompt: Callable[[Ctx, Data], str]
    parse: Callable[[Ctx, Data, str], Any] | None = None
    choices: Callable[[Ctx, Data], list[Choice]] | None = None
    when: Callable[[Ctx, Data], bool] | None = None
    optional: bool = False  # "-" / "bỏ qua" stores None
    per_row: int = 1
    # A repeating step collects a list: each answer is appended; a choice whose value is
    # None ("Xong") moves on.
    repeat: bool = False
    files: bool = False  # the answer may be a file (its caption is the text)
    # A follow-up that an earlier answer may add (the topic after "thematic: yes"): it
    # shares the number of the step before it, so the counter never jumps.
    sub: bool = False
    # One line that asks again after a wrong value or a collected item, instead of the
    # whole prompt (its instructions are stated once): "Nội dung thứ 3 (hoặc bấm Xong):".
    short: Callable[[Ctx, Data], str] | None = None
    # A keyboard of the step's own (given the form's id), replacing the choices' buttons
    # where it returns one: the roll call's tap-to-toggle rows on platforms with buttons.
    keyboard: Callable[[Ctx, Data, int], Keyboard] | None = None
