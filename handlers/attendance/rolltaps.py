"""The roll call by taps, where the platform has buttons and can edit a message (Telegram):
one member per row; a tap moves the member on (chưa rõ → có mặt → vắng → muộn → có
mặt …) and the same message is edited in place; lists of 40 or more are paged; "Xong"
is the step's confirmation. Typing corrections keeps working alongside."""

from __future__ import annotations

from typing import Any

from handlers.core.context import Ctx, buttons
from handlers.core.router import Who, callback
from handlers.forms import engine as forms
from models.attendance import Presence
from models.i18n import _
from models.member import Member
from models.messages import KEEP_KEYBOARD, Keyboard, can_edit

UNKNOWN = "?"
PAGE, PAGED_FROM = 20, 40
PREFIX = KEEP_KEYBOARD + "rt"  # the adapter leaves a toggle keyboard in place
ICONS = {Presence.PRESENT.value: "✅", Presence.LATE.value: "⏰",
         Presence.EXCUSED.value: "🟡", Presence.UNEXCUSED.value: "❌", UNKNOWN: "❔"}
Marks = dict[str, list[Any]]


def status_label(status: str) -> str:
    return {Presence.PRESENT.value: _("có mặt"), Presence.LATE.value: _("đến muộn"),
            Presence.EXCUSED.value: _("vắng có lý do"),
            Presence.UNEXCUSED.value: _("vắng không lý do")}.get(status, _("chưa rõ"))


def next_mark(status: str, reason: str | None) -> str:
    """chưa rõ → có mặt → vắng (có lý do if one is known) → muộn → có mặt."""
    if status in (UNKNOWN, Presence.LATE.value):
        return Presence.PRESENT.value
    if status == Presence.PRESENT.value:
        return Presence.EXCUSED.value if reason else Presence.UNEXCUSED.value
    return Presence.LATE.value


def toggle_keyboard(members: list[Member], marks: Marks, form_id: int, page: int,
                    done_data: str) -> Keyboard:
    """One row per member (a page of them for long lists), then paging and "Xong"."""
    n = len(members)
    paged = n >= PAGED_FROM
    pages = (n + PAGE - 1) // PAGE if paged else 1
    page = min(max(page, 0), pages - 1)
    shown = range(page * PAGE, min(n, (page + 1) * PAGE)) if paged else range(n)
    rows = []
    for i in shown:
        status = (marks.get(str(members[i].id)) or [UNKNOWN])[0] or UNKNOWN
        rows.append([(f"{ICONS.get(status, '❔')} {i + 1}. {members[i].full_name}",
                      f"{PREFIX}:{form_id}:{i}")])
    if paged:
        nav = []
        if page > 0:
            nav.append((_("◀ Trang {p}").format(p=page), f"{PREFIX}:{form_id}:p{page - 1}"))
        nav.append((_("Trang {p}/{n}").format(p=page + 1, n=pages),
                    f"{PREFIX}:{form_id}:p{page}"))
        if page < pages - 1:
            nav.append((_("Trang {p} ▶").format(p=page + 2), f"{PREFIX}:{form_id}:p{page + 1}"))
        rows.append(nav)
    rows.append([(_("✅ Xong"), done_data)])
    return buttons(*rows)


def roll_keyboard(ctx: Ctx, data: dict[str, Any], form_id: int,
                  members: list[Member]) -> Keyboard:
    """The tap keyboard where the platform edits messages; () elsewhere (numbered text)."""
    if not can_edit(ctx.platform):
        return ()
    return toggle_keyboard(members, data.get("marks", {}), form_id, int(data.get("_page", 0)),
                           f"f:{form_id}:roll:0")


@callback(PREFIX, who=Who.LINKED)
def roll_tap(ctx: Ctx, parts: list[str]) -> None:
    state = forms.active_form(ctx)
    form = forms.FORMS.get("rollcall")
    if (state is None or form is None or len(parts) != 2 or parts[0] != str(state.id)
            or state.kind != "rollcall" or state.step != "roll"):
        ctx.reply(_("Nút này thuộc một bước đã qua hoặc biểu mẫu đã kết thúc; không có gì "
                    "thay đổi."), toast=True)
        return
    if not form.authorised(ctx, state.data):
        ctx.deny("roll tap")
        return
    data = dict(state.data)
    members: list[Member] = form._members(ctx, data)  # type: ignore[attr-defined]
    key = parts[1]
    if key.startswith("p") and key[1:].isdigit() and len(key) <= 4:
        data["_page"] = int(key[1:])
        ctx.answer_press(_("Trang {p}").format(p=int(key[1:]) + 1))
    elif key.isdigit() and len(key) <= 4 and int(key) < len(members):
        m = members[int(key)]
        marks = dict(data.get("marks", {}))
        status, reason = (marks.get(str(m.id)) or [UNKNOWN, None])[:2]
        new = next_mark(status or UNKNOWN, reason)
        marks[str(m.id)] = [new, reason]  # a reason given stays for a later "vắng"
        data["marks"] = marks
        ctx.answer_press(f"{int(key) + 1}. {m.full_name}: {status_label(new)}")
    else:
        ctx.reply(_("Nút này không còn hiệu lực."), toast=True)
        return
    data.pop("_changed", None)  # the message shows the whole list again
    forms.save(ctx, state, data)
    text, kb = forms.render(ctx, form, state)
    ctx.send(state.chat_id, text, kb, platform=state.platform, edit=ctx.incoming.message_id)
