"""Helpers of the web view's tests: the demo bloc served on an ephemeral port, a
one-time link, signing in, reading tables out of a page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from html.parser import HTMLParser

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.demo_web import seed_demo
from bot.web.server import add_routes
from handlers.views import cache as views_cache
from models.base import utcnow
from models.member import Member
from models.settings import Settings
from models.web import mint_link
from tests.helpers import FakeClock

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 on 20/11/2026 in Hà Nội
BOT_TOKEN = "123456:TEST-token-for-the-web-view"


def member_named(engine: Engine, name: str) -> Member:
    with Session(engine) as s:
        return s.exec(select(Member).where(Member.full_name == name)).one()


def link_for(engine: Engine, member_id: int, now: datetime | None = None) -> str:
    with Session(engine) as s:
        token = mint_link(s, member_id=member_id, now=now or utcnow())
        s.commit()
    return f"/web/l/{token}"


@asynccontextmanager
async def web_client(engine: Engine, settings: Settings, clock: FakeClock
                     ) -> AsyncIterator[TestClient]:
    views_cache.clear()  # figures of another test's database (PostgreSQL: the same URL)
    app = web.Application()
    add_routes(app, engine, settings, clock)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        yield client


def seeded(engine: Engine, settings: Settings) -> int:
    """The demo bloc as of ``NOW``; the bloc officer's member id."""
    return seed_demo(engine, settings, NOW)


async def sign_in(client: TestClient, path: str) -> None:
    page = await client.get(path)
    assert page.status == 200, await page.text()
    csrf = csrf_of(await page.text())
    done = await client.post(path, data={"csrf": csrf}, allow_redirects=False)
    assert done.status == 303, await done.text()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


class Tables(HTMLParser):
    """Every <table id=…> of a page as rows of cell texts (thead and tbody)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._id: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.tiles: dict[str, str] = {}
        self._tile: str | None = None
        self._value = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._id = a.get("id") or f"t{len(self.tables)}"
            self.tables[self._id] = []
        elif tag == "tr" and self._id:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "div" and a.get("data-key"):
            self._tile = a["data-key"]
        elif tag == "div" and a.get("class") == "t-value" and self._tile:
            self._value = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._id:
            self.tables[self._id].append(self._row)
            self._row = None
        elif tag == "table":
            self._id = None
        elif tag == "div" and self._value:
            self._value = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._value and self._tile:
            self.tiles[self._tile] = self.tiles.get(self._tile, "") + data.strip()


def tables(html: str) -> Tables:
    t = Tables()
    t.feed(html)
    return t
