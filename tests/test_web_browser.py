"""The web view in a real headless Chromium (Debian's ``chromium`` package, driven by
Playwright with ``executable_path``; never ``playwright install``): a one-time link and
Telegram launch data, forged and valid; the drill-down to a member and back; a phone and
a desk layout without horizontal scroll; page figures against the workbook; and no
request leaving 127.0.0.1.

Screenshots go to ``$CHIBOT_SCREENSHOTS_DIR`` when set (docs/web-dien-thoai.png and
docs/web-ban-lam-viec.png are made that way), else to the test's temporary folder."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from openpyxl import load_workbook

from bot.web import launch
from bot.web.server import add_routes
from handlers.views import cache as views_cache
from models.i18n import fmt_percent
from tests.helpers import FakeClock
from tests.webutil import BOT_TOKEN, NOW, link_for, seeded

CHROMIUM = os.environ.get("CHIBOT_CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason=f"no Chromium at {CHROMIUM} (CI installs Debian's chromium package)")
playwright = pytest.importorskip("playwright.async_api", reason="playwright not installed")

PHONE = {"width": 360, "height": 740}
DESK = {"width": 1366, "height": 768}
NO_HSCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def _shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("CHIBOT_SCREENSHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
async def served(engine, settings):  # type: ignore[no-untyped-def]
    officer = seeded(engine, settings)
    tg = settings.model_copy(update={"telegram": settings.telegram.model_copy(
        update={"token": BOT_TOKEN})})
    views_cache.clear()
    app = web.Application()
    add_routes(app, engine, tg, FakeClock(NOW))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}", officer
    finally:
        await server.close()


async def _follow(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Click a link and wait for the page it opens (never read the old page's text)."""
    async with page.expect_navigation():
        await page.click(selector)


async def _browser(p):  # type: ignore[no-untyped-def]
    return await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])


async def test_link_drill_down_layouts_and_workbook(served, engine, tmp_path) -> None:
    base, officer = served
    requests: list[str] = []
    async with playwright.async_playwright() as p:
        browser = await _browser(p)
        ctx = await browser.new_context(viewport=PHONE, locale="vi-VN")
        ctx.on("request", lambda r: requests.append(r.url))
        page = await ctx.new_page()
        # The link's GET shows a button and consumes nothing; the press signs in.
        await page.goto(base + link_for(engine, officer, NOW))
        await _follow(page, "button.primary")
        await page.wait_for_url("**/web/org/1?p=m2026-11")
        main = await page.inner_text("main")
        assert main.index("Còn thiếu") < main.index("Chi bộ đã sinh hoạt")  # missing first
        assert await page.evaluate(NO_HSCROLL)
        await page.screenshot(path=str(_shots(tmp_path) / "web-dien-thoai.png"))

        # bloc -> base organisation -> cell -> meeting -> member, and back
        await _follow(page, "#children tbody tr:first-child a")
        await page.wait_for_url("**/web/org/*")
        org_title = await page.inner_text("h1")
        assert org_title.startswith("Đảng bộ Sở")
        await _follow(page, "#children tbody tr:nth-child(2) a")  # its meeting was not valid
        assert (await page.inner_text("h1")).startswith("Chi bộ")
        assert await page.evaluate(NO_HSCROLL)
        await _follow(page, "#meetings tbody tr:first-child a")
        await page.wait_for_url("**/web/meeting/*")
        text = await page.inner_text("main")
        assert "Điểm danh" in text and "Không đủ số đảng viên dự họp" in text
        await _follow(page, "#attendance tbody tr:first-child a")
        await page.wait_for_url("**/web/member/*")
        assert "Đảng phí năm 2026" in await page.inner_text("main")
        assert await page.evaluate(NO_HSCROLL)
        await page.go_back()
        await page.go_back()
        await page.go_back()
        assert await page.inner_text("h1") == org_title

        # the desk: sortable tables, and the figures of the workbook
        await page.set_viewport_size(DESK)
        await page.goto(base + "/web/org/1?p=m2026-11")
        assert await page.evaluate(NO_HSCROLL)
        await page.screenshot(path=str(_shots(tmp_path) / "web-ban-lam-viec.png"))
        rate_head = page.locator("#children thead th").nth(6)
        await rate_head.click()
        assert await rate_head.get_attribute("aria-sort") == "ascending"
        rates = await page.locator("#children tbody td:nth-child(7)").all_inner_texts()
        assert rates == sorted(rates, key=lambda t: float(t.rstrip("%").replace(",", ".")))
        tiles = {await t.get_attribute("data-key"): await t.locator(".t-value").inner_text()
                 for t in await page.locator(".tile").all()}
        xlsx = await page.request.get(base + "/web/export/1/xlsx?p=m2026-11")
        assert xlsx.ok
        wb = load_workbook(io.BytesIO(await xlsx.body()))
        summary = {r[0]: r[1] for r in wb["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
        assert tiles["met"] == f"{summary['Chi bộ đã sinh hoạt']}/{summary['Số chi bộ']}"
        assert tiles["rate"] == fmt_percent(summary["Tỷ lệ dự họp"])
        assert tiles["unexcused"] == str(summary["Vắng không lý do"])
        assert tiles["unscored"] == str(summary["Chưa chấm điểm"])
        await browser.close()
    hosts = {urlsplit(u).hostname for u in requests if not u.startswith("data:")}
    assert hosts == {"127.0.0.1"}, hosts


async def test_telegram_launch_data_forged_and_valid(served, engine) -> None:
    base, _officer = served
    user = json.dumps({"id": 7000001, "first_name": "Cường",
                       "photo_url": "https:\\/\\/t.me\\/i\\/userpic\\/320\\/c.jpg"})
    fields = {"query_id": "AAH", "user": user, "auth_date": str(int(NOW.timestamp()))}
    theme = quote(json.dumps({"bg_color": "#17212b", "text_color": "#f5f5f5"}))
    requests: list[str] = []
    async with playwright.async_playwright() as p:
        browser = await _browser(p)
        ctx = await browser.new_context(viewport=PHONE)
        ctx.on("request", lambda r: requests.append(r.url))
        page = await ctx.new_page()
        forged = launch.sign(fields, "1:not-the-bot")
        await page.goto(f"{base}/web/tg#tgWebAppData={quote(forged)}&tgWebAppVersion=8.0")
        await page.wait_for_selector("text=Không xác thực được")  # the POST's answer
        assert "Không xác thực được" in await page.inner_text("main")
        assert "/web/org/" not in page.url
        valid = launch.sign(fields, BOT_TOKEN)
        page = await ctx.new_page()  # a fresh launch (the same URL but its #hash would not load)
        await page.goto(f"{base}/web/tg#tgWebAppData={quote(valid)}"
                        f"&tgWebAppThemeParams={theme}")
        await page.wait_for_url("**/web/org/1**")
        assert "tgWebAppData" not in page.url  # the launch data left the address bar
        bg = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert bg == "rgb(23, 33, 43)"  # Telegram's theme followed
        await browser.close()
    assert {urlsplit(u).hostname for u in requests} == {"127.0.0.1"}
