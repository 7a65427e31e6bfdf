"""The HTTP server `chibot run` and `chibot demo --web` open for the web view (and, when
merged, for ``/healthz``): one ``aiohttp.web.Application``, each feature adding its
routes. Failing to listen is logged and the bot goes on: chat comes first."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from aiohttp import web

from bot.platforms.webhook import make_app, make_runner
from models.settings import Settings

log = logging.getLogger(__name__)

RouteAdder = Callable[[web.Application], object]


async def start_http(settings: Settings, adders: Sequence[RouteAdder]
                     ) -> tuple[web.AppRunner, int] | None:
    """Listen on ``web.host``/``web.port`` (0: an ephemeral port) with every adder's
    routes; the runner (to clean up) and the port, or None when it could not listen."""
    app = make_app()
    for add in adders:
        add(app)
    runner = make_runner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.web.host, settings.web.port)
    try:
        await site.start()
    except OSError as exc:
        log.error("web: cannot listen on %s:%s (%s); /healthz and the web view are off, the "
                  "bot goes on", settings.web.host, settings.web.port, exc.strerror or exc)
        await runner.cleanup()
        return None
    port = settings.web.port
    server = getattr(site, "_server", None)
    if server is not None and server.sockets:
        port = server.sockets[0].getsockname()[1]
    log.info("web: listening on http://%s:%s/web/", settings.web.host, port)
    return runner, port
