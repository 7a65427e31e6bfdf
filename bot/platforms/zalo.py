"""Zalo Bot Platform adapter over aiohttp (ZALO.md). No Zalo JSON leaves this module.

Nine endpoints, one envelope ({"ok", "result"} / {"ok": false, "error_code",
"description"}), called with one shared ClientSession. Updates come by long polling
(``getUpdates`` returns ONE update, or HTTP 408 when idle; there is no offset, and
consumed updates were seen replayed, so we dedupe on message_id and keep at least a second
between polls) or by webhook (secret header compared in constant time; the body may come
wrapped in {"ok", "result"} or not). Zalo has no buttons: choices go out as numbered
lists and the core maps "1" or the choice's words back. Texts are split at 2,000
characters; photos go by URL only (our own expiring link under ``public_base_url``).
The token sits in every URL: URLs are never logged.

Webhook is the default mode: the getUpdates page of the Zalo Bot docs
(bot.zapps.me/docs/apis/getUpdates/) reserves long polling for local development and
testing and asks for a webhook in production. Errors are mapped as the docs' error-code
page lists them (bot.zapps.me/docs/error-code/): 400 Bad request, 401 Unauthorized (token
invalid or expired), 403 "Internal server error" (sic: retried), 404 Not found, 408
Request timeout, 429 "Quota exceeded" (no retry hint: exponential backoff, bot/delivery.py).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.platforms import webhook
from bot.platforms.served_files import ServedFiles
from models.i18n import _
from models.messages import (
    Capabilities,
    Chat,
    Failure,
    Incoming,
    Outgoing,
    Sender,
    SendError,
    SentRef,
    Stopped,
    numbered,
    sleep_or_stop,
    split_text,
    unless_stopped,
)
from models.settings import ZaloSettings

log = logging.getLogger(__name__)

PLATFORM = "zalo"
MAX_TEXT = 2000
DOC_LINK_TTL = 7 * 24 * 3600.0  # a document link lives a week (on disk under chibot run)
DOC_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf", "png": "image/png", "csv": "text/csv"}
HandleFn = Callable[[Incoming], Awaitable[bool]]  # stored and handled, or raises
# The events the Zalo Bot docs list for webhook and getUpdates (bot.zapps.me/docs, "Webhook";
# found through the search tool as restated in the "Zalo Bot REST API" reference of
# 2026-10-02: text, image, sticker, voice (with ``voice_url``, .aac) and unsupported).
# Any other event name, such as ``bot.added.to.group`` seen in the field but not
# documented, is answered 200 and ignored: Zalo retries a non-2xx answer, so a 400 for an
# event we merely do not use came back again and again.
EVENTS = {"message.text.received", "message.image.received", "message.sticker.received",
          "message.voice.received", "message.unsupported.received"}
ID_MAX = 64  # the dedupe key's column (models.outbox.ProcessedUpdate.update_id)


class Malformed(ValueError):
    """An update whose shape is wrong (missing fields, wrong types, impossible date)."""


def _usable_id(value: str) -> bool:
    """An id we can store and compare: printable (no NUL: PostgreSQL refuses it) and short."""
    return 0 < len(value) <= ID_MAX and value.isprintable()


# error_code -> what it means for the outbox, as bot.zapps.me/docs/error-code/ lists them.
ERRORS: dict[int, Failure] = {
    400: Failure.PERMANENT,  # Bad request: the call itself is wrong
    401: Failure.TRANSIENT,  # Unauthorized: token invalid/expired; retried slowly (below)
    403: Failure.TRANSIENT,  # listed by the docs as "Internal server error"
    404: Failure.PERMANENT,  # Not found
    408: Failure.TRANSIENT,  # Request timeout
    429: Failure.QUOTA,  # Quota exceeded: no retry hint, exponential backoff to a ceiling
}


class ZaloApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description


class ZaloAdapter:
    platform = PLATFORM

    def __init__(self, settings: ZaloSettings, handle: HandleFn, *,
                 capabilities: Capabilities | None = None, poll_interval: float = 1.0,
                 poll_timeout: int = 30, request_timeout: float = 40,
                 files_dir: Path | None = None) -> None:
        self.settings = settings
        self.handle = handle
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self.request_timeout = request_timeout
        self.capabilities = capabilities or Capabilities(
            buttons=False, max_text=MAX_TEXT, documents=False,
            photos=bool(settings.public_base_url), global_per_second=10,
            group_per_minute=20, private_per_second=1)
        self.session: aiohttp.ClientSession | None = None
        self.account_name = ""
        self.display_name = ""
        self.can_join_groups = False
        self.handled = 0
        self.last_message_id = ""
        self._seen: OrderedDict[str, None] = OrderedDict()  # recent message ids (replays)
        self.files = ServedFiles(files_dir)  # what the links in messages point to
        self._runner: web.AppRunner | None = None

    # -- HTTP ---------------------------------------------------------------------------
    def _url(self, method: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/bot{self.settings.token}/{method}"

    async def call(self, method: str, body: dict[str, Any] | None = None,
                   timeout: float | None = None) -> Any:
        assert self.session is not None, "start() first"
        try:
            async with self.session.post(
                    self._url(method), json=body or {},
                    timeout=aiohttp.ClientTimeout(total=timeout or self.request_timeout)) as r:
                try:
                    data = await r.json(content_type=None)
                except ValueError:
                    raise ZaloApiError(r.status, "non-JSON answer") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ZaloApiError(0, f"{method}: {type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise ZaloApiError(r.status, "malformed envelope")
        if not data.get("ok"):
            raise ZaloApiError(int(data.get("error_code") or r.status),
                               str(data.get("description", "")))
        return data.get("result")

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        self.session = aiohttp.ClientSession()
        try:
            me = await self.call("getMe")
        except ZaloApiError:
            await self.session.close()
            raise
        self.account_name = str((me or {}).get("account_name", ""))
        # getMe gives the account name; the display name members pick in a group's
        # mention list comes from the settings (or getMe, should it ever carry one).
        self.display_name = self.settings.display_name or str(
            (me or {}).get("display_name", ""))
        self.can_join_groups = bool((me or {}).get("can_join_groups"))
        if not self.can_join_groups:
            log.warning("zalo: this bot may not join groups; reminders go privately")
        webhook = self.settings.mode == "webhook"
        if webhook and (not 8 <= len(self.settings.webhook_secret) <= 256
                        or not self.settings.public_base_url):
            await self.session.close()
            raise RuntimeError(
                "zalo: webhook mode (the default) needs public_base_url (HTTPS) and "
                "webhook_secret (8 to 256 characters); set them, or mode = \"polling\" "
                "for local development")
        if self.settings.mode == "webhook" or self.settings.public_base_url:
            await asyncio.to_thread(self.files.prune)  # what a killed process left behind
            await self._start_server()
        if self.settings.mode == "webhook":
            await self.call("setWebhook", {
                "url": self.settings.public_base_url.rstrip("/") + "/zalo",
                "secret_token": self.settings.webhook_secret})
        else:
            try:
                await self.call("deleteWebhook")
            except ZaloApiError as exc:
                log.info("zalo: deleteWebhook: %s", exc.description)
        log.info("zalo: %s ready (%s)", self.account_name, self.settings.mode)

    async def run(self, stop: asyncio.Event) -> None:  # type: ignore[override]
        if self.settings.mode == "webhook":
            await stop.wait()
        else:
            await self.poll(stop)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self.session is not None:
            await self.session.close()

    # -- receiving ----------------------------------------------------------------------
    async def poll(self, stop: asyncio.Event) -> None:
        delay = self.poll_interval
        while not stop.is_set():
            started = time.monotonic()
            try:
                # cancelled at once on stop (polling is for local development; an update
                # in the answer's last milliseconds may be lost, as in any crash)
                update = await unless_stopped(stop, self.call(
                    "getUpdates", {"timeout": str(self.poll_timeout)},
                    timeout=self.poll_timeout + 10))
            except Stopped:
                return
            except ZaloApiError as exc:
                if exc.code == 408:  # idle poll: the normal "nothing new"
                    delay = self.poll_interval
                else:
                    log.warning("zalo: getUpdates failed (%s); retry in %.0fs", exc, delay)
                    delay = min(max(delay * 2, self.poll_interval), 60)
                await sleep_or_stop(stop, max(delay - (time.monotonic() - started), 0.0))
                continue
            delay = self.poll_interval
            await self._process_retrying(update, stop)
            await sleep_or_stop(stop, max(self.poll_interval - (time.monotonic() - started),
                                           0.0))

    async def _process_retrying(self, body: Any, stop: asyncio.Event) -> None:
        """getUpdates has no offset: a consumed update cannot be fetched again, so a
        failure to commit (database down) is retried here, with backoff, before giving up."""
        for attempt in range(6):
            try:
                await self.process(body)
                return
            except Exception:
                log.exception("zalo: update not handled (attempt %d)", attempt + 1)
                await sleep_or_stop(stop, min(2 ** attempt, 30))
        log.error("zalo: update dropped after retries: %.200r", body)

    async def process(self, body: Any) -> bool:
        """Handle one update body; False when it was refused, ignored or a replay."""
        try:
            inc = self.to_incoming(body)
        except Malformed as exc:
            log.warning("zalo: malformed update refused (%s): %.200r", exc, body)
            return False
        if inc is None:
            return False
        if inc.update_id in self._seen:
            log.info("zalo: replayed message %s ignored", inc.update_id)
            return False
        await self.handle(inc)  # raises if not committed: the caller decides what to do
        self._seen[inc.update_id] = None
        while len(self._seen) > 10_000:
            self._seen.popitem(last=False)
        self.handled += 1
        self.last_message_id = inc.update_id
        return True

    def to_incoming(self, body: Any) -> Incoming | None:
        """Map a Zalo update (wrapped or not) to Incoming; None for one that is well formed
        but not for the bot (an event we do not use, the bot's own message, an id we cannot
        keep); Malformed when its shape is wrong."""
        if isinstance(body, dict) and "result" in body and "event_name" not in body:
            body = body.get("result")
        event = body.get("event_name") if isinstance(body, dict) else None
        if not isinstance(event, str):
            raise Malformed("no event_name")
        if event not in EVENTS:
            log.info("zalo: event %.60r ignored", event)
            return None
        try:
            msg = body["message"]
            message_id = str(msg["message_id"])
            sender = msg["from"]
            chat = msg["chat"]
            chat_id = str(chat["id"])
            user_id = str(sender["id"])
            is_bot = sender.get("is_bot")
        except (KeyError, TypeError, AttributeError) as exc:
            raise Malformed(type(exc).__name__) from None
        if not all(_usable_id(v) for v in (message_id, chat_id, user_id)):
            log.warning("zalo: update with an unusable id ignored: %.200r", body)
            return None
        if is_bot:
            return None
        kind = "group" if str(chat.get("chat_type", "")).upper() == "GROUP" else "private"
        when = msg.get("date")
        ts = _timestamp(when)
        if when is not None and ts is None:
            raise Malformed(f"impossible date {when!r:.80}")
        base = {"platform": PLATFORM, "update_id": message_id, "message_id": message_id,
                "chat": Chat(chat_id, kind), "timestamp": ts,
                "sender": Sender(user_id, str(sender.get("display_name") or user_id))}
        text = msg.get("text")
        if event != "message.text.received" or not isinstance(text, str):
            if kind == "group":
                return None
            return Incoming(**base, event="unsupported")
        # In groups the bot only receives messages that mention it (or reply to it).
        text, mentioned = self._strip_mention(text)
        return Incoming(**base, text=text, mentions_bot=mentioned or kind == "group")

    def _strip_mention(self, text: str) -> tuple[str, bool]:
        """Remove mentions of the bot, by display name ("@Bot Chi Bộ", picked from the
        group's mention list) or by account name ("@chibot"), wherever they stand."""
        text = unicodedata.normalize("NFC", text)
        names = sorted({unicodedata.normalize("NFC", n).strip()
                        for n in (self.display_name, self.account_name) if n.strip()},
                       key=len, reverse=True)
        if not names:  # name unknown: a leading "@word" is the mention
            stripped, n = re.subn(r"^\s*@\S+\s*", "", text)
            return stripped.strip(), bool(n)
        pattern = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in names)
        stripped, n = re.subn(rf"@(?:{pattern})(?=\W|$)", " ", text, flags=re.IGNORECASE)
        return " ".join(stripped.split()) if n else text.strip(), bool(n)

    # -- webhook and file server --------------------------------------------------------------
    async def _start_server(self) -> None:
        app = webhook.make_app()
        app.router.add_post("/zalo", self._webhook)
        app.router.add_get("/zalo/files/{token}", self._file)
        self._runner = webhook.make_runner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.settings.listen, self.settings.port).start()

    async def _webhook(self, request: web.Request) -> web.Response:
        got = request.headers.get("X-Bot-Api-Secret-Token", "")
        want = self.settings.webhook_secret
        if not want or not hmac.compare_digest(got.encode(), want.encode()):
            log.warning("zalo webhook: wrong secret from %s", request.remote)
            return web.json_response({"ok": False, "description": "Forbidden"}, status=403)
        try:
            body = await webhook.read_json(request)
        except webhook.BadBody as exc:
            log.warning("zalo webhook: body refused (%s)", exc)
            return web.json_response({"ok": False, "description": str(exc)}, status=exc.status)
        try:
            inc = self.to_incoming(body)
        except Exception as exc:  # Malformed, or a field of an unexpected type: theirs
            log.warning("zalo webhook: malformed update refused (%s)", exc)
            return web.json_response({"ok": False, "description": "Bad Request"}, status=400)
        if inc is None:  # well formed, not for us: 200, or Zalo sends it again and again
            return web.json_response({"ok": True})
        try:
            await self.process(body)
        except Exception:
            log.exception("zalo webhook: update not handled")
            return web.json_response({"ok": False}, status=500)
        return web.json_response({"ok": True})

    async def _file(self, request: web.Request) -> web.StreamResponse:
        found = await asyncio.to_thread(self.files.find, request.match_info["token"])
        if found is None:
            return web.Response(status=404)
        body, served = found
        if isinstance(body, Path):  # streamed from disk, not read into memory
            return web.FileResponse(body, headers=served.headers())
        return web.Response(body=body, headers=served.headers())

    async def _publish(self, data: bytes, ttl: float = 3600,
                       content_type: str = "image/png", name: str = "") -> str:
        token = await asyncio.to_thread(self.files.publish, data, ttl, content_type, name)
        return f"{self.settings.public_base_url.rstrip('/')}/zalo/files/{token}"

    # -- sending --------------------------------------------------------------------------
    async def send(self, out: Outgoing) -> SentRef:
        try:
            return await self._send(out)
        except ZaloApiError as exc:
            if exc.code == 401:
                raise SendError("zalo token refused", transient=True, retry_after=300) from exc
            failure = ERRORS.get(exc.code)
            if failure is None:  # 0 (network), 5xx, anything the docs do not list: retry
                failure = Failure.TRANSIENT if exc.code == 0 or exc.code >= 500 \
                    else Failure.PERMANENT
            raise SendError(f"zalo {exc}", failure=failure) from exc

    async def _send(self, out: Outgoing) -> SentRef:
        if out.join is not None:  # never queued for Zalo: its groups have no join requests
            raise SendError("zalo has no join requests", transient=False)
        if out.menu is not None:  # never queued for Zalo: it has no command menus
            return SentRef("menu")
        text = numbered(out.text, out.buttons)
        att = out.attachment
        if att is not None:
            if att.kind == "photo" and self.settings.public_base_url:
                body = {"chat_id": out.chat_id, "photo": await self._publish(att.data)}
                if text.strip():  # the API refuses an empty caption: leave it out
                    body["caption"] = text[:MAX_TEXT]
                r = await self.call("sendPhoto", body)
                return SentRef(str((r or {}).get("message_id", "")))
            if self.settings.public_base_url:  # Zalo takes no files: a link chibot serves
                url = await self._publish(att.data, DOC_LINK_TTL, DOC_TYPES.get(
                    att.filename.rsplit(".", 1)[-1], "application/octet-stream"), att.filename)
                text += "\n" + _("[Tải tệp {name} (7 ngày): {url}]").format(
                    name=att.filename, url=url)
            else:
                text += "\n" + _("Tệp {name} không gửi được qua Zalo; đề nghị đồng chí nhận "
                                  "qua Telegram hoặc liên hệ quản trị hệ thống.").format(
                    name=att.filename)
        last = ""
        parts = [p for p in split_text(text, MAX_TEXT) if p.strip()]
        if not parts:  # the API refuses an empty text: nothing is sent
            log.warning("zalo: empty message to %s not sent (key %s)", out.chat_id, out.key)
            return SentRef("")
        for part in parts:
            r = await self.call("sendMessage", {"chat_id": out.chat_id, "text": part})
            last = str((r or {}).get("message_id", ""))
        return SentRef(last)


def _timestamp(ms: Any) -> datetime | None:
    """Zalo's ``date`` (milliseconds) as a datetime; None unless a finite, plausible one."""
    if not isinstance(ms, int | float) or isinstance(ms, bool) or not math.isfinite(ms):
        return None
    if not 0 <= ms <= 32_503_680_000_000:  # up to year 3000
        return None
    return datetime.fromtimestamp(ms / 1000, UTC)
