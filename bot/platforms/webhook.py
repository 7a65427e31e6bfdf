"""Hardening shared by the webhook servers of both adapters.

- A connection that does not deliver a complete request within ``IDLE_TIMEOUT`` (headers
  sent at 1 byte/s) is closed by aiohttp's keep-alive timer, which runs from the moment
  the connection opens.
- A body that does not arrive within ``READ_TIMEOUT`` (slowloris on the body) is cut with
  408 and the connection closed.
- A body that is not JSON is 400; the caller then checks its shape (400 again, never 500).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

READ_TIMEOUT = 10.0  # seconds to receive a whole request body
IDLE_TIMEOUT = 15.0  # seconds a connection may stay open without a complete request
MAX_BODY = 1024 * 1024  # bytes; updates are a few KB (aiohttp refuses larger with 413)


class BadBody(Exception):
    """The request body could not be read as JSON; ``status`` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def make_runner(app: web.Application) -> web.AppRunner:
    return web.AppRunner(app, keepalive_timeout=IDLE_TIMEOUT)


def make_app() -> web.Application:
    return web.Application(client_max_size=MAX_BODY)


async def read_json(request: web.Request, timeout: float | None = None) -> Any:
    try:
        raw = await asyncio.wait_for(request.read(), timeout or READ_TIMEOUT)
    except TimeoutError:
        log.warning("webhook: body from %s not received in %.0f s; connection cut",
                    request.remote, timeout or READ_TIMEOUT)
        if request.transport is not None:
            request.transport.close()
        raise BadBody(408, "Request Timeout") from None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise BadBody(400, "Bad Request") from None


def finite_int(value: Any) -> bool:
    """A JSON integer (not a bool, a float or a string)."""
    return isinstance(value, int) and not isinstance(value, bool)
