"""Routes an Incoming to the handler that owns it, after dedupe and role checks.

Deny by default: a command must declare who may use it and where; a handler then checks
the specific organisation it touches. Each update is handled in one transaction together
with its replies (written to the outbox) and its dedupe marker; a polling batch may share
one transaction (``process_batch``), all of it committed or none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import cache

from sqlalchemy import Engine
from sqlmodel import Session

from handlers.core import preload
from handlers.core.context import Ctx, find_binding
from models.base import utcnow
from models.db import insert_once
from models.dberrors import describe, is_transient
from models.form import FORMS_TOUCHED
from models.i18n import _, use_locale
from models.messages import PRESS_TAKEN, Incoming, MenuCommand
from models.outbox import ProcessedUpdate
from models.parked import ParkedUpdate
from models.settings import Settings
from models.text import parse_command

log = logging.getLogger(__name__)


class Who(Enum):
    ANYONE = "anyone"  # also unlinked users: only for /start, /help, /link
    LINKED = "linked"  # any linked, active member; the handler checks the organisation


class Where(Enum):
    PRIVATE = "private"
    GROUP = "group"
    ANY = "any"


CommandFn = Callable[[Ctx, list[str], str], None]
CallbackFn = Callable[[Ctx, list[str]], None]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    fn: CommandFn
    who: Who
    where: Where
    summary: str  # N_-marked text shown by /help
    menu: bool = True


COMMANDS: dict[str, CommandSpec] = {}
CALLBACKS: dict[str, tuple[CallbackFn, Who]] = {}
TextFn = Callable[[Ctx], bool]
TEXT_FALLBACKS: list[TextFn] = []  # tried in order for plain text outside forms
# The form engine plugs in here (it imports the router, never the other way round):
NavigationFn = Callable[[Ctx, str], bool]  # a command name the open form takes (/huy, /back)
FormTextFn = Callable[[Ctx, str], bool]  # plain text for the open form; False when none
NAVIGATION: list[NavigationFn] = []
FORM_TEXT: list[FormTextFn] = []
EVENT_HANDLERS: dict[str, Callable[[Ctx], None]] = {}


def command_menu() -> list[MenuCommand]:
    """The commands platforms offer in their menus (primary names with a summary)."""
    return [MenuCommand(spec.name, spec.summary, spec.where in (Where.PRIVATE, Where.ANY),
                        spec.where in (Where.GROUP, Where.ANY))
            for spec in COMMANDS.values() if spec.menu and spec.summary]


def command(
    *names: str, who: Who, where: Where, summary: str = "", menu: bool = True
) -> Callable[[CommandFn], CommandFn]:
    def deco(fn: CommandFn) -> CommandFn:
        for i, n in enumerate(names):
            if n in COMMANDS:
                raise RuntimeError(f"command /{n} registered twice")
            COMMANDS[n] = CommandSpec(n, fn, who, where, summary, menu and i == 0)
        return fn

    return deco


def callback(prefix: str, *, who: Who) -> Callable[[CallbackFn], CallbackFn]:
    def deco(fn: CallbackFn) -> CallbackFn:
        CALLBACKS[prefix] = (fn, who)
        return fn

    return deco


def on_event(name: str) -> Callable[[Callable[[Ctx], None]], Callable[[Ctx], None]]:
    def deco(fn: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
        EVENT_HANDLERS[name] = fn
        return fn

    return deco


def navigation(fn: NavigationFn) -> NavigationFn:
    NAVIGATION.append(fn)
    return fn


def form_text(fn: FormTextFn) -> FormTextFn:
    FORM_TEXT.append(fn)
    return fn


def text_fallback(fn: TextFn) -> TextFn:
    TEXT_FALLBACKS.append(fn)
    return fn


@cache
def _mark_stmt(dialect: str):  # type: ignore[no-untyped-def]
    """Built once per dialect; the update's identity comes as bind parameters."""
    table = ProcessedUpdate.__table__  # type: ignore[attr-defined]
    return insert_once(table, ["platform", "update_id"], table.c.update_id, dialect)


@cache
def _mark_many_stmt(dialect: str):  # type: ignore[no-untyped-def]
    """The dedupe insert for several updates; their rows are given with ``.values``."""
    table = ProcessedUpdate.__table__  # type: ignore[attr-defined]
    return insert_once(table, ["platform", "update_id"], table.c.platform,
                       dialect).returning(table.c.update_id)


def _mark_processed(session: Session, inc: Incoming) -> bool:
    """Insert the dedupe row; False when this update was handled before."""
    res = session.connection().execute(_mark_stmt(session.get_bind().dialect.name),
                                       {"platform": inc.platform, "update_id": inc.update_id,
                                        "handled_at": utcnow()})
    return res.first() is not None


def _mark_all(session: Session, incs: Sequence[Incoming]) -> list[bool]:
    """The dedupe rows of a whole batch in one statement (one round trip instead of one
    per update: PostgreSQL's work per update is mostly per statement); for each update,
    False when it was handled before, or is a repeat of an earlier one of this batch.
    The rows go in sorted by key, so two batches with keys in common take their locks in
    the same order and one waits for the other instead of deadlocking."""
    now = utcnow()
    keys = sorted({(inc.platform, inc.update_id) for inc in incs})
    stmt = _mark_many_stmt(session.get_bind().dialect.name).values(
        [{"platform": p, "update_id": u, "handled_at": now} for p, u in keys])
    fresh = {(p, u) for p, u in session.connection().execute(stmt)}
    first = []
    for inc in incs:
        key = (inc.platform, inc.update_id)
        first.append(key in fresh)
        fresh.discard(key)  # a second delivery within the batch is a duplicate
    return first


class Router:
    """Each update is one transaction. ``process`` makes one attempt and raises; the
    caller (``bot.intake`` for the adapters, ``handle`` for the console and tests) decides
    from ``models.dberrors.is_transient`` whether to wait for the database or, after
    ``max_attempts`` failures of the update's own making, to ``park`` it."""

    max_attempts = 3

    def __init__(
        self, engine: Engine, settings: Settings, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock

    def process(self, inc: Incoming) -> bool:
        """One attempt in one transaction; False for a duplicate. Raises on any error."""
        return self.process_batch([inc])[0]

    def process_batch(self, incs: Sequence[Incoming]) -> list[bool]:
        """One attempt at several updates, in order, in one transaction (a polling batch:
        one commit and one trip to a worker thread instead of one each, which were about a
        quarter of an update's cost). Each update starts from an empty session, as in a
        transaction of its own, and sees what the earlier ones wrote. Raises on any
        error and then commits nothing: the caller handles them one by one."""
        with Session(self.engine) as session:
            done, taken = [], []
            fresh = _mark_all(session, incs) if len(incs) > 1 else None
            for i, inc in enumerate(incs):
                inc.extra.pop(PRESS_TAKEN, None)  # from an earlier attempt that failed
                if i:
                    session.flush()
                    session.expunge_all()  # a Core write of the one before left no stale row
                    session.info.pop(FORMS_TOUCHED, None)
                done.append(self._one(session, inc, taken,
                                      None if fresh is None else fresh[i]))
            session.commit()
            for inc in taken:
                inc.extra[PRESS_TAKEN] = True
            return done

    def _one(self, session: Session, inc: Incoming, taken: list[Incoming],
             fresh: bool | None = None) -> bool:
        """Handle ``inc`` in ``session``; ``fresh`` says whether its dedupe row was
        inserted for the batch already (None: insert it now)."""
        if not (_mark_processed(session, inc) if fresh is None else fresh):
            log.info("duplicate update %s:%s ignored", inc.platform, inc.update_id)
            return False
        ctx = self._context(session, inc)
        # Vietnamese (the deployment's locale) until the member chooses with /lang: the app's
        # language is not a choice, and reminders (sent without an update) could not follow it.
        locale = (ctx.actor.member.locale if ctx.actor.member else None) or self.settings.locale
        with use_locale(locale):
            self._dispatch(ctx)
        if inc.callback_data is not None and not ctx.refused:
            taken.append(inc)
        return True

    def handle(self, inc: Incoming) -> bool:
        """Handle one update now, retrying an update that fails for its own reason and
        parking it after ``max_attempts``; a transient database error is raised."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self.process(inc)
            except Exception as exc:
                if is_transient(exc):
                    raise
                if attempt == self.max_attempts:
                    self.park(inc, exc, attempt)
                    return True
                log.warning("update %s:%s failed (attempt %d): %s", inc.platform,
                            inc.update_id, attempt, describe(exc))
        return True  # not reached: the last attempt returns or parks

    def park(self, inc: Incoming, exc: BaseException, attempts: int) -> None:
        """Record the update as handled, keep it in ``parked_update`` and say sorry once,
        so a poison update cannot loop. Raises on a database error (the caller retries)."""
        log.error("update %s:%s parked after %d attempts", inc.platform, inc.update_id,
                  attempts, exc_info=exc)
        with Session(self.engine) as session:
            if not _mark_processed(session, inc):
                return
            session.add(ParkedUpdate(
                platform=inc.platform, update_id=inc.update_id, chat_id=inc.chat.id,
                sender_id=inc.sender.id, text=(inc.text or inc.callback_data or "")[:4096],
                error=f"{type(exc).__name__}: {exc}"[:1000], attempts=attempts,
                parked_at=utcnow()))
            ctx = self._context(session, inc)
            with use_locale(self.settings.locale):
                ctx.reply(_("Xin lỗi, bot gặp sự cố khi xử lý tin nhắn của đồng chí. "
                            "Đồng chí vui lòng thử lại sau ít phút."))
            session.commit()

    def _context(self, session: Session, inc: Incoming) -> Ctx:
        actor, form = preload.load(session, inc)
        ident = actor.identity
        if ident and inc.chat.kind == "private" and (
                ident.private_chat_id != inc.chat.id or ident.blocked_at is not None):
            if ident.blocked_at is not None:  # they unblocked the bot (/start)
                log.info("%s:%s writes again: no longer unreachable", inc.platform,
                         inc.sender.id)
            ident.private_chat_id, ident.blocked_at = inc.chat.id, None
            session.add(ident)
        binding = find_binding(session, inc.platform, inc.chat.id, self.clock()) \
            if inc.chat.kind == "group" else None
        ctx = Ctx(session=session, incoming=inc, settings=self.settings, clock=self.clock,
                  actor=actor, binding=binding)
        if form is not preload.NOT_LOADED:
            ctx.preloaded_form, ctx.form_preloaded = form, True
        return ctx

    def _dispatch(self, ctx: Ctx) -> None:
        inc = ctx.incoming
        if inc.event != "message" or inc.callback_data is not None:
            ctx.form_preloaded = False  # only the text path uses it
        if inc.event in EVENT_HANDLERS:
            EVENT_HANDLERS[inc.event](ctx)
            return
        if inc.event == "unsupported":
            ctx.reply(_("Xin lỗi, bot chưa đọc được loại tin nhắn này. "
                        "Đồng chí vui lòng gửi bằng chữ."))
            return
        if inc.callback_data is not None:
            dispatch_callback(ctx, inc.callback_data)
            ctx.answer_press()  # every press is answered exactly once (a no-op if it was)
            return
        text = (inc.text or "").strip()
        if not text and inc.chat.kind != "private":
            return  # an empty group message is nobody's business
        if inc.extra.get("file_too_big"):
            ctx.reply(_("Tệp “{name}” quá lớn: bot nhận tệp tối đa {mb} MB. Đồng chí gửi đường "
                        "link tài liệu thay cho tệp.").format(name=inc.extra.get("file_name"),
                                                             mb=inc.extra["file_too_big"]))
            return
        parsed = parse_command(text)
        if parsed is not None:
            name, args, rest = parsed
            if any(nav(ctx, name) for nav in NAVIGATION):
                return
            self._command(ctx, name, args, rest)
            return
        if any(fn(ctx, text) for fn in FORM_TEXT):
            return
        if inc.attachment is not None and ctx.actor.linked:
            ctx.reply(_("Bot nhận tệp tài liệu khi đồng chí nhập chương trình sinh hoạt "
                        "(/chuongtrinh), ở bước nhập nội dung."))
            return
        for fallback in TEXT_FALLBACKS:
            if fallback(ctx):
                return
        # In a group a text nobody asked for is members talking: ignored quietly, even
        # when it answers the bot (issue 23); a private chat gets the way to /help.
        if inc.chat.kind == "private":
            if not ctx.actor.linked:
                _explain_unlinked(ctx)
            else:
                ctx.reply(_("Đồng chí gõ /help để xem các lệnh có thể dùng."))

    def _command(self, ctx: Ctx, name: str, args: list[str], rest: str) -> None:
        spec = COMMANDS.get(name)
        chat_kind = ctx.incoming.chat.kind
        if spec is None:
            if chat_kind == "private" or ctx.incoming.mentions_bot:
                ctx.reply(_("Không có lệnh /{name}. Đồng chí gõ /help để xem các lệnh.")
                          .format(name=name))
            return
        if spec.who is Who.LINKED and not ctx.actor.linked:
            _explain_unlinked(ctx)
            return
        if spec.where is Where.PRIVATE and chat_kind != "private":
            ctx.reply(_("Lệnh /{name} chỉ dùng trong tin nhắn riêng với bot.").format(name=name))
            return
        if spec.where is Where.GROUP and chat_kind != "group":
            ctx.reply(_("Lệnh /{name} chỉ dùng trong nhóm của chi bộ.").format(name=name))
            return
        spec.fn(ctx, args, rest)

def dispatch_callback(ctx: Ctx, data: str) -> None:
    """Run the handler a button's data names; unknown or forged data changes nothing."""
    prefix, _sep, rest = data.partition(":")
    entry = CALLBACKS.get(prefix)
    if entry is None or len(data) > 64:
        log.warning("unknown callback %r from %s:%s", data[:80], ctx.platform,
                    ctx.incoming.sender.id)
        ctx.refuse(_("Nút này không còn hiệu lực."))
        return
    fn, who = entry
    if who is Who.LINKED and not ctx.actor.linked:
        ctx.refused = True
        _explain_unlinked(ctx)
        return
    fn(ctx, rest.split(":") if rest else [])



def _explain_unlinked(ctx: Ctx) -> None:
    ctx.reply(_("Tài khoản của đồng chí chưa được liên kết với hồ sơ đảng viên nào. "
                "Đồng chí vui lòng xin mã liên kết từ đồng chí Bí thư chi bộ, rồi gửi "
                "/start MÃ trong tin nhắn riêng với bot."))
