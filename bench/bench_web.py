"""Web view benchmark (issue 22): every page of the web view on the bench bloc, through
the real aiohttp routes on 127.0.0.1 (session check, queries, rendering, audit row).

Usage (after `chibot bench-seed --url URL`):
    python bench/bench_web.py --url URL [--period 2026-11] [--repeat 20] [--cold-repeat 8]
                              [--pages "bloc, year"]
Prints per page the median and p95 time of a whole request, warm and cold side by side,
and the page's size; targets p95 < 150 ms (both) and a page < 200 KB. *Warm*: the view's
60-second aggregate cache (handlers/views/cache.py) holds the page's figures. *Cold*: the
cache is emptied before every request (the first view of a page, period and scope in a
minute), so every aggregate runs again.
The bench bloc has no officer: one is appointed (a role row on the bloc), and each
request writes its audit row, as in production; the start-up heap is frozen once the
server is up, as ``chibot run`` freezes it.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func
from sqlmodel import Session, select

from bot.runner import freeze_heap
from bot.web.server import add_routes
from handlers.views import cache as views_cache
from models import i18n
from models.base import utcnow
from models.db import make_engine, migrate
from models.meeting import Meeting
from models.member import Member, Role, RoleAssignment
from models.org import Organisation
from models.settings import load_settings
from models.web import mint_link

P95_MS, PAGE_KB = 150, 200


def _officer(engine, period: str) -> tuple[int, dict[str, str]]:  # type: ignore[no-untyped-def]
    """An officer of the bloc, and one path per page kind on the bench tree."""
    with Session(engine) as s:
        bloc = s.exec(select(Organisation).where(Organisation.parent_id.is_(None))
                      .order_by(Organisation.id)).first()
        assert bloc is not None, "run chibot bench-seed first"
        base = s.exec(select(Organisation).where(Organisation.parent_id == bloc.id)
                      .order_by(Organisation.id)).first()
        cell = s.exec(select(Organisation).where(Organisation.parent_id == base.id)
                      .order_by(Organisation.id)).first()
        member = s.exec(select(Member).where(Member.cell_id == cell.id)
                        .order_by(Member.id)).first()
        meeting = s.exec(select(Meeting).where(Meeting.cell_id == cell.id,
                                               Meeting.period == period)).first()
        has = s.exec(select(func.count(RoleAssignment.id)).where(
            RoleAssignment.member_id == member.id, RoleAssignment.org_id == bloc.id,
            RoleAssignment.role == Role.OFFICER.value)).one()
        if not has:
            s.add(RoleAssignment(member_id=member.id, org_id=bloc.id, role=Role.OFFICER.value))
            s.commit()
        y, mo = period[:4], period
        q = f"q{y}-{(int(period[5:]) - 1) // 3 + 1}"
        paths = {
            "bloc, month": f"/web/org/{bloc.id}?p=m{mo}",
            "bloc, quarter": f"/web/org/{bloc.id}?p={q}",
            "bloc, year": f"/web/org/{bloc.id}?p=y{y}",
            "base org, month": f"/web/org/{base.id}?p=m{mo}",
            "base org, year": f"/web/org/{base.id}?p=y{y}",
            "cell, month": f"/web/org/{cell.id}?p=m{mo}",
            "cell, year": f"/web/org/{cell.id}?p=y{y}",
            "meeting": f"/web/meeting/{meeting.id}" if meeting else "",
            "member, month": f"/web/member/{member.id}?p=m{mo}",
            "member, year": f"/web/member/{member.id}?p=y{y}",
            "bloc lists, year": f"/web/lists/{bloc.id}?p=y{y}",
            "base lists, year": f"/web/lists/{base.id}?p=y{y}",
            "bloc trend (svg)": f"/web/trend/{bloc.id}?p=m{mo}",
            "cell trend (svg)": f"/web/trend/{cell.id}?p=m{mo}",
        }
        return member.id or 0, {k: v for k, v in paths.items() if v}


def _p95(times: list[float]) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


async def _times(client: TestClient, path: str, n: int, cold: bool) -> tuple[list[float], int]:
    """``n`` timed requests of ``path`` (after one untimed, which warms the statement
    caches), the cache emptied before each when ``cold``; and the page's size."""
    times, size = [], 0
    for i in range(n + 1):
        if cold:
            views_cache.clear()
        t0 = time.perf_counter()
        r = await client.get(path)
        body = await r.read()
        if i:
            times.append((time.perf_counter() - t0) * 1000)
        assert r.status == 200, (path, r.status)
        size = len(body)
    return times, size


async def run(url: str, period: str, repeat: int, cold_repeat: int,
              only: str = "") -> bool:
    settings = load_settings(None, database={"url": url})
    i18n.configure(settings.locales_dir, settings.locale)
    engine = make_engine(url)
    migrate(engine)
    officer, paths = _officer(engine, period)
    paths = {k: v for k, v in paths.items() if only in k}
    with Session(engine) as s:
        token = mint_link(s, member_id=officer, now=utcnow())
        s.commit()
    app = web.Application()
    add_routes(app, engine, settings)
    ok = True
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        page = await client.get(f"/web/l/{token}")
        m = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert m is not None
        csrf = m.group(1)
        await client.post(f"/web/l/{token}", data={"csrf": csrf}, allow_redirects=False)
        # As `chibot run` does once started (bot/runner.py): without it a full collection
        # walked the whole start-up heap inside one request in eight (~120 ms).
        freeze_heap()
        print(f"{'page':<18}{'warm p50':>9}{'p95':>7}{'cold p50':>10}{'p95':>7}{'KB':>7}  ok")
        for name, path in paths.items():
            warm, size = await _times(client, path, repeat, cold=False)
            cold = (await _times(client, path, cold_repeat, cold=True))[0] if cold_repeat \
                else []
            worst = max(_p95(warm), _p95(cold) if cold else 0.0)
            good = worst < P95_MS and size < PAGE_KB * 1024
            ok &= good
            cold_txt = (f"{statistics.median(cold):>10.1f}{_p95(cold):>7.1f}" if cold
                        else f"{'–':>10}{'–':>7}")
            print(f"{name:<18}{statistics.median(warm):>9.1f}{_p95(warm):>7.1f}{cold_txt}"
                  f"{size / 1024:>7.1f}  {'yes' if good else 'NO'}", flush=True)
    engine.dispose()
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", required=True, help="the bench database (chibot bench-seed)")
    ap.add_argument("--period", default="2026-11")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--cold-repeat", type=int, default=8,
                    help="cold requests per page (the view's cache emptied before each); "
                         "0: warm only")
    ap.add_argument("--pages", default="", help="only the pages whose name contains this")
    args = ap.parse_args()
    print(f"web view on {make_engine(args.url).dialect.name}, period {args.period}, "
          f"per page {args.repeat} warm and {args.cold_repeat} cold requests")
    ok = asyncio.run(run(args.url, args.period, args.repeat, args.cold_repeat,
                         args.pages))
    print("all pages within p95 < 150 ms and < 200 KB" if ok else "some pages over target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
