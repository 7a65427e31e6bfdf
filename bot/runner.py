"""`chibot run`: serve every configured platform from one process.

One platform failing to start (bad token, API down) is logged and the others go on; the
outbox keeps its messages until that platform is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys

from sqlalchemy import Engine
from sqlmodel import Session

from bot.app import App
from bot.health import HealthProbe, add_health_routes, probe_engine
from bot.scheduler import CycleRunner
from bot.web.http import RouteAdder, start_http
from handlers.onboarding.help import refresh_all
from models.db import make_engine, migrate
from models.dberrors import backoff, describe, is_transient
from models.messages import Adapter, PlatformGone
from models.settings import Settings

log = logging.getLogger(__name__)

START_WAIT_CAP = 30.0  # seconds between attempts to reach the database at start, at most


def build_adapters(app: App) -> list[Adapter]:
    adapters: list[Adapter] = []
    s = app.settings
    if s.telegram.token:
        from bot.platforms.telegram import TelegramAdapter

        adapters.append(TelegramAdapter(s.telegram, app.receive, menu=app.menu,
                                         handle_many=app.receive_many))
    if s.zalo.token:
        from bot.platforms.zalo import ZaloAdapter

        adapters.append(ZaloAdapter(s.zalo, app.receive, files_dir=s.data_dir / "zalo-files"))
    return adapters


async def start_adapters(app: App, adapters: list[Adapter]) -> list[Adapter]:
    started = []
    for adapter in adapters:
        try:
            await adapter.start()
        except Exception:
            log.exception("%s could not start; the other platforms go on", adapter.platform)
            continue
        app.add_messenger(adapter)
        started.append(adapter)
    return started


def freeze_heap() -> None:
    """What start-up built (modules, mappers, compiled statements, PTB's classes) lives
    as long as the process: take it out of the collector's sight, so that a full
    collection walks only what the work creates. On the fan-out bench a full pass over
    the start-up heap took 57–88 ms, all of it blocking the event loop."""
    gc.collect()
    gc.freeze()


async def _run_one(app: App, adapter: Adapter, stop: asyncio.Event, alive: set[str]) -> None:
    try:
        await adapter.run(stop)
    except PlatformGone as gone:
        # One line in plain words, no traceback: the cause is outside the process.
        alive.discard(adapter.platform)
        await app.sender.drop_messenger(adapter.platform)  # its messages wait in the outbox
        with contextlib.suppress(Exception):
            await adapter.stop()
        if alive:
            log.error("%s; still serving %s", gone, ", ".join(sorted(alive)))
        else:
            log.error("%s; no platform is left, chibot exits", gone)
            stop.set()
    except Exception:
        alive.discard(adapter.platform)
        if alive:
            log.exception("%s stopped with an error; the other platforms go on",
                          adapter.platform)
            return
        # Nothing left to serve: end the process so a supervisor restarts it, rather
        # than live on deaf.
        log.exception("%s stopped with an error and no platform is left; chibot exits",
                      adapter.platform)
        stop.set()


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True


async def wait_for_database(settings: Settings, stop: asyncio.Event) -> Engine | None:
    """The engine, once the database answers and its schema is up to date; None when
    stopped while waiting. A database that cannot be reached at start (not up yet after a
    reboot, a network hiccup) is waited for with backoff up to ``START_WAIT_CAP`` seconds,
    one line per attempt, instead of a traceback and exit 1 that a supervisor would turn
    into a restart loop. Other errors (wrong password, a failing migration) still raise."""
    engine = make_engine(settings.database_url, settings.database.echo)
    attempt = 0
    while True:
        try:
            await asyncio.to_thread(migrate, engine)
            if attempt:
                print("Đã kết nối được cơ sở dữ liệu; chibot khởi động.", file=sys.stderr,
                      flush=True)
            return engine
        except Exception as exc:
            if not is_transient(exc):
                engine.dispose()
                raise
            attempt += 1
            wait = backoff(attempt, first=1.0, cap=START_WAIT_CAP)
            print(f"Chưa kết nối được cơ sở dữ liệu (lần {attempt}: {describe(exc)}); "
                  f"thử lại sau {wait:.0f} giây.", file=sys.stderr, flush=True)
            if await _stopped_within(stop, wait):
                engine.dispose()
                return None


def _refresh_menus(app: App) -> None:
    """Queue each Telegram member's own menu where it changed (a worker thread: SQL)."""
    try:
        with Session(app.engine) as s:
            n = refresh_all(s, app.clock())
            s.commit()
        if n:
            log.info("telegram: %d personal command menus queued", n)
    except Exception:  # menus are a convenience: never stop the bot for them
        log.exception("telegram: personal menus not refreshed")


def _http_routes(app: App, probe: HealthProbe | None = None) -> list[RouteAdder]:
    """What the HTTP server serves once the database answers: /healthz and, unless
    turned off, the web view."""
    from bot.web.server import add_routes

    adders: list[RouteAdder] = []
    if probe is not None:
        adders.append(lambda web_app: add_health_routes(web_app, probe))
    if app.settings.web.enabled:
        adders.append(lambda web_app: add_routes(web_app, app.engine, app.settings,
                                                 app.clock))
    return adders


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Serve until stopped; returns the process exit code (1: no platform could run)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    # Up before the database, so that a monitor sees 503 while chibot waits for it.
    probe = HealthProbe(probe_engine(settings.database_url), lambda: None)
    http = await start_http(settings, [lambda web_app: add_health_routes(web_app, probe)])
    try:
        engine = await wait_for_database(settings, stop)
        if engine is None:
            return 0  # stopped while waiting: a clean stop
        app = App(settings, engine=engine, migrate_db=False)
        probe.last_update = lambda: app.intake.last_handled_at
        # The web view needs the database: the full server replaces the health-only one
        # (routes cannot be added to a running aiohttp application).
        if http is not None:
            await http[0].cleanup()
        http = await start_http(settings, _http_routes(app, probe))
        return await _serve_app(app, settings, stop)
    finally:
        if http is not None:
            await http[0].cleanup()
        probe.engine.dispose()


async def _serve_app(app: App, settings: Settings, stop: asyncio.Event) -> int:
    app.intake.stop = stop  # an outage at shutdown gives updates back unacknowledged
    started = await start_adapters(app, build_adapters(app))
    if not started:
        log.error("no platform could start")
        app.close()
        return 1
    if "telegram" in {a.platform for a in started}:
        await asyncio.to_thread(_refresh_menus, app)
    cycle = CycleRunner(app.engine, settings, app.clock, health=app.health)
    cycle.start()
    freeze_heap()
    alive = {a.platform for a in started}
    try:
        await asyncio.gather(app.sender.run(stop),
                             *(_run_one(app, a, stop, alive) for a in started))
    finally:
        await cycle.stop()
        for a in started:
            if a.platform in alive:  # a gone one was stopped already
                with contextlib.suppress(Exception):
                    await a.stop()
        app.close()
    return 0 if alive else 1
