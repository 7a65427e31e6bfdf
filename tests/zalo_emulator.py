"""A local emulator of the Zalo Bot API surface in ZALO.md, for end-to-end tests.

Methods: getMe, getUpdates (ONE update, or 408 when idle; fails while a webhook is set),
setWebhook, deleteWebhook, getWebhookInfo (404 when none), sendMessage (400 for empty or
over-long text), sendPhoto (URL only), sendChatAction; 401 for an unknown token; 429
injection; a replay mode that returns the same update twice; a webhook-push helper (wrapped
or unwrapped bodies, right or wrong secret); group updates carrying an @mention. Tests
drive users through Python methods and read what the bot sent.

Failure shapes follow the Zalo Bot docs' error-code page (bot.zapps.me/docs/error-code/):
{"ok": false, "error_code": N, "description": ...} with 400 "Bad request", 401
"Unauthorized", 403 "Internal server error" (sic), 404 "Not found", 408 "Request
timeout", 429 "Quota exceeded" (no retry hint). ``faults`` injects any of them on the next
sends. sendMessage refuses a text outside 1–2000 characters and sendPhoto an empty
caption (bot.zapps.me/docs/apis/sendMessage/, .../sendPhoto/). In groups, users mention
the bot by picking its display name (``DISPLAY``, "@Bot Chi Bộ ...") or type its account
name (bot.zapps.me/docs/build-bot-interaction-with-group/).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

ACCOUNT = "chibot"
DISPLAY = "Bot Chi Bộ"  # the display name users pick from a group's mention list
# error_code -> description, as bot.zapps.me/docs/error-code/ lists them
ERRORS = {400: "Bad request", 401: "Unauthorized", 403: "Internal server error",
          404: "Not found", 408: "Request timeout", 429: "Quota exceeded"}


@dataclass
class ZSent:
    method: str
    chat_id: str
    text: str
    photo: str | None = None


@dataclass
class ZaloEmulator:
    token: str = "zalo-test-token"
    can_join_groups: bool = True
    replay: bool = False
    faults: deque[int] = field(default_factory=deque)  # HTTP codes for the next sends
    sent: list[ZSent] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: deque[dict[str, Any]] = deque()
        self._event = asyncio.Event()
        self._ids = itertools.count(1)
        self.webhook: dict[str, str] | None = None
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        # A handler stuck in an injected timeout must not hold the shutdown for 60 s.
        self.runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    @staticmethod
    def _err(code: int, description: str) -> web.Response:
        return web.json_response({"ok": False, "error_code": code,
                                  "description": description}, status=code)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._err(401, "Unauthorized")
        method = request.match_info["method"]
        self.calls.append(method)
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            body = dict(await request.post())
        handler = getattr(self, "m_" + method, None)
        if handler is None:
            return self._err(404, "Not Found")
        return await handler(body)

    async def m_getMe(self, body: dict[str, Any]) -> web.Response:
        return self._ok({"id": "bot-1", "account_name": ACCOUNT, "account_type": "BASIC",
                         "can_join_groups": self.can_join_groups})

    async def m_getUpdates(self, body: dict[str, Any]) -> web.Response:
        if self.webhook:
            return self._err(400, "Bad Request: webhook is set")
        if not self._queue:
            self._event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(),
                                       timeout=min(float(body.get("timeout", 30)), 1.0))
        if not self._queue:
            return self._err(408, "Request timeout")
        update = self._queue.popleft()
        if self.replay and not update.get("_replayed"):
            self._queue.appendleft({**update, "_replayed": True})
        return self._ok({k: v for k, v in update.items() if k != "_replayed"})

    async def m_setWebhook(self, body: dict[str, Any]) -> web.Response:
        url, secret = str(body.get("url", "")), str(body.get("secret_token", ""))
        if not url.startswith("https://") or not 8 <= len(secret) <= 256:
            return self._err(400, "Bad Request: invalid url or secret_token")
        self.webhook = {"url": url, "secret": secret}
        return self._ok({"url": url, "updated_at": int(time.time() * 1000)})

    async def m_deleteWebhook(self, body: dict[str, Any]) -> web.Response:
        self.webhook = None
        return self._ok({"url": "", "updated_at": int(time.time() * 1000)})

    async def m_getWebhookInfo(self, body: dict[str, Any]) -> web.Response:
        if not self.webhook:
            return self._err(404, "Not Found")
        return self._ok({"url": self.webhook["url"], "updated_at": 0})

    def _fault(self) -> web.Response | None:
        if self.faults:
            code = self.faults.popleft()
            return self._err(code, ERRORS.get(code, "Internal server error"))
        return None

    async def m_sendMessage(self, body: dict[str, Any]) -> web.Response:
        text = body.get("text")
        if not body.get("chat_id"):
            return self._err(400, "Bad Request: chat_id is required")
        if not isinstance(text, str) or not 1 <= len(text) <= 2000:
            return self._err(400, "Bad Request: text must have 1 to 2000 characters")
        fault = self._fault()
        if fault is not None:
            return fault
        self.sent.append(ZSent("sendMessage", str(body["chat_id"]), text))
        return self._ok({"message_id": f"bm{next(self._ids)}",
                         "date": int(time.time() * 1000)})

    async def m_sendPhoto(self, body: dict[str, Any]) -> web.Response:
        photo = str(body.get("photo", ""))
        if not photo.startswith(("http://", "https://")):
            return self._err(400, "Bad Request: photo must be a URL")
        caption = body.get("caption")
        if caption is not None and (not isinstance(caption, str)
                                    or not 1 <= len(caption) <= 2000):
            return self._err(400, "Bad Request: caption must have 1 to 2000 characters")
        fault = self._fault()
        if fault is not None:
            return fault
        self.sent.append(ZSent("sendPhoto", str(body["chat_id"]), body.get("caption", ""),
                               photo))
        return self._ok({"message_id": f"bm{next(self._ids)}",
                         "date": int(time.time() * 1000)})

    async def m_sendChatAction(self, body: dict[str, Any]) -> web.Response:
        return self._ok(True)

    # -- driving users ------------------------------------------------------------------
    def update(self, user_id: str, name: str, text: str | None, *, group: str | None = None,
               event: str = "message.text.received") -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": f"um{next(self._ids)}", "date": int(time.time() * 1000),
            "from": {"id": user_id, "display_name": name, "is_bot": False},
            "chat": {"id": group or user_id, "chat_type": "GROUP" if group else "PRIVATE"}}
        if text is not None:
            msg["text"] = text
        return {"event_name": event, "message": msg}

    def voice(self, user_id: str, name: str, *, group: str | None = None) -> dict[str, Any]:
        """A voice message as the Zalo Bot docs show it: ``message.voice.received`` with a
        ``voice_url`` to an .aac file and no text."""
        upd = self.update(user_id, name, None, group=group, event="message.voice.received")
        upd["message"]["voice_url"] = f"https://voice.zdn.vn/{upd['message']['message_id']}.aac"
        return upd

    def added_to_group(self, group: str, by: str, name: str) -> dict[str, Any]:
        """``bot.added.to.group``: seen in the field, not in the docs' list of events; its
        body is assumed to carry the group as ``chat`` like the message events."""
        return self.update(by, name, None, group=group, event="bot.added.to.group")

    def push(self, update: dict[str, Any]) -> str:
        self._queue.append(update)
        self._event.set()
        return str(update["message"]["message_id"])

    def say(self, user_id: str, name: str, text: str, group: str | None = None,
            mention: str = ACCOUNT) -> str:
        """A user writes; in a group the bot only gets messages that mention it (by
        account name, or ``mention=DISPLAY`` as picked from the mention list)."""
        if group:
            text = f"@{mention} {text}"
        return self.push(self.update(user_id, name, text, group=group))

    async def push_webhook(self, url: str, update: dict[str, Any] | bytes, *,
                           secret: str | None, wrapped: bool = False) -> int:
        headers = {"X-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with aiohttp.ClientSession() as http:
            if isinstance(update, bytes):
                r = await http.post(url, data=update, headers={
                    **headers, "Content-Type": "application/json"})
            else:
                body = {"ok": True, "result": update} if wrapped else update
                r = await http.post(url, json=body, headers=headers)
            return r.status

    def pending(self) -> int:
        return len(self._queue)

    def to(self, chat_id: str) -> list[ZSent]:
        return [s for s in self.sent if s.chat_id == chat_id]
