"""Form engine: steps with validators, persisted state, confirm, cancel, back, resume.

Not PTB's ConversationHandler: state lives in the ``formstate`` table keyed by
(platform, chat, user), so a restart resumes at the same step and several processes agree.
Nothing reaches the final tables until the confirm step's ``finish`` runs.

Choices work on every platform: a button press carries "f:<form id>:<step>:<index>"; a
typed reply may be the number of the choice or its words, diacritics ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from handlers.core.context import Ctx, column
from handlers.core.router import Who, callback, form_text, navigation
from handlers.forms.errors import Again, Invalid
from handlers.forms.lists import edit_item, items_block
from handlers.forms.steps import Choice, Data, Step
from models.form import FORMS_TOUCHED, FormState
from models.i18n import _
from models.messages import Keyboard
from models.text import fold, match_choice, match_words

log = logging.getLogger(__name__)

CONFIRM = "_confirm"
CANCEL_WORDS = {"huy", "cancel", "thoat"}
BACK_WORDS = {"quay lai", "back", "lui"}
SKIP_WORDS = {"-", "bo qua", "skip", "khong"}
HELP_WORDS = {"?", "huong dan", "hd", "xem lai", "help"}


class Form:
    kind: str = ""
    confirm: bool = True  # False: finish right after the last step

    def steps(self, ctx: Ctx, data: Data) -> list[Step]:
        raise NotImplementedError

    def authorised(self, ctx: Ctx, data: Data) -> bool:
        """Re-checked on every answer: a role lost mid-form stops the form."""
        raise NotImplementedError

    def summary(self, ctx: Ctx, data: Data) -> str:
        raise NotImplementedError

    def finish(self, ctx: Ctx, data: Data) -> None:
        raise NotImplementedError

    def store(self, ctx: Ctx, data: Data, step: Step, value: Any) -> None:
        data[step.name] = value

    def item_text(self, ctx: Ctx, data: Data, step: Step, item: Any) -> str:
        """One collected item of a repeating step, as listed back to the member."""
        if isinstance(item, dict):
            return str(item.get("title") or item.get("text") or item)
        return str(item)

    def discard(self, ctx: Ctx, data: Data) -> None:
        """The form ends unfinished (cancelled or replaced): undo what its steps stored
        ahead of the confirmation (e.g. uploaded files)."""

    def cancelled_text(self, ctx: Ctx, data: Data) -> str:
        """What /huy answers: nothing of this form was saved."""
        return _("Đã hủy. Không có thông tin nào được lưu.")


FORMS: dict[str, Form] = {}
# Asked when a form is started while another is open in the same chat; True when it took
# over (handlers.forms.resume asks whether to continue the open one or drop it).
ConflictFn = Callable[[Ctx, FormState, str, dict[str, Any]], bool]
CONFLICT: list[ConflictFn] = []


def register(form: Form) -> Form:
    FORMS[form.kind] = form
    return form


# -- state ------------------------------------------------------------------------
def _owner(ctx: Ctx) -> tuple[str, str, str]:
    inc = ctx.incoming
    return inc.platform, inc.chat.id, inc.sender.id


def active_form(ctx: Ctx) -> FormState | None:
    if ctx.form_preloaded and not ctx.session.info.get(FORMS_TOUCHED) and (
            ctx.preloaded_form is None or ctx.preloaded_form not in ctx.session.deleted):
        # Loaded with the actor, and no form was written or deleted since: every lookup
        # of the update reuses it (a plain text made two).
        return ctx.preloaded_form  # type: ignore[no-any-return]
    platform, chat_id, user_id = _owner(ctx)
    return ctx.session.exec(
        select(FormState).where(FormState.platform == platform, FormState.chat_id == chat_id,
                                FormState.user_id == user_id)).first()


def save(ctx: Ctx, state: FormState, data: Data) -> None:
    """Keep ``data`` as the form's answers, at the same step (a button that edits them)."""
    _save(ctx, state, state.step, data)


def _save(ctx: Ctx, state: FormState, step: str, data: Data) -> None:
    state.step = step
    state.data = dict(data)  # a new dict: JSON columns track assignment
    state.updated_at = ctx.now()
    ctx.session.add(state)


def _visible(ctx: Ctx, form: Form, data: Data) -> list[Step]:
    return [s for s in form.steps(ctx, data) if s.when is None or s.when(ctx, data)]


def start(ctx: Ctx, kind: str, data: Data, chat_id: str | None = None) -> None:
    """Begin form ``kind`` for the sender in this chat (or in ``chat_id``, the sender's
    private chat), replacing any unfinished one there."""
    form = FORMS[kind]
    platform, here, user_id = _owner(ctx)
    chat_id = chat_id or here
    old = ctx.session.exec(
        select(FormState).where(FormState.platform == platform, FormState.chat_id == chat_id,
                                FormState.user_id == user_id)).first()
    if old is not None:
        if any(fn(ctx, old, kind, data) for fn in CONFLICT):
            return
        ctx.send(chat_id, _("Biểu mẫu đang làm dở trước đó đã được hủy."))
        _discard(ctx, old)
        ctx.session.delete(old)
        ctx.session.flush()
    steps = _visible(ctx, form, data)
    state = FormState(platform=platform, chat_id=chat_id, user_id=user_id, kind=kind,
                      step=steps[0].name if steps else CONFIRM, data=dict(data),
                      started_at=ctx.now(), updated_at=ctx.now())
    ctx.session.add(state)
    ctx.session.flush()
    _ask(ctx, form, state)


def start_private(ctx: Ctx, kind: str, data: Data) -> bool:
    """Long forms run in the sender's private chat: from a group button, the form moves
    there. False when the member never opened a private chat with the bot (told so)."""
    if not ctx.in_group:
        start(ctx, kind, data)
        return True
    chat_id = ctx.actor.identity.private_chat_id if ctx.actor.identity else None
    if chat_id is None:
        ctx.reply(_("Đồng chí vui lòng mở tin nhắn riêng với bot (gửi /start cho bot) rồi bấm "
                    "lại; biểu mẫu dài được làm trong tin nhắn riêng."), toast=True)
        return False
    ctx.reply(_("Bot đã nhắn riêng để đồng chí tiếp tục."), toast=True)
    start(ctx, kind, data, chat_id=chat_id)
    return True


def _choices_for(ctx: Ctx, form: Form, state: FormState) -> list[Choice]:
    if state.step == CONFIRM:
        return [Choice("ok", _("✅ Xác nhận")), Choice("redo", _("✏️ Làm lại")),
                Choice("cancel", _("❌ Hủy"))]
    step = _current_step(ctx, form, state)
    return step.choices(ctx, state.data) if step and step.choices else []


def _current_step(ctx: Ctx, form: Form, state: FormState) -> Step | None:
    for s in _visible(ctx, form, state.data):
        if s.name == state.step:
            return s
    return None


def position(ctx: Ctx, form: Form, state: FormState) -> tuple[int, int]:
    """(number of the current step, number of steps); follow-up steps share the number
    of the step before them. The confirm step is (n, n)."""
    steps = _visible(ctx, form, state.data)
    main = [s for s in steps if not s.sub]
    if state.step == CONFIRM:
        return len(main), len(main)
    i = 0
    for s in steps:
        if not s.sub:
            i += 1
        if s.name == state.step:
            break
    return max(i, 1), max(len(main), 1)


def _ask(ctx: Ctx, form: Form, state: FormState, prefix: str = "") -> None:
    text, kb = render(ctx, form, state)
    ctx.send(state.chat_id, (prefix + "\n\n" if prefix else "") + text, kb,
             platform=state.platform)


def _keyboard(ctx: Ctx, form: Form, state: FormState, per_row: int) -> Keyboard:
    """The step's own keyboard where it has one (tap-to-toggle rows), else its choices."""
    step = _current_step(ctx, form, state) if state.step != CONFIRM else None
    if step is not None and step.keyboard is not None:
        kb = step.keyboard(ctx, state.data, state.id or 0)
        if kb:
            return kb
    choices = _choices_for(ctx, form, state)
    return column([(c.label, f"f:{state.id}:{state.step}:{i}") for i, c in enumerate(choices)],
                  per_row)


def render(ctx: Ctx, form: Form, state: FormState) -> tuple[str, Keyboard]:
    """The current step as it is asked: its text and its keyboard."""
    data = state.data
    if state.step == CONFIRM:
        text = form.summary(ctx, data) + "\n\n" + _("Đồng chí kiểm tra và xác nhận.")
        per_row = 3
    else:
        steps = _visible(ctx, form, data)
        names = [s.name for s in steps]
        step = steps[names.index(state.step)]
        i, n = position(ctx, form, state)
        text = f"({i}/{n}) " + step.prompt(ctx, data)
        if step.repeat and data.get(step.name):
            text += "\n" + items_block(ctx, form, step, data)
        if step.optional:
            text += "\n" + _("(Gửi dấu - để bỏ qua.)")
        per_row = step.per_row
    return text, _keyboard(ctx, form, state, per_row)


def _reask(ctx: Ctx, form: Form, state: FormState, said: str) -> None:
    """After a wrong value or a collected item: what happened and one short line, with the
    step's buttons; the step's instructions were stated once and are not repeated ("?"
    shows them again)."""
    i, n = position(ctx, form, state)
    step = _current_step(ctx, form, state)
    kb = _keyboard(ctx, form, state, step.per_row if step else 1)
    again = step.short(ctx, state.data) if step and step.short else \
        _("Đồng chí gửi lại giá trị này.")
    ctx.send(state.chat_id, f"{said}\n({i}/{n}) {again} " + _("(Gõ ? để xem lại hướng dẫn.)"),
             kb, platform=state.platform)


def _advance(ctx: Ctx, form: Form, state: FormState, data: Data) -> None:
    steps = _visible(ctx, form, data)
    names = [s.name for s in steps]
    hist = list(data.get("_hist", []))
    hist.append(state.step)
    data["_hist"] = hist
    idx = names.index(state.step) + 1 if state.step in names else len(names)
    nxt = names[idx] if idx < len(names) else CONFIRM
    _save(ctx, state, nxt, data)
    if nxt == CONFIRM and not form.confirm:
        _finish(ctx, form, state)
        return
    _ask(ctx, form, state)


def _finish(ctx: Ctx, form: Form, state: FormState) -> None:
    data = dict(state.data)
    data.pop("_hist", None)
    data.pop("_pending", None)
    ctx.session.delete(state)
    ctx.session.flush()
    form.finish(ctx, data)


def cancel(ctx: Ctx, state: FormState, say: bool = True) -> None:
    _discard(ctx, state)
    ctx.session.delete(state)
    form = FORMS.get(state.kind)
    if say:
        ctx.reply(form.cancelled_text(ctx, dict(state.data)) if form is not None else
                  _("Đã hủy. Không có thông tin nào được lưu."))


def _discard(ctx: Ctx, state: FormState) -> None:
    form = FORMS.get(state.kind)
    if form is not None:
        form.discard(ctx, dict(state.data))


def _back(ctx: Ctx, form: Form, state: FormState) -> None:
    data = dict(state.data)
    hist = list(data.get("_hist", []))
    if not hist:
        _ask(ctx, form, state, _("Đây là bước đầu tiên."))
        return
    prev = hist.pop()
    data["_hist"] = hist
    _save(ctx, state, prev, data)
    _ask(ctx, form, state)


# -- input ------------------------------------------------------------------------
def _answer(ctx: Ctx, form: Form, state: FormState, *, text: str | None = None,
            index: int | None = None) -> None:
    if not form.authorised(ctx, state.data):
        log.info("form %s of %s stopped: no longer authorised", form.kind, state.user_id)
        cancel(ctx, state, say=False)
        ctx.deny("form no longer authorised")
        return
    choices = _choices_for(ctx, form, state)
    value: Any = None
    if index is None and text is not None and choices:
        index = _match_choice(text, choices)
    if state.step == CONFIRM:
        if index is None:
            _ask(ctx, form, state, _("Đồng chí vui lòng chọn một trong các phương án dưới đây."))
            return
        action = choices[index].value
        if action == "ok":
            _finish(ctx, form, state)
        elif action == "cancel":
            cancel(ctx, state)
        else:
            first = _visible(ctx, form, state.data)
            _save(ctx, state, first[0].name if first else CONFIRM, {
                k: v for k, v in state.data.items() if k != "_hist"})
            _ask(ctx, form, state)
        return
    step = _current_step(ctx, form, state)
    if step is None:  # the form changed under a saved state: start the step list again
        log.warning("form %s: step %s vanished; restarting", form.kind, state.step)
        cancel(ctx, state, say=False)
        ctx.reply(_("Biểu mẫu đã thay đổi. Đồng chí vui lòng bắt đầu lại."))
        return
    data = dict(state.data)
    try:
        if index is not None:
            if not 0 <= index < len(choices):
                raise Invalid(_("Lựa chọn không hợp lệ."))
            value = choices[index].value
        elif text is not None and step.repeat and (
                done := edit_item(ctx, form, step, data, text)) is not None:
            _save(ctx, state, step.name, data)
            _ask(ctx, form, state, done)
            return
        elif text is not None and step.optional and fold(text) in SKIP_WORDS:
            value = None
        elif text is not None and step.parse is not None:
            value = step.parse(ctx, data, text)
        elif text is not None and choices and (
                word := match_words(text, [c.label for c in choices])) is not None:
            value = choices[word].value  # "Phương": the one member of the list so named
        elif choices:
            raise Invalid(_("Đồng chí vui lòng chọn một trong các phương án (gửi số thứ tự)."))
        else:
            raise Invalid(_("Câu trả lời không hợp lệ."))
        if step.repeat and value is not None:
            data[step.name] = [*data.get(step.name, []), value]
            _save(ctx, state, step.name, data)
            n = len(data[step.name])
            _reask(ctx, form, state, _("Đã ghi mục {n}: {item}").format(
                n=n, item=form.item_text(ctx, data, step, value)))
            return
        if not step.repeat:
            form.store(ctx, data, step, value)
    except Again as again:
        _save(ctx, state, step.name, data)
        if again.short:
            _reask(ctx, form, state, str(again))
        else:
            _ask(ctx, form, state, str(again))
        return
    except Invalid as exc:
        log.info("form %s step %s: refused %r: %s", form.kind, step.name, text, exc)
        _reask(ctx, form, state, "⚠️ " + str(exc))
        return
    _advance(ctx, form, state, data)


def _match_choice(text: str, choices: list[Choice]) -> int | None:
    return match_choice(text, [c.label for c in choices])


@form_text
def handle_text(ctx: Ctx, text: str) -> bool:
    """Feed plain text to the sender's active form in this chat; False when none."""
    state = active_form(ctx)
    if state is None:
        return False
    form = FORMS.get(state.kind)
    if form is None:
        cancel(ctx, state, say=False)
        return False
    folded = fold(text)
    if ctx.incoming.attachment is not None:
        step = _current_step(ctx, form, state) if state.step != CONFIRM else None
        if step is None or not step.files:
            _ask(ctx, form, state, "⚠️ " + _("Ở bước này bot không nhận tệp."))
            return True
    if folded in HELP_WORDS:
        _ask(ctx, form, state)
    elif folded in CANCEL_WORDS:
        cancel(ctx, state)
    elif folded in BACK_WORDS:
        _back(ctx, form, state)
    else:
        _answer(ctx, form, state, text=text)
    return True


@navigation
def handle_navigation(ctx: Ctx, name: str) -> bool:
    """/huy and /back act on the active form, if any."""
    if name not in ("huy", "cancel", "back", "quaylai"):
        return False
    state = active_form(ctx)
    if state is None:
        if name in ("huy", "cancel"):
            ctx.reply(_("Không có việc nào đang làm dở để hủy."))
        else:  # not "Không có lệnh /back": the command exists, there is no form to go back in
            ctx.reply(_("Không có biểu mẫu nào đang mở để quay lại bước trước."))
        return True
    form = FORMS.get(state.kind)
    if name in ("huy", "cancel") or form is None:
        cancel(ctx, state)
    else:
        _back(ctx, form, state)
    return True


@callback("f", who=Who.LINKED)
def _on_button(ctx: Ctx, parts: list[str]) -> None:
    """A button of a form step. Old buttons (other form, other step) are refused."""
    state = active_form(ctx)
    stale = _("Nút này thuộc một bước đã qua hoặc biểu mẫu đã kết thúc; không có gì thay đổi.")
    if (state is None or len(parts) != 3 or parts[0] != str(state.id)
            or parts[1] != state.step or _choice_index(parts[2]) is None):
        log.info("stale/forged form button %s from %s", parts, ctx.incoming.sender.id)
        ctx.refuse(stale)
        return
    form = FORMS.get(state.kind)
    if form is None:
        cancel(ctx, state, say=False)
        ctx.reply(stale)
        return
    _answer(ctx, form, state, index=_choice_index(parts[2]))


def _choice_index(text: str) -> int | None:
    """A choice index from button data: a short run of ASCII digits."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else None
