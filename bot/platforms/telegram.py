"""Telegram adapter on python-telegram-bot v22. No ``telegram.*`` object leaves it (this
module and its ``telegram_*`` siblings: updates, HTTP, errors).

Updates come by long polling or webhook. The polling loop is our own (on the
Application's Bot): the offset moves past an update only after the core has committed it,
so a crash or a database outage never loses what a member sent (PTB's Updater confirms
updates before its handlers run). The webhook answers 200 only after the commit, so
Telegram retries otherwise. Dedupe on update_id makes redelivery harmless.

Sending limits are the outbox's job (DESIGN.md); errors are mapped to neutral outcomes in
``telegram_errors`` (shapes and sources there) for the outbox and bot/delivery.py. Button
answers go out at once (the outbox skips the pacer for them); a 409 on getUpdates (another
process uses the token) is retried with backoff and explained loudly.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder

from bot.platforms import webhook
from bot.platforms.download import download_bounded
from bot.platforms.telegram_errors import conflict_advice, send_error
from bot.platforms.telegram_http import AiohttpRequest, call
from bot.platforms.telegram_markup import markup as ptb_markup
from bot.platforms.telegram_markup import markup_json
from bot.platforms.telegram_updates import MAX_DOWNLOAD, PLATFORM, to_incoming
from models.messages import (
    KEEP_KEYBOARD,
    PRESS_TAKEN,
    Attachment,
    Capabilities,
    Incoming,
    MenuCommand,
    Outgoing,
    PlatformGone,
    SentRef,
    Stopped,
    sleep_or_stop,
    split_text,
    unless_stopped,
    utf16_len,
)
from models.settings import TelegramSettings

log = logging.getLogger(__name__)

MAX_TEXT = 4096
CAPTION = 1024
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member", "chat_join_request"]
NOOP = "noop"  # data of the "✓ choice" button the bot leaves after a press
HandleFn = Callable[[Incoming], Awaitable[bool]]  # stored and handled, or raises
HandleManyFn = Callable[[Sequence[Incoming]], Awaitable[list[bool]]]  # all of them, or raises
# Updates of one getUpdates answer handled in one transaction: enough to share the commit
# and the thread trip, few enough that the first one's reply is not held back long.
BATCH = 20


class TelegramAdapter:
    platform = PLATFORM

    def __init__(self, settings: TelegramSettings, handle: HandleFn, *,
                 capabilities: Capabilities | None = None, poll_timeout: int = 25,
                 read_timeout: float = 20, menu: Sequence[MenuCommand] = (),
                 handle_many: HandleManyFn | None = None) -> None:
        self.settings = settings
        self.menu = tuple(menu)
        self.handle = handle
        self.handle_many = handle_many
        self._batcher = webhook.Batcher(self._process_arrived)  # updates by webhook
        self.poll_timeout = poll_timeout
        self.capabilities = capabilities or Capabilities(
            buttons=True, max_text=MAX_TEXT, edit=True, global_per_second=28.5,
            group_per_minute=19, private_per_second=1,  # 95% of Telegram's limits
            # Bots FAQ, "My bot is hitting limits": "In a single chat, avoid sending more
            # than one message per second. We may allow short bursts that go over this
            # limit" (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this)
            private_burst=3)
        self.application: Application = (  # type: ignore[type-arg]
            ApplicationBuilder().token(settings.token).base_url(settings.base_url)
            .base_file_url(settings.file_url).updater(None)
            .request(AiohttpRequest(read_timeout=read_timeout))
            .get_updates_request(AiohttpRequest(pool_size=1, read_timeout=poll_timeout + 10))
            .build())
        self.bot: Bot = self.application.bot
        self.username = settings.bot_username
        self.bot_id = 0
        self.handled = 0  # updates committed by the core (tests and metrics)
        self.last_update_id = 0
        self.conflicts = 0  # getUpdates answered 409: another process uses this token
        self._runner: web.AppRunner | None = None

    # -- lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        """Check the token, learn our name, register the command menus."""
        await self.application.initialize()
        me = await self.bot.get_me()
        self.username = me.username or self.username
        self.bot_id = me.id
        await self.set_commands()
        if self.settings.mode == "webhook":
            await self._start_webhook()
        else:
            await self.bot.delete_webhook(drop_pending_updates=False)
        log.info("telegram: @%s ready (%s)", self.username, self.settings.mode)

    async def run(self, stop: asyncio.Event) -> None:  # type: ignore[override]
        if self.settings.mode == "webhook":
            await stop.wait()
        else:
            await self.poll(stop)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self.application.shutdown()

    async def set_commands(self) -> None:
        """The default menus, in Vietnamese for every app language (Vietnamese is the
        default until a member chooses /lang en; their own menu then comes per chat, as an
        ``Outgoing.menu``). Menus per app language set by earlier versions are removed:
        Telegram would prefer them to the default."""
        def menu(private: bool) -> list[BotCommand]:
            return [BotCommand(c.name, c.summary[:256]) for c in self.menu
                    if (c.private if private else c.group)]

        scopes = [(BotCommandScopeAllPrivateChats(), True),
                  (BotCommandScopeAllGroupChats(), False),
                  (BotCommandScopeAllChatAdministrators(), False)]
        for scope, private in scopes:
            await self.bot.set_my_commands(menu(private), scope=scope)
            for lang in ("vi", "en"):
                await self.bot.delete_my_commands(scope=scope, language_code=lang)

    # -- receiving ----------------------------------------------------------------------
    async def poll(self, stop: asyncio.Event) -> None:
        offset: int | None = None
        delay = 1.0
        while not stop.is_set():
            try:
                # cancelled at once on stop: what it would have brought is not confirmed
                # (the offset stays), so Telegram delivers it again to the next start
                updates = await unless_stopped(stop, self.bot.get_updates(
                    offset=offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES))
            except Stopped:
                return
            except InvalidToken as exc:
                raise PlatformGone(
                    f"telegram: the bot token was refused ({exc}: revoked or changed in "
                    f"@BotFather?), so Telegram is no longer served; set the new token and "
                    f"restart") from None
            except Conflict as exc:
                self._conflict(exc, delay)
                await sleep_or_stop(stop, delay)
                delay = min(delay * 2, 60)
                continue
            except (TimedOut, NetworkError, RetryAfter, TelegramError) as exc:
                # Never let polling die quietly while the process lives on.
                log.warning("telegram: getUpdates failed (%s); retry in %.0fs", exc, delay)
                await sleep_or_stop(stop, delay)
                delay = min(delay * 2, 60)
                continue
            if self.conflicts:
                log.warning("telegram: getUpdates works again after %d conflicts",
                            self.conflicts)
                self.conflicts = 0
            delay = 1.0
            for i in range(0, len(updates), BATCH):
                chunk = updates[i:i + BATCH]
                try:
                    await self.process_many(chunk)
                except Exception:
                    # Not committed: keep the offset so Telegram sends it again.
                    log.exception("telegram: updates %s-%s not handled; will retry",
                                  chunk[0].update_id, chunk[-1].update_id)
                    await sleep_or_stop(stop, 5)
                    break
                offset = chunk[-1].update_id + 1

    def _conflict(self, exc: Conflict, delay: float) -> None:
        """409 on getUpdates: say loudly what it means; polling goes on with backoff."""
        self.conflicts += 1
        why = conflict_advice(exc)
        log.error("telegram: getUpdates answered 409 %r (%d in a row): %s. Retrying in "
                  "%.0fs.", str(exc), self.conflicts, why, delay)

    async def process(self, update: Update) -> None:
        await self.process_many([update])

    async def _process_arrived(self, updates: Sequence[Update]) -> None:
        """Webhook updates that arrived together, ordered by chat (each chat's own order
        kept): batches in several processes then lock each person's rows in the same
        order, instead of deadlocking over two people who wrote to both at once."""
        await self.process_many(sorted(
            updates, key=lambda u: u.effective_chat.id if u.effective_chat else 0))

    async def process_many(self, updates: Sequence[Update]) -> None:
        """Hand the updates to the core, in order: a polling batch in one call when the
        core takes batches (one transaction), else one by one. Raises when they were not
        all committed, so the offset stays and Telegram delivers them again."""
        todo: list[tuple[Update, Incoming]] = []
        for update in updates:
            cq = update.callback_query
            if cq is not None and cq.data == NOOP:  # the bot's own "✓": inert
                await self._answer_quietly(cq.id)
                continue
            inc = self.to_incoming(update)
            if inc is None:
                continue
            if inc.extra.get("file_id"):
                # What came before is committed first: a download that fails holds back
                # only this update and the later ones, and one transaction carries one
                # file (up to 20 MB) at most.
                await self._hand_over(todo)
                todo = []
                inc = await self._download(inc)
            todo.append((update, inc))
        await self._hand_over(todo)
        self.handled += len(updates)
        self.last_update_id = max(self.last_update_id, *(u.update_id for u in updates))

    async def _hand_over(self, todo: list[tuple[Update, Incoming]]) -> None:
        if self.handle_many is not None and len(todo) > 1:
            await self.handle_many([inc for _u, inc in todo])
        else:
            for _u, inc in todo:
                await self.handle(inc)
        for update, inc in todo:
            if update.callback_query is not None and inc.extra.get(PRESS_TAKEN):
                await self._show_choice(update)

    def to_incoming(self, update: Update) -> Incoming | None:
        """Map an Update to the neutral Incoming; None for what the bot ignores."""
        return to_incoming(update, self.bot_id, self.username)

    async def _download(self, inc: Incoming) -> Incoming:
        """Fetch the file before the core sees the update. A failure raises, so the
        update is not acknowledged and Telegram delivers it again."""
        file = await self.bot.get_file(inc.extra["file_id"])
        data = await download_bounded(str(file.file_path), MAX_DOWNLOAD)
        if data is None:  # the size claims were false: refuse it like a declared big file
            log.warning("telegram: file %r is larger than claimed; refused",
                        inc.extra["file_name"])
            return replace(inc, extra={**inc.extra, "file_id": None,
                                       "file_too_big": MAX_DOWNLOAD // (1024 * 1024)})
        return replace(inc, attachment=Attachment(inc.extra["file_name"], data, "document"))

    async def _show_choice(self, update: Update) -> None:
        """In a private chat, replace the pressed keyboard by the choice made (cosmetic)."""
        cq = update.callback_query
        msg = cq.message if cq is not None else None
        if cq is None or not isinstance(msg, Message) or msg.chat.type != "private" \
                or cq.data == NOOP or (cq.data or "").startswith(KEEP_KEYBOARD):
            return
        label = next((b.text for row in (msg.reply_markup.inline_keyboard
                                         if msg.reply_markup else ())
                      for b in row if b.callback_data == cq.data), None)
        if label is None:
            return
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=msg.chat.id, message_id=msg.message_id,
                reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(
                    "✓ " + label, callback_data=NOOP)]]))
        except TelegramError as exc:
            log.debug("telegram: could not mark the choice: %s", exc)

    async def _start_webhook(self) -> None:
        s = self.settings
        if len(s.webhook_secret) < 16:
            raise RuntimeError("telegram.webhook_secret must have at least 16 characters")
        app = webhook.make_app()
        app.router.add_post("/telegram", self._webhook)
        self._runner = webhook.make_runner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, s.listen, s.port).start()
        await self.bot.set_webhook(url=s.webhook_url, secret_token=s.webhook_secret,
                                   allowed_updates=ALLOWED_UPDATES)

    async def _webhook(self, request: web.Request) -> web.Response:
        got = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(got.encode(), self.settings.webhook_secret.encode()):
            log.warning("telegram webhook: wrong secret from %s", request.remote)
            return web.Response(status=403)
        try:
            body = await webhook.read_json(request)
        except webhook.BadBody as exc:
            return web.Response(status=exc.status)
        try:
            if not isinstance(body, dict) or not webhook.finite_int(body.get("update_id")):
                raise ValueError("update_id is not an integer")
            update = Update.de_json(body, self.bot)
            if update is None:
                raise ValueError("empty update")
            self.to_incoming(update)  # shape check: a field of the wrong type is 400, not 500
        except Exception as exc:
            log.warning("telegram webhook: malformed body refused (%s)", type(exc).__name__)
            return web.Response(status=400)
        try:
            await self._batcher.submit(update)
        except Exception:
            log.exception("telegram webhook: update %s not handled", update.update_id)
            return web.Response(status=500)  # Telegram will deliver it again
        return web.Response(status=200)

    # -- sending ------------------------------------------------------------------------
    async def send(self, out: Outgoing) -> SentRef:
        try:
            return await self._send(out)
        except TelegramError as exc:
            raise send_error(exc, out) from exc

    async def _send(self, out: Outgoing) -> SentRef:
        if out.answer_only:
            await self.bot.answer_callback_query(out.answer_callback or "",
                                                 text=out.text[:200] or None)
            return SentRef(f"cb:{out.answer_callback}")
        chat_id = int(out.chat_id)
        if out.join is not None:
            if out.join.approve:
                await self.bot.approve_chat_join_request(chat_id, int(out.join.user_id))
            else:
                await self.bot.decline_chat_join_request(chat_id, int(out.join.user_id))
            return SentRef("join")
        if out.menu is not None:  # this person's own menu (their roles, their language)
            await self.bot.set_my_commands(
                [BotCommand(c.name, c.summary[:256]) for c in out.menu],
                scope=BotCommandScopeChat(chat_id))
            return SentRef("menu")
        if out.menu_button is not None:  # the private chat's menu button opens the Mini App
            await call(self.bot, "setChatMenuButton", {"chat_id": chat_id, "menu_button": {
                "type": "web_app", "text": out.text[:64], "web_app": {"url": out.menu_button}}})
            return SentRef("menu")
        if out.answer_callback:  # rows queued before answers went on their own
            await self._answer(out)
        if out.edit and out.attachment is None:
            edited = await self._edit(chat_id, out)
            if edited is not None:
                return edited
        if out.attachment is not None:
            # A caption Telegram would refuse (over 1,024 after parsing) follows the file
            # as a message of its own, with the buttons; never cut without a mark.
            inline = bool(out.text) and utf16_len(out.text) <= CAPTION
            markup = ptb_markup(out.buttons) if inline or not out.text else None
            att = out.attachment
            file = InputFile(io.BytesIO(att.data), filename=att.filename)
            caption = html.escape(out.text, quote=False) if inline else None
            if att.kind == "photo":
                msg = await self.bot.send_photo(chat_id, file, caption=caption,
                                                parse_mode="HTML", reply_markup=markup)
            else:
                msg = await self.bot.send_document(chat_id, file, caption=caption,
                                                   parse_mode="HTML", reply_markup=markup)
            if inline or not out.text:
                return SentRef(str(msg.message_id))
        parts = split_text(out.text, MAX_TEXT, utf16_len) if out.text.strip() else [" "]
        msg_id = ""
        for i, part in enumerate(parts):
            msg_id = await self._send_text(
                chat_id, part, markup_json(out.buttons) if i == len(parts) - 1 else None)
        return SentRef(msg_id)

    async def _send_text(self, chat_id: int, raw: str, markup: dict[str, Any] | None) -> str:
        """Send ``raw`` (escaped here: Telegram counts it after parsing, so "&" is one
        character, not five); on "message is too long" send it in two halves rather than
        lose it. Returns the last message's id."""
        try:
            sent = await call(self.bot, "sendMessage", {
                "chat_id": chat_id, "text": html.escape(raw, quote=False),
                "parse_mode": "HTML", "link_preview_options": {"is_disabled": True},
                "reply_markup": markup})
            return str(sent["message_id"])
        except BadRequest as exc:
            if "too long" not in str(exc).lower() or len(raw) < 2:
                raise
            log.warning("telegram: %d characters refused as too long; sent in two parts",
                        utf16_len(raw))
        halves = split_text(raw, max(utf16_len(raw) // 2, 1), utf16_len)
        msg_id = ""
        for i, half in enumerate(halves):
            msg_id = await self._send_text(chat_id, half,
                                           markup if i == len(halves) - 1 else None)
        return msg_id
    async def _edit(self, chat_id: int, out: Outgoing) -> SentRef | None:
        """Replace the text and keyboard of the bot's message ``out.edit``; None when it
        cannot be edited any more (deleted, too old): the caller posts it anew."""
        try:
            await call(self.bot, "editMessageText", {
                "chat_id": chat_id, "message_id": int(out.edit or 0),
                "text": html.escape((split_text(out.text, MAX_TEXT, utf16_len) or [" "])[0],
                                     quote=False), "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": True},
                "reply_markup": markup_json(out.buttons)})
        except BadRequest as exc:
            if "not modified" in str(exc).lower():  # the same text: nothing to do
                return SentRef(str(out.edit))
            log.info("telegram: message %s not edited (%s); posting it anew", out.edit, exc)
            return None
        return SentRef(str(out.edit))

    async def _answer_quietly(self, callback_id: str) -> None:
        try:
            await self.bot.answer_callback_query(callback_id)
        except TelegramError as exc:
            log.debug("telegram: callback %s not answered: %s", callback_id, exc)

    async def _answer(self, out: Outgoing) -> bool:
        try:
            await self.bot.answer_callback_query(
                out.answer_callback or "", text=out.text[:200] if out.toast else None)
            return True
        except BadRequest as exc:  # too old, or already answered: send as a message
            log.info("telegram: callback %s not answered: %s", out.answer_callback, exc)
            return False

