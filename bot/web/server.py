"""The web view's routes, added to an ``aiohttp.web.Application`` by :func:`add_routes`
(``chibot run`` serves them beside ``/healthz``; ``chibot demo --web`` on its own).

Sign-in, both ways, ends in a session cookie (HttpOnly, SameSite, ≤ 8 h):
- a one-time link (``/web`` in a chat): the GET only shows a button, so chat apps that
  fetch links for previews consume nothing; the POST consumes the token;
- Telegram Mini App launch data, checked by :mod:`bot.web.launch`.
Every POST carries a CSRF token (before sign-in: a double-submit cookie; after: the
session's own). Every response under /web gets the CSP and the other security headers;
a database that does not answer gives a polite 503 page, never a dead process.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from bot.web import launch
from bot.web.pages import Reply, Viewer, page_routes
from bot.web.render import render, static_file
from models.audit import audit
from models.base import utcnow
from models.dberrors import is_transient
from models.i18n import _, use_locale
from models.member import Identity
from models.settings import Settings
from models.web import (
    SESSION_TTL,
    close_session,
    consume_link,
    find_session,
    open_session,
    peek_link,
)

log = logging.getLogger(__name__)

COOKIE = "chibot_sid"
PRE_COOKIE = "chibot_pre"  # double-submit CSRF token of the sign-in forms
# Telegram Web (web.telegram.org, webk/webz) frames Mini Apps; nobody else may.
FRAME_ANCESTORS = "'self' https://web.telegram.org https://*.telegram.org"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'; "
       f"frame-ancestors {FRAME_ANCESTORS}")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
           "Cross-Origin-Opener-Policy": "same-origin"}


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


class WebView:
    def __init__(self, engine: Engine, settings: Settings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock
        self.secure = settings.web.base_url.startswith("https://")

    # -- plumbing ---------------------------------------------------------------------
    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith("/web"):
            return await handler(request)
        try:
            resp = await handler(request)
        except web.HTTPException as exc:
            for k, v in HEADERS.items():
                exc.headers.setdefault(k, v)
            raise
        except Exception as exc:
            if isinstance(exc, DBAPIError) or is_transient(exc):
                log.warning("web: database unavailable for %s: %s", request.path,
                            type(exc).__name__)
                resp = self._page(503, _("Hệ thống tạm thời gián đoạn"), _(
                    "Cơ sở dữ liệu chưa trả lời. Đồng chí vui lòng thử lại sau ít phút."))
                resp.headers["Retry-After"] = "30"
            else:
                log.exception("web: %s failed", request.path)
                resp = self._page(500, _("Đã có lỗi"), _(
                    "Trang chưa hiển thị được. Đồng chí vui lòng thử lại sau."))
        for k, v in HEADERS.items():
            resp.headers.setdefault(k, v)
        return resp

    def _page(self, status: int, title: str, text: str) -> web.Response:
        with use_locale(self.settings.locale):
            body = render("message.html", title=title, text=text)
        return web.Response(status=status, text=body, content_type="text/html")

    def _cookie(self, resp: web.StreamResponse, name: str, value: str, max_age: int) -> None:
        """Set (``max_age`` > 0) or clear a cookie under /web, HttpOnly.

        Inside Telegram Web the page is framed by another site: its cookie must be
        SameSite=None, Secure (an HTTPS address) and Partitioned (CHIPS: browsers that
        block third-party cookies keep a partitioned one for the frame); a plain local
        HTTP address (the demo) keeps Lax. Written by hand: Python 3.11's http.cookies
        knows no Partitioned attribute. Values are token_urlsafe: nothing to quote."""
        attrs = ["Path=/web", f"Max-Age={max_age}", "HttpOnly"]
        attrs += ["Secure", "SameSite=None", "Partitioned"] if self.secure else ["SameSite=Lax"]
        resp.headers.add("Set-Cookie", "; ".join([f"{name}={value}", *attrs]))

    async def _db(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Database work and rendering off the event loop."""
        return await asyncio.to_thread(fn, *args)

    def _signin_form(self, request: web.Request, template: str, **ctx: Any) -> web.Response:
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
        with use_locale(self.settings.locale):
            body = render(template, csrf=pre, **ctx)
        resp = web.Response(text=body, content_type="text/html")
        self._cookie(resp, PRE_COOKIE, pre, 900)
        return resp

    async def _form(self, request: web.Request) -> dict[str, str]:
        data = await request.post()
        return {k: v for k, v in data.items() if isinstance(v, str)}

    def _pre_ok(self, request: web.Request, form: dict[str, str]) -> bool:
        pre = request.cookies.get(PRE_COOKIE, "")
        return bool(pre) and secrets.compare_digest(pre, form.get("csrf", ""))

    def _signed_in(self, sid: str) -> web.Response:
        resp = see_other("/web/")
        self._cookie(resp, COOKIE, sid, int(SESSION_TTL.total_seconds()))
        self._cookie(resp, PRE_COOKIE, "", 0)
        return resp

    # -- one-time link ------------------------------------------------------------------
    async def link_get(self, request: web.Request) -> web.StreamResponse:
        """The preview-safe GET: one button, nothing consumed."""
        token = request.match_info["token"]
        ok = await self._db(self._peek, token)
        if not ok:
            log.info("web: unknown, used or expired link opened from %s", request.remote)
            return self._page(404, _("Liên kết không còn hiệu lực"), _(
                "Liên kết đã dùng hoặc đã hết hạn. Đồng chí gửi /web cho bot để nhận "
                "liên kết mới."))
        return self._signin_form(request, "link.html", action=request.path)

    def _peek(self, token: str) -> bool:
        with Session(self.engine) as s:
            return peek_link(s, token, self.clock())

    async def link_post(self, request: web.Request) -> web.StreamResponse:
        form = await self._form(request)
        if not self._pre_ok(request, form):
            log.info("web: link sign-in without a valid CSRF token from %s", request.remote)
            return self._page(403, _("Yêu cầu không hợp lệ"), _(
                "Phiên đăng nhập đã cũ. Đồng chí mở lại liên kết và bấm nút một lần nữa."))
        sid = await self._db(self._consume, request.match_info["token"])
        if sid is None:
            log.info("web: unknown, used or expired link posted from %s", request.remote)
            return self._page(404, _("Liên kết không còn hiệu lực"), _(
                "Liên kết đã dùng hoặc đã hết hạn. Đồng chí gửi /web cho bot để nhận "
                "liên kết mới."))
        return self._signed_in(sid)

    def _consume(self, token: str) -> str | None:
        with Session(self.engine) as s:
            now = self.clock()
            member_id = consume_link(s, token, now)
            if member_id is None:
                s.rollback()
                return None
            sid, _csrf = open_session(s, member_id=member_id, via="link", now=now)
            audit(s, "web_signin", "member", member_id, actor_id=member_id, via="link")
            s.commit()
            return sid

    # -- Telegram Mini App ----------------------------------------------------------------
    async def tg_get(self, request: web.Request) -> web.StreamResponse:
        """The Mini App's entry: a page whose script posts the launch data back."""
        return self._signin_form(request, "telegram.html")

    async def tg_post(self, request: web.Request) -> web.StreamResponse:
        form = await self._form(request)
        if not self._pre_ok(request, form):
            log.info("web: launch without a valid CSRF token from %s", request.remote)
            return self._page(403, _("Yêu cầu không hợp lệ"), _(
                "Phiên đăng nhập đã cũ. Đồng chí đóng và mở lại trang từ bot."))
        data = launch.validate(form.get("init_data", ""), self.settings.telegram.token,
                               self.clock().timestamp())
        if data is None:
            log.warning("web: launch data refused from %s", request.remote)
            return self._page(403, _("Không xác thực được"), _(
                "Không xác thực được dữ liệu từ Telegram. Đồng chí mở lại trang từ bot."))
        sid = await self._db(self._tg_session, str(data["user"]["id"]))
        if sid is None:
            return self._page(403, _("Không có quyền truy cập"), _(
                "Tài khoản Telegram này chưa liên kết với hồ sơ đảng viên nào."))
        return self._signed_in(sid)

    def _tg_session(self, user_id: str) -> str | None:
        with Session(self.engine) as s:
            ident = s.exec(select(Identity).where(Identity.platform == "telegram",
                                                  Identity.platform_user_id == user_id)).first()
            if ident is None:
                log.info("web: telegram user %s is not linked; refused", user_id)
                return None
            sid, _csrf = open_session(s, member_id=ident.member_id, via="telegram",
                                      now=self.clock())
            audit(s, "web_signin", "member", ident.member_id, actor_id=ident.member_id,
                  via="telegram")
            s.commit()
            return sid

    # -- session pages --------------------------------------------------------------------
    async def logout(self, request: web.Request) -> web.StreamResponse:
        form = await self._form(request)
        sid = request.cookies.get(COOKIE, "")
        ok = await self._db(self._logout, sid, form.get("csrf", ""))
        if not ok:
            return self._page(403, _("Yêu cầu không hợp lệ"), _("Không đăng xuất được."))
        resp = self._page(200, _("Đã đăng xuất"), _(
            "Đồng chí đã đăng xuất. Gửi /web cho bot để mở lại trang theo dõi."))
        self._cookie(resp, COOKIE, "", 0)
        return resp

    def _logout(self, sid: str, csrf: str) -> bool:
        with Session(self.engine) as s:
            ws = find_session(s, sid, self.clock()) if sid else None
            if ws is None or not secrets.compare_digest(ws.csrf, csrf):
                return False
            close_session(s, sid, self.clock())
            audit(s, "web_signout", "member", ws.member_id, actor_id=ws.member_id)
            s.commit()
            return True

    def view(self, fn: Callable[..., Reply]) -> Callable[[web.Request], Any]:
        """A read-only page: session checked, work and rendering in a thread."""
        async def handler(request: web.Request) -> web.StreamResponse:
            sid = request.cookies.get(COOKIE, "")
            reply: Reply = await self._db(self._serve, fn, sid, dict(request.match_info),
                                          dict(request.query), request.path_qs)
            if reply.redirect:
                return see_other(reply.redirect)
            resp = web.Response(status=reply.status, body=reply.body,
                                content_type=reply.content_type,
                                charset="utf-8" if isinstance(reply.body, str) else None)
            for k, v in reply.headers.items():
                resp.headers[k] = v
            return resp
        return handler

    def _serve(self, fn: Callable[..., Reply], sid: str, match: dict[str, str],
               query: dict[str, str], path: str) -> Reply:

        with Session(self.engine) as s:
            now = self.clock()
            ws = find_session(s, sid, now) if sid else None
            if ws is None:
                with use_locale(self.settings.locale):
                    return Reply(401, render("message.html", title=_("Chưa đăng nhập"), text=_(
                        "Đồng chí mở trang theo dõi từ bot: gửi /web trong tin nhắn riêng "
                        "với bot để nhận liên kết.")))
            viewer = Viewer.load(s, ws, self.settings, now)
            with use_locale(viewer.locale):
                reply = fn(s, viewer, match, query)
                # Every view is audited: who, what, when (the audit row's time), and
                # whether it was shown or refused.
                audit(s, "web_view" if reply.status < 400 else "web_denied", "page", None,
                      actor_id=ws.member_id, path=path[:300], status=reply.status)
                if reply.status >= 400:
                    log.info("web: member %s refused %s (%s)", ws.member_id, path[:300],
                             reply.status)
            s.commit()
            return reply

    async def static(self, request: web.Request) -> web.StreamResponse:
        found = static_file(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        resp = web.Response(body=found[0], content_type=found[1].split(";")[0],
                            charset="utf-8" if "charset" in found[1] else None)
        resp.headers["Cache-Control"] = "public, max-age=3600"
        return resp


def add_routes(app: web.Application, engine: Engine, settings: Settings,
               clock: Callable[[], datetime] = utcnow) -> WebView:
    """Add the web view to ``app`` (before it starts): its middleware acts under /web."""
    view = WebView(engine, settings, clock)
    app.middlewares.append(view.middleware)
    r = app.router
    r.add_get("/web/static/{name}", view.static)
    r.add_get("/web/l/{token}", view.link_get)
    r.add_post("/web/l/{token}", view.link_post)
    r.add_get("/web/tg", view.tg_get)
    r.add_post("/web/tg", view.tg_post)
    r.add_post("/web/logout", view.logout)
    for path, fn in page_routes():
        r.add_get(path, view.view(fn))
    return view
