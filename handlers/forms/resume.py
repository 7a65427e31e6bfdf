"""Forms that forgive interruptions.

- Starting a form while another is open in the same chat no longer drops the open one:
  the member is asked whether to continue it or drop it for the new one.
- A form taken up again (after that question, or after an hour without an answer) says
  where it stands and repeats the step, instead of reading an old answer into it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.core.context import Ctx, column
from handlers.core.router import FORM_TEXT, Who, callback
from handlers.forms import engine as forms
from models.form import FormState
from models.i18n import N_, _
from models.text import fold, match_choice

log = logging.getLogger(__name__)

RESUME_AFTER = timedelta(hours=1)
TITLES = {
    "scoring": N_("chấm điểm buổi sinh hoạt"),
    "adjust_score": N_("điều chỉnh điểm"),
    "agenda": N_("nhập chương trình sinh hoạt"),
    "rollcall": N_("điểm danh"),
    "reschedule": N_("đổi lịch sinh hoạt"),
    "cancel_meeting": N_("hủy buổi sinh hoạt"),
    "add_meeting": N_("thêm buổi sinh hoạt"),
    "meeting_rule": N_("đặt lịch sinh hoạt thường kỳ"),
    "absence": N_("báo vắng"),
    "exempt": N_("miễn sinh hoạt"),
    "minutes": N_("ghi biên bản"),
    "committee": N_("ghi kết quả họp chi ủy"),
    "fees": N_("ghi đảng phí"),
}


def title(kind: str) -> str:
    """What the member was doing, in words (never the form's code name)."""
    return _(TITLES.get(kind, N_("nhập liệu")))


def where_it_stands(ctx: Ctx, state: FormState) -> str:
    form = forms.FORMS[state.kind]
    if state.step == forms.CONFIRM:
        return _("Đồng chí đang {what} dở, ở bước kiểm tra và xác nhận.").format(
            what=title(state.kind))
    i, n = forms.position(ctx, form, state)
    return _("Đồng chí đang {what} dở, ở bước {i}/{n}.").format(
        what=title(state.kind), i=i, n=n)


def _choices(state: FormState) -> list[tuple[str, str]]:
    new = state.data["_pending"]["kind"]
    return [(_("▶️ Tiếp tục {what}").format(what=title(state.kind)), f"fx:{state.id}:c"),
            (_("🗑 Bỏ, chuyển sang {what}").format(what=title(new)), f"fx:{state.id}:d")]


def _ask_pending(ctx: Ctx, state: FormState, prefix: str = "") -> None:
    new = state.data["_pending"]["kind"]
    text = where_it_stands(ctx, state) + " " + _(
        "Đồng chí muốn tiếp tục việc đó hay bỏ để {what}?").format(what=title(new))
    ctx.send(state.chat_id, (prefix + "\n" if prefix else "") + text,
             column(_choices(state), 1), platform=state.platform)


def on_conflict(ctx: Ctx, old: FormState, kind: str, data: dict[str, Any]) -> bool:
    """Keep the open form and ask; the new form waits in ``_pending``."""
    if old.kind not in forms.FORMS:
        return False
    keep = dict(old.data)
    keep["_pending"] = {"kind": kind, "data": data}
    forms._save(ctx, old, old.step, keep)
    _ask_pending(ctx, old)
    return True


def _resume(ctx: Ctx, state: FormState, prefix: str = "") -> None:
    data = {k: v for k, v in state.data.items() if k != "_pending"}
    forms._save(ctx, state, state.step, data)
    head = where_it_stands(ctx, state)
    forms._ask(ctx, forms.FORMS[state.kind], state, f"{prefix}\n{head}" if prefix else head)


def _drop_and_start(ctx: Ctx, state: FormState) -> None:
    pending = state.data["_pending"]
    chat_id = state.chat_id
    forms._discard(ctx, state)
    ctx.session.delete(state)
    ctx.session.flush()
    ctx.send(chat_id, _("Đã bỏ việc {what} đang làm dở.").format(what=title(state.kind)),
             platform=state.platform)
    forms.start(ctx, pending["kind"], pending["data"], chat_id=chat_id)


def _decide(ctx: Ctx, state: FormState, action: str) -> None:
    if action == "c":
        _resume(ctx, state)
    else:
        _drop_and_start(ctx, state)


@callback("fx", who=Who.LINKED)
def pending_button(ctx: Ctx, parts: list[str]) -> None:
    state = forms.active_form(ctx)
    if (state is None or "_pending" not in state.data or len(parts) != 2
            or parts[0] != str(state.id) or parts[1] not in ("c", "d")):
        ctx.refuse(_("Nút này thuộc một bước đã qua hoặc biểu mẫu đã kết thúc; không có gì "
                     "thay đổi."))
        return
    _decide(ctx, state, parts[1])


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _several_steps(ctx: Ctx, state: FormState) -> bool:
    """A one-question form (the reason for an absence) just takes the late answer."""
    return forms.position(ctx, forms.FORMS[state.kind], state)[1] > 1


def pending_or_idle_text(ctx: Ctx, text: str) -> bool:
    """Before the form engine reads an answer: settle a pending question, or take up an
    idle form by saying where it stands. False: the engine reads the text as usual."""
    state = forms.active_form(ctx)
    if state is None or state.kind not in forms.FORMS:
        return False
    if fold(text) in forms.CANCEL_WORDS:
        return False
    if "_pending" in state.data:
        index = match_choice(text, [label for label, _d in _choices(state)])
        if index is None:
            _ask_pending(ctx, state, _("Đồng chí vui lòng chọn một trong hai phương án."))
        else:
            _decide(ctx, state, "cd"[index])
        return True
    if ctx.now() - _aware(state.updated_at) > RESUME_AFTER and _several_steps(ctx, state):
        log.info("form %s of %s taken up again after a pause", state.kind, state.user_id)
        _resume(ctx, state, _("Câu trả lời vừa gửi chưa được ghi, vì biểu mẫu đã để một lúc; "
                              "đồng chí kiểm tra bước dưới đây rồi trả lời lại."))
        return True
    return False


forms.CONFLICT.append(on_conflict)
FORM_TEXT.insert(0, pending_or_idle_text)  # before the engine's own reading
