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

from bot.app import App
from bot.scheduler import CycleRunner
from bot.web.http import RouteAdder, start_http
from models.messages import Adapter
from models.settings import Settings

log = logging.getLogger(__name__)


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


async def _run_one(adapter: Adapter, stop: asyncio.Event, alive: set[str]) -> None:
    try:
        await adapter.run(stop)
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


def _http_routes(app: App) -> list[RouteAdder]:
    """What the HTTP server serves: the web view (issue 22)."""
    from bot.web.server import add_routes

    return [lambda web_app: add_routes(web_app, app.engine, app.settings, app.clock)]


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Serve until stopped; returns the process exit code (1: no platform could run)."""
    app = App(settings)
    stop = stop or asyncio.Event()
    app.intake.stop = stop  # an outage at shutdown gives updates back unacknowledged
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    started = await start_adapters(app, build_adapters(app))
    if not started:
        log.error("no platform could start")
        app.close()
        return 1
    cycle = CycleRunner(app.engine, settings, app.clock, health=app.health)
    cycle.start()
    http = await start_http(settings, _http_routes(app)) if settings.web.enabled else None
    freeze_heap()
    alive = {a.platform for a in started}
    try:
        await asyncio.gather(app.sender.run(stop),
                             *(_run_one(a, stop, alive) for a in started))
    finally:
        cycle.shutdown()
        if http is not None:
            await http[0].cleanup()
        for a in started:
            with contextlib.suppress(Exception):
                await a.stop()
        app.close()
    return 0 if alive else 1
