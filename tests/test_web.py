"""The web view (issue 22): launch-data validation, the one-time link and its preview
GET, sessions, CSRF, every refusal, the figures against the workbook, the audit, the
503 page, and /web in the chats."""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.app import App
from bot.platforms.telegram_markup import markup_json as _markup_json
from bot.web import launch
from models.audit import AuditEntry
from models.db import make_engine
from models.member import Identity, Member
from models.messages import Button, Outgoing, numbered
from models.org import Organisation
from models.outbox import OutboxMessage
from models.outbox_queue import to_outgoing, to_payload
from models.web import WebLink
from tests.helpers import Driver, FakeClock
from tests.webutil import (
    BOT_TOKEN,
    NOW,
    csrf_of,
    link_for,
    member_named,
    seeded,
    sign_in,
    tables,
    web_client,
)

USER = {"id": 7000001, "first_name": "Cường", "username": "cuong",
        "photo_url": "https:\\/\\/t.me\\/i\\/userpic\\/320\\/cuong.jpg"}


def _launch(user_json: str, auth_date: int, **extra: str) -> dict[str, str]:
    return {"query_id": "AAH", "user": user_json, "auth_date": str(auth_date), **extra}


# -- the validator ------------------------------------------------------------------------
def test_valid_launch_data_is_accepted_with_its_user() -> None:
    now = time.time()
    raw = launch.sign(_launch(json.dumps(USER), int(now) - 10), BOT_TOKEN)
    data = launch.validate(raw, BOT_TOKEN, now)
    assert data is not None and data["user"]["id"] == 7000001


def test_wrong_hash_and_wrong_token_are_refused() -> None:
    now = time.time()
    raw = launch.sign(_launch(json.dumps(USER), int(now)), BOT_TOKEN)
    assert launch.validate(raw, "999:other", now) is None
    tampered = raw.replace("7000001", "7000002")
    assert launch.validate(tampered, BOT_TOKEN, now) is None
    assert launch.validate(raw.rsplit("hash=", 1)[0] + "hash=" + "0" * 64, BOT_TOKEN,
                           now) is None


def test_stale_auth_date_is_refused() -> None:
    now = time.time()
    old = launch.sign(_launch(json.dumps(USER), int(now) - 3601), BOT_TOKEN)
    fresh = launch.sign(_launch(json.dumps(USER), int(now) - 3500), BOT_TOKEN)
    assert launch.validate(old, BOT_TOKEN, now) is None
    assert launch.validate(fresh, BOT_TOKEN, now) is not None


def test_fields_in_another_order_still_validate() -> None:
    """The check string is sorted: Telegram's order in the string does not matter."""
    now = time.time()
    fields = _launch(json.dumps(USER), int(now), chat_type="private")
    raw = launch.sign(fields, BOT_TOKEN)
    pairs = raw.split("&")
    assert launch.validate("&".join(reversed(pairs)), BOT_TOKEN, now) is not None


def test_photo_url_with_escaped_slashes_is_checked_as_received() -> None:
    """Telegram signs ``user`` as it sends it, with ``\\/``; a validator that parsed the
    JSON and serialised it again (``/``) would refuse every real user with a photo."""
    now = time.time()
    as_sent = '{"id":7000001,"first_name":"Cường","photo_url":"https:\\/\\/t.me\\/a.jpg"}'
    raw = launch.sign(_launch(as_sent, int(now)), BOT_TOKEN)
    data = launch.validate(raw, BOT_TOKEN, now)
    assert data is not None and data["user"]["photo_url"] == "https://t.me/a.jpg"
    reserialised = raw.replace(urlencode({"u": as_sent})[2:],
                               urlencode({"u": json.dumps(json.loads(as_sent))})[2:])
    assert reserialised != raw
    assert launch.validate(reserialised, BOT_TOKEN, now) is None


@pytest.mark.parametrize("raw", ["", "garbage", "a=1&a=2&hash=00", "hash=&auth_date=1",
                                 "user=%7B%7D&auth_date=x&hash=ab"])
def test_hostile_launch_data_is_refused(raw: str) -> None:
    assert launch.validate(raw, BOT_TOKEN, time.time()) is None


def test_launch_without_user_is_refused() -> None:
    """A Mini App opened from a reply-keyboard button gets no user: no entry that way."""
    now = time.time()
    raw = launch.sign({"query_id": "AAH", "auth_date": str(int(now))}, BOT_TOKEN)
    assert launch.validate(raw, BOT_TOKEN, now) is None


def test_duplicated_field_is_refused() -> None:
    now = time.time()
    raw = launch.sign(_launch(json.dumps(USER), int(now)), BOT_TOKEN)
    assert launch.validate(raw + "&auth_date=1", BOT_TOKEN, now) is None


# -- the one-time link -------------------------------------------------------------------
@pytest.fixture
def bloc(engine, settings):  # type: ignore[no-untyped-def]
    return seeded(engine, settings)


@pytest.fixture
def web_clock() -> FakeClock:
    return FakeClock(NOW)


async def test_preview_get_consumes_nothing(engine, settings, bloc, web_clock) -> None:
    path = link_for(engine, bloc, NOW)
    async with web_client(engine, settings, web_clock) as client:
        for _ in range(3):  # chat apps fetching the link for a preview
            r = await client.get(path)
            assert r.status == 200
            assert "chibot_sid" not in r.cookies
        with Session(engine) as s:
            assert s.exec(select(WebLink)).one().used_at is None
        await sign_in(client, path)
        home = await client.get("/web/")
        assert home.status == 200 and "Còn thiếu" in await home.text()
        again = await client.get(path)
        assert again.status == 404  # single use


async def test_post_without_csrf_changes_nothing(engine, settings, bloc, web_clock) -> None:
    path = link_for(engine, bloc, NOW)
    async with web_client(engine, settings, web_clock) as client:
        r = await client.post(path, data={"csrf": "forged"}, allow_redirects=False)
        assert r.status == 403
        with Session(engine) as s:
            assert s.exec(select(WebLink)).one().used_at is None
        await sign_in(client, path)  # the link still works for its owner


async def test_link_expires_after_ten_minutes(engine, settings, bloc, web_clock) -> None:
    path = link_for(engine, bloc, NOW)
    web_clock.advance(minutes=10, seconds=1)
    async with web_client(engine, settings, web_clock) as client:
        assert (await client.get(path)).status == 404
        page = await client.get("/web/l/" + "x" * 32)
        assert page.status == 404


async def test_session_cookie_is_httponly_and_ends(engine, settings, bloc, web_clock) -> None:
    path = link_for(engine, bloc, NOW)
    async with web_client(engine, settings, web_clock) as client:
        page = await client.get(path)
        r = await client.post(path, data={"csrf": csrf_of(await page.text())},
                              allow_redirects=False)
        cookie = r.headers.getall("Set-Cookie")
        sid = next(c for c in cookie if c.startswith("chibot_sid="))
        assert "HttpOnly" in sid and "SameSite" in sid and "Max-Age=28800" in sid
        home = await client.get("/web/")
        csrf = csrf_of(await home.text())
        out = await client.post("/web/logout", data={"csrf": csrf})
        assert out.status == 200
        assert (await client.get("/web/")).status == 401
        # and a session older than 8 hours is gone even without a logout
        await sign_in(client, link_for(engine, bloc, NOW))
        web_clock.advance(hours=8, seconds=1)
        assert (await client.get("/web/")).status == 401


async def test_logout_needs_the_session_csrf(engine, settings, bloc, web_clock) -> None:
    async with web_client(engine, settings, web_clock) as client:
        await sign_in(client, link_for(engine, bloc, NOW))
        assert (await client.post("/web/logout", data={"csrf": "x"})).status == 403
        assert (await client.get("/web/")).status == 200


# -- Telegram launch -----------------------------------------------------------------------
async def _tg_post(client, raw: str):  # type: ignore[no-untyped-def]
    page = await client.get("/web/tg")
    return await client.post("/web/tg", data={"csrf": csrf_of(await page.text()),
                                              "init_data": raw}, allow_redirects=False)


async def test_telegram_launch_opens_a_session(engine, settings, bloc, web_clock) -> None:
    tg = settings.model_copy(update={"telegram": settings.telegram.model_copy(
        update={"token": BOT_TOKEN})})
    now = int(NOW.timestamp())
    async with web_client(engine, tg, web_clock) as client:
        forged = launch.sign(_launch(json.dumps(USER), now), "1:forged")
        r = await _tg_post(client, forged)
        assert r.status == 403 and "Không xác thực được" in await r.text()
        stranger = launch.sign(_launch(json.dumps({**USER, "id": 42}), now), BOT_TOKEN)
        r = await _tg_post(client, stranger)
        assert r.status == 403 and "chưa liên kết" in await r.text()
        valid = launch.sign(_launch(json.dumps(USER), now), BOT_TOKEN)
        r = await _tg_post(client, valid)
        assert r.status == 303
        assert (await client.get("/web/")).status == 200


# -- who sees what ------------------------------------------------------------------------
def _org_id(engine, name: str, parent: str | None = None) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        q = select(Organisation).where(Organisation.name == name)
        if parent:
            pid = s.exec(select(Organisation.id).where(Organisation.name == parent)).one()
            q = q.where(Organisation.parent_id == pid)
        return s.exec(q).one().id or 0


async def _as(client, engine, name: str) -> None:  # type: ignore[no-untyped-def]
    await sign_in(client, link_for(engine, member_named(engine, name).id or 0, NOW))


async def test_every_refusal_is_a_403_page(engine, settings, bloc, web_clock) -> None:
    tc = _org_id(engine, "Đảng bộ Sở Tài chính")
    gd = _org_id(engine, "Đảng bộ Sở Giáo dục và Đào tạo")
    qlns = _org_id(engine, "Chi bộ Phòng Quản lý ngân sách")
    gdth = _org_id(engine, "Chi bộ Phòng Giáo dục Trung học")
    other = member_named(engine, "Lâm Văn Sơn").id  # in Sở Giáo dục
    async with web_client(engine, settings, web_clock) as client:
        assert (await client.get(f"/web/org/{tc}")).status == 401  # no session
        await _as(client, engine, "Nguyễn Văn An")  # officer of Đảng bộ Sở Tài chính
        assert (await client.get(f"/web/org/{tc}")).status == 200
        assert (await client.get(f"/web/org/{qlns}")).status == 200
        for path in (f"/web/org/{gd}", f"/web/org/{gdth}", f"/web/member/{other}",
                     f"/web/export/{gd}/xlsx", "/web/org/1", "/web/org/999999",
                     "/web/org/abc", "/web/meeting/999999"):
            r = await client.get(path)
            assert r.status == 403, path
            assert "không có quyền" in (await r.text())
    async with web_client(engine, settings, web_clock) as client:
        await _as(client, engine, "Lâm Văn Sơn")  # secretary of his cell only
        assert (await client.get(f"/web/org/{gdth}")).status == 200
        assert (await client.get(f"/web/org/{gd}")).status == 403
        assert (await client.get(f"/web/org/{qlns}")).status == 403
    async with web_client(engine, settings, web_clock) as client:
        await _as(client, engine, "Hồ Đức Thắng")  # a member: his own page only
        home = await client.get("/web/", allow_redirects=False)
        me = member_named(engine, "Hồ Đức Thắng").id
        assert home.headers["Location"].startswith(f"/web/member/{me}")
        assert (await client.get(f"/web/member/{me}")).status == 200
        assert (await client.get(f"/web/member/{other}")).status == 403
        assert (await client.get(f"/web/org/{qlns}")).status == 403


async def test_every_view_is_audited(engine, settings, bloc, web_clock) -> None:
    gd = _org_id(engine, "Đảng bộ Sở Giáo dục và Đào tạo")
    async with web_client(engine, settings, web_clock) as client:
        await _as(client, engine, "Nguyễn Văn An")
        await client.get(f"/web/org/{gd}")
    with Session(engine) as s:
        rows = list(s.exec(select(AuditEntry).where(AuditEntry.action.in_(
            ("web_view", "web_denied", "web_signin")))))
    an = member_named(engine, "Nguyễn Văn An").id
    assert [r.action for r in rows][-1] == "web_denied"
    assert rows[-1].actor_id == an and rows[-1].detail["path"] == f"/web/org/{gd}"
    assert any(r.action == "web_signin" for r in rows)


# -- figures -------------------------------------------------------------------------------
def _pct(value: float | None) -> str:
    from models.i18n import fmt_percent

    return fmt_percent(value) if value is not None else "—"


async def test_page_figures_equal_the_workbook(engine, settings, bloc, web_clock) -> None:
    async with web_client(engine, settings, web_clock) as client:
        await sign_in(client, link_for(engine, bloc, NOW))
        for p in ("m2026-11", "q2026-3", "y2026"):
            page = tables(await (await client.get(f"/web/org/1?p={p}")).text())
            xlsx = await client.get(f"/web/export/1/xlsx?p={p}")
            assert xlsx.status == 200
            wb = load_workbook(io.BytesIO(await xlsx.read()))
            summary = {r[0]: r[1] for r in wb["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
            assert page.tiles["met"] == f"{summary['Chi bộ đã sinh hoạt']}/{summary['Số chi bộ']}"
            assert page.tiles["not_met"] == str(summary["Chi bộ chưa sinh hoạt"])
            assert page.tiles["unscored"] == str(summary["Chưa chấm điểm"])
            assert page.tiles["not_held"] == str(summary["Buổi không đủ điều kiện"])
            assert page.tiles["unexcused"] == str(summary["Vắng không lý do"])
            assert page.tiles["rate"] == _pct(summary["Tỷ lệ dự họp"])
            sheet = [r for r in wb["Tổ chức cơ sở"].iter_rows(min_row=2, values_only=True)]
            rows = page.tables["children"][1:]
            assert len(rows) == len(sheet) > 0
            for html_row, x in zip(rows, sheet, strict=True):
                assert html_row[0] == x[0]
                assert [int(v) for v in html_row[1:6]] == list(x[1:6])
                assert html_row[6] == _pct(x[6])
                assert int(html_row[7]) == x[7]
        cell = _org_id(engine, "Chi bộ Phòng Quản lý ngân sách")
        page = tables(await (await client.get(f"/web/org/{cell}?p=y2026")).text())
        wb = load_workbook(io.BytesIO(await (await client.get(
            f"/web/export/{cell}/xlsx?p=y2026")).read()))
        sheet = list(wb["Buổi sinh hoạt"].iter_rows(min_row=2, values_only=True))
        rows = page.tables["meetings"][1:]
        assert len(rows) == len(sheet) == 11  # January to November
        for html_row, x in zip(rows, sheet, strict=True):
            assert [int(v) for v in html_row[4:6]] == list(x[6:8])
            assert html_row[6] == _pct(x[8])
        members = list(wb["Đảng viên"].iter_rows(min_row=2, values_only=True))
        assert [r[0] for r in page.tables["members"][1:]] == [m[1] for m in members]


async def test_missing_first_names_secretary_and_unlinked(engine, settings, bloc,
                                                        web_clock) -> None:
    async with web_client(engine, settings, web_clock) as client:
        await sign_in(client, link_for(engine, bloc, NOW))
        html = await (await client.get("/web/org/1?p=m2026-11")).text()
    assert html.index("Còn thiếu") < html.index('class="tiles"')
    missing = tables(html).tables["t0"]
    cells = {r[0]: r for r in missing[1:]}
    gdth = cells["Chi bộ Phòng Giáo dục Trung học — Đảng bộ Sở Giáo dục và Đào tạo"]
    assert gdth[1] == "chưa sinh hoạt" and gdth[2] == "Lâm Văn Sơn" and gdth[3] == "19"
    vp = cells["Chi bộ Văn phòng Sở — Đảng bộ Sở Giáo dục và Đào tạo"]
    assert vp[1].startswith("không đủ điều kiện — Không đủ số đảng viên")
    assert "Tạ Thị Hạnh" in html and "Phạm Thị Thu Hà" in html  # not linked, by name


async def test_english_for_members_who_chose_it(engine, settings, bloc, web_clock) -> None:
    with Session(engine) as s:
        m = s.get(Member, bloc)
        assert m is not None
        m.locale = "en"
        s.add(m)
        s.commit()
    async with web_client(engine, settings, web_clock) as client:
        await sign_in(client, link_for(engine, bloc, NOW))
        html = await (await client.get("/web/org/1?p=m2026-11")).text()
    assert "Missing" in html and "Còn thiếu" not in html


async def test_headers_allow_telegram_to_frame_and_nothing_else(engine, settings, bloc,
                                                                web_clock) -> None:
    async with web_client(engine, settings, web_clock) as client:
        r = await client.get(link_for(engine, bloc, NOW))
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors" in csp
        assert "web.telegram.org" in csp and "X-Frame-Options" not in r.headers
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        css = await client.get("/web/static/app.css")
        assert css.status == 200 and len(await css.read()) < 8000
        assert (await client.get("/web/static/..%2Fserver.py")).status == 404


async def test_database_down_gives_a_polite_503(settings, tmp_path, web_clock) -> None:
    dead = make_engine(f"sqlite:///{tmp_path}/missing-dir/x.sqlite3")
    try:
        async with web_client(dead, settings, web_clock) as client:
            client.session.cookie_jar.update_cookies({"chibot_sid": "x" * 43})
            r = await client.get("/web/")
            assert r.status == 503 and "thử lại" in await r.text()
            assert r.headers["Retry-After"] == "30"
            r = await client.get("/web/l/" + "y" * 32)
            assert r.status == 503
    finally:
        dead.dispose()


# -- /web in the chats ---------------------------------------------------------------------
async def test_web_command_sends_a_private_one_time_link(driver: Driver, app: App) -> None:
    out = await driver.say("Nguyễn Văn An", "/web")
    assert len(out) == 1 and "/web/l/" in out[0] and "10 phút" in out[0]
    assert not driver.messenger.sent[-1].buttons  # the console/Zalo gets the plain link
    out = await driver.say("Dương Văn Thành", "/web", group=True)
    sent = driver.messenger.sent
    links = [o for o in sent[-len(out):] if "/web/l/" in o.text]
    assert len(links) == 1 and not links[0].chat_id.startswith("group-")
    assert any("tin nhắn riêng" in t for t in out)
    with Session(app.engine) as s:
        assert len(list(s.exec(select(WebLink)))) == 2


async def test_web_command_offers_the_mini_app_on_telegram(driver: Driver, app: App) -> None:
    app.router.settings = app.settings.model_copy(update={"web": app.settings.web.model_copy(
        update={"public_url": "https://chibot.example.vn"})})
    m = driver.member("Nguyễn Văn An")
    with Session(app.engine) as s:
        s.add(Identity(member_id=m.id or 0, platform="telegram", platform_user_id="555",
                       private_chat_id="555"))
        s.commit()
    from models.messages import Chat, Incoming, Sender

    app.handle(Incoming(platform="telegram", update_id="t1", chat=Chat("555", "private"),
                        sender=Sender("555", "An"), text="/web"))
    with Session(app.engine) as s:
        rows = [to_outgoing(r) for r in s.exec(select(OutboxMessage).where(
            OutboxMessage.platform == "telegram").order_by(OutboxMessage.id))]
    out, menu = rows  # the link, then the chat's menu button (An is an officer)
    assert menu.menu_button == "https://chibot.example.vn/web/tg" and not menu.buttons
    button = out.buttons[0][0]
    assert button.kind == "web_app" and button.data == "https://chibot.example.vn/web/tg"
    assert "https://chibot.example.vn/web/l/" in out.text
    assert _markup_json(out.buttons) == {"inline_keyboard": [[{
        "text": button.label, "web_app": {"url": "https://chibot.example.vn/web/tg"}}]]}


def test_link_buttons_survive_the_outbox_and_are_no_numbered_choice() -> None:
    kb = ((Button("Mở", "https://x.vn/web/tg", "web_app"), Button("Trang", "https://x.vn", "url")),
          (Button("Có", "rsvp:1:y"),))
    payload = to_payload(Outgoing("telegram", "1", "t", kb, key="k"), False)
    row = OutboxMessage(platform="telegram", chat_id="1", payload=payload, idempotency_key="k")
    assert to_outgoing(row).buttons == kb
    assert numbered("t", kb) == "t\n\n1. Có"
    assert _markup_json(kb)["inline_keyboard"][0][1] == {"text": "Trang", "url": "https://x.vn"}


def test_link_is_stored_as_a_digest_only(engine, settings, bloc) -> None:
    path = link_for(engine, bloc, NOW)
    with Session(engine) as s:
        row = s.exec(select(WebLink)).one()
    assert path.rsplit("/", 1)[1] not in row.token_hash and len(row.token_hash) == 64
    assert row.expires_at - row.created_at == timedelta(minutes=10)


async def test_unlinked_list_names_the_first_cells_and_counts_the_rest(
        engine, settings, bloc, web_clock, monkeypatch) -> None:
    from handlers.views import overview

    monkeypatch.setattr(overview, "UNLINKED_CELLS", 1)
    async with web_client(engine, settings, web_clock) as client:
        await sign_in(client, link_for(engine, bloc, NOW))
        html = await (await client.get("/web/org/1?p=m2026-11")).text()
    assert "Phạm Thị Thu Hà" in html and "Tạ Thị Hạnh" not in html  # tree order
    assert "và 1 đảng viên ở 1 chi bộ khác" in html
    assert tables(html).tiles["unlinked"] == "2"


async def test_trend_draws_gaps_and_counts_cells_not_met(engine, settings, bloc,
                                                         web_clock) -> None:
    from handlers.views.trends import series
    from models import reports

    gdth = _org_id(engine, "Chi bộ Phòng Giáo dục Trung học")
    gd = _org_id(engine, "Đảng bộ Sở Giáo dục và Đào tạo")
    with Session(engine) as s:
        cell = s.get(Organisation, gdth)
        data = series(s, cell, reports.month(2026, 11))
        assert data["labels"][-1] == "11/26" and len(data["labels"]) == 12
        rates = data["rate"][gdth]
        assert rates[-1] != rates[-1]  # NaN: November not met, a gap and not 0
        assert all(r == r for r in rates[:-1])
        bloc_org = s.get(Organisation, 1)
        months = reports.months_back("2026-11", 12)
        assert series(s, bloc_org, reports.month(2026, 11))["not_met"] == [
            reports.summary(s, bloc_org, reports.month(int(m[:4]), int(m[5:])))["not_met"]
            for m in months]
    async with web_client(engine, settings, web_clock) as client:
        await _as(client, engine, "Lâm Văn Sơn")  # secretary of that cell
        svg = await client.get(f"/web/trend/{gdth}?p=m2026-11")
        assert svg.status == 200 and svg.content_type == "image/svg+xml"
        body = await svg.text()
        assert body.startswith("<svg") and "Chi bộ chưa sinh hoạt" in body
        assert (await client.get(f"/web/trend/{gd}?p=m2026-11")).status == 403


async def test_lists_show_flags_plan_fees_and_classification(engine, settings, bloc,
                                                             web_clock) -> None:
    from models import dieu8

    gd = _org_id(engine, "Đảng bộ Sở Giáo dục và Đào tạo")
    async with web_client(engine, settings, web_clock) as client:
        await _as(client, engine, "Nguyễn Văn An")
        assert (await client.get(f"/web/lists/{gd}?p=y2026")).status == 403
    async with web_client(engine, settings, web_clock) as client:
        await sign_in(client, link_for(engine, bloc, NOW))
        r = await client.get("/web/lists/1?p=m2026-11")
        assert r.status == 200
        html = await r.text()
    page = tables(html)
    with Session(engine) as s:
        watch = dieu8.members_to_watch(s, s.get(Organisation, 1), "2026-11")
    order = ("flag", "warn", "attention")  # the flagged first, then as the query lists them
    watch.sort(key=lambda w: order.index(w["level"].value))
    assert [row[0] for row in page.tables.get("dieu8", [[]])[1:]] == [w["name"] for w in watch]
    assert watch, "the demo bloc has members to watch"
    assert len(page.tables["plan"]) == 5 and len(page.tables["fees"]) == 5  # 4 cells
    assert len(page.tables["classification"]) == 5
    targets = page.tables["targets"]
    assert "Hoàn thành xuất sắc không quá 20%" in targets[-1][0]
    with Session(engine) as s:  # the tile's count, by name
        from models.records import cells_without_upper_attendee

        no_upper = cells_without_upper_attendee(s, "/1/", ["2026-10", "2026-11", "2026-12"])
    assert no_upper and all(f"/web/org/{cid}?" in html for cid, _name in no_upper)


async def test_meeting_documents_download_for_the_cell_only(engine, settings, bloc,
                                                            web_clock) -> None:
    from models.files import StoredFile
    from models.meeting import Meeting
    from models.records import DocumentRevision

    qlns = _org_id(engine, "Chi bộ Phòng Quản lý ngân sách")
    with Session(engine) as s:
        m = s.exec(select(Meeting).where(Meeting.cell_id == qlns,
                                         Meeting.period == "2026-10")).one()
        f = StoredFile(filename="bien-ban-10-2026.docx", size=4, data=b"PK\x03\x04")
        s.add(f)
        s.flush()
        s.add(DocumentRevision(meeting_id=m.id or 0, doc_type="bienban", revision=1,
                               final=True, file_id=f.id or 0))
        s.commit()
        mid = m.id
    async with web_client(engine, settings, web_clock) as client:
        await _as(client, engine, "Dương Văn Thành")  # the cell's secretary
        page = await client.get(f"/web/meeting/{mid}")
        html = await page.text()
        assert f"/web/doc/{mid}/bienban" in html and f"/web/doc/{mid}/nghiquyet" not in html
        doc = await client.get(f"/web/doc/{mid}/bienban")
        assert doc.status == 200 and await doc.read() == b"PK\x03\x04"
        assert "bien-ban-10-2026.docx" in doc.headers["Content-Disposition"]
        assert (await client.get(f"/web/doc/{mid}/nghiquyet")).status == 404
        assert (await client.get(f"/web/doc/{mid}/../../etc")).status in (403, 404)
    async with web_client(engine, settings, web_clock) as client:
        await _as(client, engine, "Lâm Văn Sơn")  # another cell's secretary
        assert (await client.get(f"/web/doc/{mid}/bienban")).status == 403
        assert (await client.get(f"/web/meeting/{mid}")).status == 403


async def test_chibot_run_serves_the_view_on_its_http_server(app: App) -> None:
    """The runner's HTTP server (web.port 0 in tests: an ephemeral port) carries /web."""
    import aiohttp

    from bot.runner import _http_routes
    from bot.web.http import start_http

    started = await start_http(app.settings, _http_routes(app))
    assert started is not None
    runner, port = started
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/web/") as r:
                assert r.status == 401 and "/web" in await r.text()
            async with http.get(f"http://127.0.0.1:{port}/web/static/app.css") as r:
                assert r.status == 200
    finally:
        await runner.cleanup()


async def test_https_cookies_can_live_in_telegram_webs_frame(engine, settings, bloc,
                                                             web_clock) -> None:
    https = settings.model_copy(update={"web": settings.web.model_copy(
        update={"public_url": "https://chibot.example.vn"})})
    async with web_client(engine, https, web_clock) as client:
        page = await client.get(link_for(engine, bloc, NOW))
        pre = page.headers["Set-Cookie"]
        assert "Secure" in pre and "SameSite=None" in pre and "Partitioned" in pre
        assert "HttpOnly" in pre and "Path=/web" in pre


async def test_demo_web_serves_the_demo_bloc_with_a_printed_link(settings) -> None:
    import asyncio

    import aiohttp

    from bot.demo_web import serve_demo

    stop, lines = asyncio.Event(), []
    task = asyncio.create_task(serve_demo(settings, stop, lines.append))
    try:
        for _ in range(600):
            if lines or task.done():
                break
            await asyncio.sleep(0.05)  # polling for the printed line, not a fixed wait
        url = lines[0].split(": ", 1)[1]
        assert url.startswith("http://127.0.0.1:") and "/web/l/" in url
        # a browser keeps cookies of 127.0.0.1; aiohttp's jar needs to be told
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(url) as r:
                html = await r.text()
                assert r.status == 200
            csrf = csrf_of(html)
            async with http.post(url, data={"csrf": csrf}) as r:  # follows to the overview
                assert r.status == 200 and "Còn thiếu" in await r.text()
    finally:
        stop.set()
        assert await task == 0
