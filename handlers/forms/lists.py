"""Lists collected by a repeating step (agenda items, tasks) are shown with numbers and
can be corrected one by one: "xóa 2" removes item 2, "sửa 2 | …" replaces it (the rest
is read like a new item), so one mistake never means retyping the list."""

from __future__ import annotations

import re
from typing import Any, Protocol

from handlers.core.context import Ctx
from handlers.forms.errors import Invalid
from models.i18n import _
from models.text import fold


class Step(Protocol):  # what this module needs of handlers.forms.engine.Step (which imports it)
    name: str
    parse: Any


class Form(Protocol):
    def item_text(self, ctx: Ctx, data: dict[str, Any], step: Any, item: Any) -> str: ...

_REMOVE = re.compile(r"^(?:xoa|bo|remove|delete)\s+(\d{1,3})\.?$")
_EDIT = re.compile(r"^\s*(?:sửa|sua|edit)\s+(\d{1,3})\s*[|:.]?\s*(.*)$", re.IGNORECASE | re.S)


def items_block(ctx: Ctx, form: Form, step: Step, data: dict[str, Any]) -> str:
    items = data.get(step.name, [])
    lines = [_("Đã nhập:")]
    lines += [f"{i}. {form.item_text(ctx, data, step, it)}" for i, it in enumerate(items, 1)]
    lines.append(_("Sửa một mục: “sửa 2 | …”; bỏ một mục: “xóa 2”."))
    return "\n".join(lines)


def _number(n: str, items: list[Any]) -> int:
    i = int(n)
    if not 1 <= i <= len(items):
        raise Invalid(_("Chưa có mục {n}; danh sách có {k} mục.").format(n=n, k=len(items)))
    return i - 1


def edit_item(ctx: Ctx, form: Form, step: Step, data: dict[str, Any],
              text: str) -> str | None:
    """Apply "xóa N" / "sửa N | …" to ``data[step.name]``; the message to show, or None
    when ``text`` is not such an edit (then it is read as a new item)."""
    items = list(data.get(step.name, []))
    if m := _REMOVE.match(fold(text)):
        i = _number(m.group(1), items)
        gone = items.pop(i)
        data[step.name] = items
        return _("Đã xóa mục {n}: {item}.").format(
            n=i + 1, item=form.item_text(ctx, data, step, gone))
    m = _EDIT.match(text) if fold(text).startswith(("sua ", "edit ")) else None
    if m is None or step.parse is None:
        return None
    i = _number(m.group(1), items)
    items[i] = step.parse(ctx, data, m.group(2))
    data[step.name] = items
    return _("Đã sửa mục {n}.").format(n=i + 1)
