"""A local Telegram Bot API emulator (aiohttp) for end-to-end tests of the real adapter.

It accepts what python-telegram-bot sends (form-encoded and multipart bodies, JSON as a
fallback), answers getMe with ``is_bot``, dates in seconds, ``chat_instance`` on callback
queries; it keeps per-chat message history, long-polls getUpdates, enforces Telegram's
send limits (configurable) with 429 + ``retry_after``, and injects 5xx errors and
timeouts on demand. Tests drive users through Python methods.

Failure shapes, each switchable per test, as the Bot API reference gives them
(core.telegram.org/bots/api: "Making requests" — {"ok": false, "error_code",
"description", "parameters"?}; "ResponseParameters" — ``migrate_to_chat_id``,
``retry_after``) with the descriptions the real service sends:
- ``upgraded`` (old -> new chat id): sends to the old group answer 400 "Bad Request: group
  chat was upgraded to a supergroup chat" with ``parameters.migrate_to_chat_id``;
- ``blocked`` users: 403 "Forbidden: bot was blocked by the user"; ``kicked`` groups: 403
  "Forbidden: bot was kicked from the group chat";
- getUpdates: a second request while one is waiting ends the first with 409 "Conflict:
  terminated by other getUpdates request; make sure that only one bot instance is
  running" (two processes, one token); while a webhook is set, 409 "Conflict: can't use
  getUpdates method while webhook is active; use deleteWebhook to delete the webhook
  first"; ``conflicts`` injects N such answers;
- answerCallbackQuery later than ``callback_window`` seconds after the press (or for an
  unknown id): 400 "Bad Request: query is too old and response timeout expired or query
  ID is invalid" (Telegram clients stop waiting for the answer after a few seconds).
"""

from __future__ import annotations

import asyncio
import gc
import html
import itertools
import json
import random
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 9_000_001
BOT_USERNAME = "chibot_test_bot"
SEND_METHODS = {"sendMessage", "sendDocument", "sendPhoto"}
# Descriptions as the Bot API sends them (see the module docstring for the source).
MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"
BLOCKED = "Forbidden: bot was blocked by the user"
KICKED = "Forbidden: bot was kicked from the group chat"
CONFLICT = ("Conflict: terminated by other getUpdates request; make sure that only one bot "
            "instance is running")
CONFLICT_WEBHOOK = ("Conflict: can't use getUpdates method while webhook is active; use "
                    "deleteWebhook to delete the webhook first")
TOO_OLD = ("Bad Request: query is too old and response timeout expired or query ID is "
           "invalid")


@dataclass
class Sent:
    method: str
    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None = None
    filename: str | None = None
    data: bytes | None = None
    parse_mode: str | None = None
    at: float = 0.0


@dataclass
class Limits:
    per_second: float = 30.0
    group_per_minute: float = 20.0
    private_per_second: float = 1.0  # Telegram tolerates short bursts; we do not enforce it
    retry_after: int = 1


@dataclass
class TelegramEmulator:
    token: str = "123456:TEST-token"
    limits: Limits = field(default_factory=Limits)
    enforce_limits: bool = True
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    faults: deque[str] = field(default_factory=deque)  # "429" | "500" | "timeout"
    status_429: int = 0
    webhook_url: str = ""
    fault_rate: float = 0.0  # share of send calls that fail at random (429/500/timeout)
    fault_seed: int = 7
    send_delay: float = 0.0  # seconds each send takes, like a real API's latency
    keep_messages: bool = True  # False for long benchmark runs: only counts are kept
    blocked: set[int] = field(default_factory=set)  # users who blocked the bot
    kicked: set[int] = field(default_factory=set)  # groups the bot was removed from
    upgraded: dict[int, int] = field(default_factory=dict)  # group -> its supergroup
    conflicts: int = 0  # the next getUpdates calls answered 409
    callback_window: float = 15.0  # seconds a button press may wait for its answer
    max_poll: float = 2.0  # seconds a long poll is held at most (Telegram: its timeout)
    max_text: int = 4096  # UTF-16 code units of a text after entities parsing

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._new_update = asyncio.Event()
        self._global_sends: deque[float] = deque()
        self._group_sends: dict[int, deque[float]] = defaultdict(deque)
        self.chats: dict[int, dict[str, Any]] = {}
        self.menu_buttons: dict[int, dict[str, Any]] = {}  # setChatMenuButton, per chat
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.runner: web.AppRunner | None = None
        self.port = 0
        self._rng = random.Random(self.fault_seed)
        self.injected: list[str] = []
        self.pushed_at: dict[int, float] = {}
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (name, bytes) users sent
        self.join_requests: set[tuple[int, int]] = set()  # (chat, user) awaiting a decision
        self.members: set[tuple[int, int]] = set()  # (chat, user) admitted by the bot
        self.callbacks: dict[str, float] = {}  # press id -> when it was pressed
        self.answers: list[tuple[str, str | None, float]] = []  # (id, text, delay) accepted
        self.edits: list[tuple[int, int]] = []  # (chat, message) edited with editMessageText
        self.conflicts_sent = 0
        self._poller: asyncio.Future[bool] | None = None
        self._posted: dict[int, dict[str, Any]] = {}  # updates delivered to a webhook

    # -- server ---------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # A handler stuck in an injected timeout must not hold the shutdown for 60 s.
        self.runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{self.port}/bot"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
        files: dict[str, Any] = {}
        params: dict[str, Any] = dict(request.query)
        ctype = request.content_type
        if ctype == "application/json":
            # The Bot API reads a JSON body and a form into the same typed parameters
            # (core.telegram.org/bots/api#making-requests); scalars are kept as the form
            # gives them, so every lookup below sees one shape.
            params.update({k: v if isinstance(v, dict | list | str) else json.dumps(v)
                           for k, v in (await request.json()).items()})
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.filename:  # type: ignore[union-attr]
                    files[part.name] = (part.filename, await part.read())  # type: ignore[union-attr]
                else:
                    params[part.name] = (await part.read()).decode()  # type: ignore[union-attr]
        elif request.can_read_body:
            params.update(dict(await request.post()))
        for key in ("reply_markup", "scope", "commands", "allowed_updates"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params, files

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await self._params(request)
        self.calls.append((method, params))
        if method in SEND_METHODS and self.fault_rate and self._rng.random() < self.fault_rate:
            self.faults.append(self._rng.choice(["429", "500", "timeout"]))
        if method in SEND_METHODS | {"editMessageReplyMarkup", "answerCallbackQuery"} \
                and self.faults:
            fault = self.faults.popleft()
            self.injected.append(fault)
            if fault == "timeout":
                await asyncio.sleep(3600)  # the client gives up first
            if fault == "500":
                return self._error(500, "Internal Server Error")
            if fault == "429":
                self.status_429 += 1
                return self._error(429, "Too Many Requests: retry after 1",
                                   {"retry_after": 1})
        handler = getattr(self, "m_" + method, None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        try:
            result = await handler(params, files)
        except _ApiError as err:
            if err.code == 429:
                self.status_429 += 1
            return self._error(err.code, err.description, err.parameters)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str,
               parameters: dict[str, Any] | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)

    # -- limits ---------------------------------------------------------------------------
    def _check_limits(self, chat_id: int) -> None:
        if not self.enforce_limits:
            return
        now = time.monotonic()
        g = self._global_sends
        while g and now - g[0] >= 1.0:
            g.popleft()
        if len(g) >= self.limits.per_second:
            raise _ApiError(429, "Too Many Requests: retry after 1",
                            {"retry_after": self.limits.retry_after})
        if chat_id < 0:
            q = self._group_sends[chat_id]
            while q and now - q[0] >= 60.0:
                q.popleft()
            if len(q) >= self.limits.group_per_minute:
                raise _ApiError(429, "Too Many Requests: retry after 3",
                                {"retry_after": self.limits.retry_after})
            q.append(now)
        g.append(now)

    # -- Bot API methods ----------------------------------------------------------------
    async def m_getMe(self, p: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Chibot", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def m_deleteWebhook(self, p: dict[str, Any], f: dict[str, Any]) -> bool:
        self.webhook_url = ""
        return True

    async def m_setWebhook(self, p: dict[str, Any], f: dict[str, Any]) -> bool:
        self.webhook_url = p.get("url", "")
        return True

    async def m_getWebhookInfo(self, p: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook_url, "has_custom_certificate": False,
                "pending_update_count": 0}

    async def m_setMyCommands(self, p: dict[str, Any], f: dict[str, Any]) -> bool:
        return True

    async def m_deleteMyCommands(self, p: dict[str, Any], f: dict[str, Any]) -> bool:
        return True

    async def m_setChatMenuButton(self, p: dict[str, Any], f: dict[str, Any]) -> bool:
        button = p.get("menu_button") or {}
        if isinstance(button, str):
            button = json.loads(button)
        if int(p.get("chat_id", 0)) < 0 or (button.get("type") == "web_app" and not str(
                button.get("web_app", {}).get("url", "")).startswith("https://")):
            raise _ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
        self.menu_buttons[int(p["chat_id"])] = button
        return True

    def _conflict(self, description: str) -> _ApiError:
        self.conflicts_sent += 1
        return _ApiError(409, description)

    async def m_getUpdates(self, p: dict[str, Any], f: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise self._conflict(CONFLICT_WEBHOOK)
        if self.conflicts:
            self.conflicts -= 1
            raise self._conflict(CONFLICT)
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(True)  # the waiting request is terminated by this one
        poller = self._poller = asyncio.get_running_loop().create_future()
        offset = int(p.get("offset", 0) or 0)
        timeout = float(p.get("timeout", 0) or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout:
            self._new_update.clear()
            waiter = asyncio.ensure_future(self._new_update.wait())
            await asyncio.wait({waiter, poller}, timeout=min(timeout, self.max_poll),
                               return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        if poller.done():
            raise self._conflict(CONFLICT)
        poller.set_result(False)
        limit = int(p.get("limit", 100) or 100)
        return [u for u in self._updates if u["update_id"] >= offset][:limit]

    def _message(self, chat_id: int, text: str, markup: dict[str, Any] | None,
                 **extra: Any) -> dict[str, Any]:
        mid = next(self._message_ids[chat_id])
        msg = {"message_id": mid, "date": int(time.time()), "chat": self._chat(chat_id),
               "from": {"id": BOT_ID, "is_bot": True, "first_name": "Chibot",
                        "username": BOT_USERNAME}, **extra}
        if text:
            msg["text"] = text
        if markup:
            msg["reply_markup"] = markup
        if self.keep_messages:
            self.messages[(chat_id, mid)] = msg
        return msg

    def _chat(self, chat_id: int) -> dict[str, Any]:
        return self.chats.get(chat_id) or {"id": chat_id, "type": "private",
                                           "first_name": f"User {chat_id}"}

    def _chat_id(self, p: dict[str, Any]) -> int:
        try:
            chat_id = int(p["chat_id"])
        except (KeyError, ValueError):
            raise _ApiError(400, "Bad Request: chat_id is empty") from None
        if chat_id in self.blocked:
            raise _ApiError(403, BLOCKED)
        if chat_id in self.kicked:
            raise _ApiError(403, KICKED)
        if chat_id in self.upgraded:
            raise _ApiError(400, MIGRATED, {"migrate_to_chat_id": self.upgraded[chat_id]})
        return chat_id

    async def m_sendMessage(self, p: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(p)
        text = p.get("text", "")
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        if _length(text, p.get("parse_mode")) > self.max_text:
            raise _ApiError(400, "Bad Request: message is too long")
        self._check_limits(chat_id)
        if chat_id < 0 and _has_web_app(p.get("reply_markup")):
            raise _ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")  # no Mini Apps in groups
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        msg = self._message(chat_id, text, p.get("reply_markup"))
        self.sent.append(Sent("sendMessage", chat_id, msg["message_id"], text,
                              p.get("reply_markup"), parse_mode=p.get("parse_mode"),
                              at=time.monotonic()))
        return msg

    async def _send_file(self, kind: str, p: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(p)
        if kind not in f:
            raise _ApiError(400, f"Bad Request: there is no {kind} in the request")
        self._check_limits(chat_id)
        name, data = f[kind]
        caption = p.get("caption", "")
        if _length(caption, p.get("parse_mode")) > 1024:
            raise _ApiError(400, "Bad Request: message caption is too long")
        extra = {"document": {"file_id": "f1", "file_unique_id": "u1", "file_name": name}} \
            if kind == "document" else {"photo": [{"file_id": "p1", "file_unique_id": "u2",
                                                   "width": 1, "height": 1}]}
        msg = self._message(chat_id, "", p.get("reply_markup"), caption=caption, **extra)
        self.sent.append(Sent("send" + kind.capitalize(), chat_id, msg["message_id"], caption,
                              p.get("reply_markup"), filename=name, data=data,
                              at=time.monotonic()))
        return msg

    async def m_sendDocument(self, p: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file("document", p, f)

    async def m_sendPhoto(self, p: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file("photo", p, f)

    async def m_answerCallbackQuery(self, p: dict[str, Any], f: dict[str, Any]) -> bool:
        cid = str(p.get("callback_query_id", ""))
        pressed = self.callbacks.pop(cid, None)
        if pressed is None or time.monotonic() - pressed > self.callback_window:
            raise _ApiError(400, TOO_OLD)
        self.answers.append((cid, p.get("text"), time.monotonic() - pressed))
        return True

    async def m_editMessageText(self, p: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
        key = (self._chat_id(p), int(p["message_id"]))
        if key not in self.messages:
            raise _ApiError(400, "Bad Request: message to edit not found")
        msg = self.messages[key]
        markup = p.get("reply_markup") or None
        if msg.get("text") == p.get("text") and msg.get("reply_markup") == markup:
            raise _ApiError(400, "Bad Request: message is not modified")
        msg["text"] = p.get("text", "")
        if markup:
            msg["reply_markup"] = markup
        else:
            msg.pop("reply_markup", None)
        for sent in self.sent:  # what tests read: the message as it now shows
            if (sent.chat_id, sent.message_id) == key:
                sent.text, sent.reply_markup = msg["text"], markup
        self.edits.append(key)
        return msg

    async def m_editMessageReplyMarkup(self, p: dict[str, Any],
                                       f: dict[str, Any]) -> dict[str, Any]:
        key = (self._chat_id(p), int(p["message_id"]))
        if key not in self.messages:
            raise _ApiError(400, "Bad Request: message to edit not found")
        self.messages[key]["reply_markup"] = p.get("reply_markup") or {"inline_keyboard": []}
        return self.messages[key]

    async def m_getFile(self, p: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
        file_id = str(p.get("file_id", ""))
        if file_id not in self.files:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": "u" + file_id,
                "file_size": len(self.files[file_id][1]), "file_path": f"documents/{file_id}"}

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if request.match_info["token"] != self.token or file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id][1])

    async def m_approveChatJoinRequest(self, p: dict[str, Any],
                                       f: dict[str, Any]) -> bool:
        key = self._join_key(p)
        self.members.add(key)
        return True

    async def m_declineChatJoinRequest(self, p: dict[str, Any],
                                       f: dict[str, Any]) -> bool:
        self._join_key(p)
        return True

    def _join_key(self, p: dict[str, Any]) -> tuple[int, int]:
        key = (self._chat_id(p), int(p.get("user_id", 0)))
        if key not in self.join_requests:
            raise _ApiError(400, "Bad Request: HIDE_REQUESTER_MISSING")
        self.join_requests.discard(key)
        return key

    # -- driving users ------------------------------------------------------------------
    def _push(self, update: dict[str, Any]) -> int:
        update["update_id"] = next(self._update_ids)
        self.pushed_at[update["update_id"]] = time.time()
        self._updates.append(update)
        self._new_update.set()
        return update["update_id"]

    def add_group(self, chat_id: int, title: str, kind: str = "group") -> None:
        self.chats[chat_id] = {"id": chat_id, "type": kind, "title": title}

    @staticmethod
    def user(uid: int, name: str, lang: str = "vi") -> dict[str, Any]:
        return {"id": uid, "is_bot": False, "first_name": name, "language_code": lang}

    def user_message(self, user: dict[str, Any], text: str, chat_id: int | None = None,
                     reply_to_bot: bool = False) -> int:
        chat_id = chat_id if chat_id is not None else user["id"]
        if chat_id == user["id"]:
            self.chats.setdefault(chat_id, {"id": chat_id, "type": "private",
                                            "first_name": user["first_name"]})
        msg: dict[str, Any] = {"message_id": next(self._message_ids[chat_id]),
                               "date": int(time.time()), "chat": self._chat(chat_id),
                               "from": user, "text": text}
        if text.startswith("/"):
            cmd = text.split()[0]
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(cmd)}]
        if "@" + BOT_USERNAME in text:
            at = text.index("@" + BOT_USERNAME)
            msg.setdefault("entities", []).append(
                {"type": "mention", "offset": at, "length": len(BOT_USERNAME) + 1})
        if reply_to_bot:
            bot_msgs = [m for (c, _i), m in self.messages.items()
                        if c == chat_id and m["from"]["id"] == BOT_ID]
            if bot_msgs:
                msg["reply_to_message"] = bot_msgs[-1]
        return self._push({"message": msg})

    def press(self, user: dict[str, Any], sent: Sent, data: str | None = None,
              label: str | None = None, chat_id: int | None = None) -> int:
        """Press a button of a message the bot sent (by data or by label)."""
        rows = (sent.reply_markup or {}).get("inline_keyboard", [])
        buttons = [b for row in rows for b in row]
        if data is None:
            data = next(b["callback_data"] for b in buttons if label and label in b["text"])
        message = self.messages[(sent.chat_id, sent.message_id)]
        if chat_id is not None:  # the same post, seen in the supergroup it moved to
            message = {**message, "chat": self._chat(chat_id)}
        cid = f"cq{next(self._callback_ids)}"
        self.callbacks[cid] = time.monotonic()
        return self._push({"callback_query": {
            "id": cid, "from": user, "message": message,
            "chat_instance": f"ci{sent.chat_id}", "data": data}})

    def forged_press(self, user: dict[str, Any], chat_id: int, data: str) -> int:
        message = {"message_id": 999_999, "date": int(time.time()), "chat": self._chat(chat_id),
                   "from": {"id": BOT_ID, "is_bot": True, "first_name": "Chibot"},
                   "text": "?"}
        self.callbacks["forged"] = time.monotonic()
        return self._push({"callback_query": {
            "id": "forged", "from": user, "message": message,
            "chat_instance": "x", "data": data}})

    def upgrade(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group becomes a supergroup: sends to the old id now answer the migrate
        error. The service message comes separately (``migrate``), possibly later."""
        self.chats[new_chat_id] = {**self.chats.get(old_chat_id, {}), "id": new_chat_id,
                                   "type": "supergroup"}
        self.upgraded[old_chat_id] = new_chat_id

    def migrate(self, old_chat_id: int, new_chat_id: int, user: dict[str, Any]) -> int:
        self.upgrade(old_chat_id, new_chat_id)
        return self._push({"message": {
            "message_id": next(self._message_ids[old_chat_id]), "date": int(time.time()),
            "chat": self._chat(old_chat_id), "from": user,
            "migrate_to_chat_id": new_chat_id}})

    def user_document(self, user: dict[str, Any], filename: str, data: bytes,
                      caption: str | None = None, size: int | None = None) -> int:
        """A file sent in the user's private chat (``size`` may claim more than ``data``)."""
        file_id = f"doc{len(self.files) + 1}"
        self.files[file_id] = (filename, data)
        chat_id = user["id"]
        self.chats.setdefault(chat_id, {"id": chat_id, "type": "private",
                                        "first_name": user["first_name"]})
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]), "date": int(time.time()),
            "chat": self._chat(chat_id), "from": user,
            "document": {"file_id": file_id, "file_unique_id": "u" + file_id,
                         "file_name": filename, "mime_type": "application/pdf",
                         "file_size": size if size is not None else len(data)}}
        if caption:
            msg["caption"] = caption
        return self._push({"message": msg})

    def join_request(self, user: dict[str, Any], chat_id: int) -> int:
        """The user asks to join the group through an invite link that needs approval."""
        self.join_requests.add((chat_id, user["id"]))
        return self._push({"chat_join_request": {
            "chat": self._chat(chat_id), "from": user, "user_chat_id": user["id"],
            "date": int(time.time()), "bio": "Cán bộ phòng"}})

    def bot_removed(self, chat_id: int, by: dict[str, Any]) -> int:
        me = {"id": BOT_ID, "is_bot": True, "first_name": "Chibot", "username": BOT_USERNAME}
        return self._push({"my_chat_member": {
            "chat": self._chat(chat_id), "from": by, "date": int(time.time()),
            "old_chat_member": {"status": "member", "user": me},
            "new_chat_member": {"status": "kicked", "user": me,
                                "until_date": 0}}})

    def sticker(self, user: dict[str, Any]) -> int:
        return self._push({"message": {
            "message_id": next(self._message_ids[user["id"]]), "date": int(time.time()),
            "chat": self._chat(user["id"]), "from": user,
            "sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular",
                        "width": 1, "height": 1, "is_animated": False, "is_video": False}}})

    async def post_update(self, url: str, update_id: int, secret: str) -> int:
        """Deliver a queued update to a webhook as Telegram does (POST with the secret
        header); it leaves the getUpdates queue. Returns the webhook's HTTP status."""
        import aiohttp

        update = self._posted.get(update_id)
        if update is None:  # the first delivery; a retry sends the same body again
            update = next(u for u in self._updates if u["update_id"] == update_id)
            self._updates.remove(update)
            self._posted[update_id] = update
        async with aiohttp.ClientSession() as http, http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as r:
            return r.status

    def pending_updates(self) -> int:
        return len(self._updates)

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]


def max_per_minute(times: list[float]) -> int:
    """The most sends in any 60-second window (as Telegram counts a group's limit)."""
    best, j = 0, 0
    for i, t in enumerate(times):
        while t - times[j] >= 60.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def _length(text: str, parse_mode: str | None) -> int:
    """What Telegram measures: UTF-16 code units of the text after entities parsing
    (Bot API, sendMessage: "1-4096 characters after entities parsing"; entity lengths are
    in UTF-16 code units, core.telegram.org/api/entities)."""
    if parse_mode == "HTML":
        text = html.unescape(re.sub(r"<[^>]*>", "", text))
    return len(text.encode("utf-16-le")) // 2
def _has_web_app(markup: Any) -> bool:
    if isinstance(markup, str):
        markup = json.loads(markup)
    rows = (markup or {}).get("inline_keyboard", []) if isinstance(markup, dict) else []
    return any("web_app" in b for row in rows for b in row)


class _ApiError(Exception):
    def __init__(self, code: int, description: str,
                 parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


async def _serve(args: Any) -> None:
    """Run the emulator as its own process (benchmarks measure the bot's memory alone)."""
    emu = TelegramEmulator(limits=Limits(per_second=args.per_second,
                                         group_per_minute=args.group_per_minute))
    emu.keep_messages = False
    base = await emu.start()
    # Telegram counts a send when it arrives. A collector pause here (102 ms measured once
    # the record of 20,000 sends had grown) stamped the sends that queued meanwhile all at
    # once, and a second later counted a burst the bot never made. This process makes no
    # reference cycles worth collecting during a bench, so the collector is off.
    gc.collect()
    gc.freeze()
    gc.disable()

    async def stats(request: web.Request) -> web.Response:
        times = [s.at for s in emu.sent]
        return web.json_response({"sent": len(emu.sent), "status_429": emu.status_429,
                                  "first": min(times, default=0), "last": max(times, default=0),
                                  "last_wall": time.time(), "pending": emu.pending_updates()})

    async def push(request: web.Request) -> web.Response:
        """[{"uid": 1, "text": "..."}]: users write to the bot privately."""
        ids = [emu.user_message(emu.user(int(u["uid"]), f"User {u['uid']}"), u["text"])
               for u in await request.json()]
        return web.json_response(ids)

    async def pushed(request: web.Request) -> web.Response:
        return web.json_response(emu.pushed_at)

    async def sent(request: web.Request) -> web.Response:
        """[[text, wall-clock time it arrived], …] sent to ?chat=ID, in order."""
        chat, shift = int(request.query["chat"]), time.time() - time.monotonic()
        return web.json_response([[m.text, m.at + shift] for m in emu.to(chat)])

    assert emu.runner is not None
    # A second small app on another port: the control endpoints.
    app = web.Application(client_max_size=50 * 1024 * 1024)
    app.router.add_get("/stats", stats)
    app.router.add_post("/push", push)
    app.router.add_get("/pushed", pushed)
    app.router.add_get("/sent", sent)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"READY {base} http://127.0.0.1:{port}/stats", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--per-second", type=float, default=30.0)
    ap.add_argument("--group-per-minute", type=float, default=20.0)
    asyncio.run(_serve(ap.parse_args()))
