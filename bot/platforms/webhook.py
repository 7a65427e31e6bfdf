"""Hardening shared by the webhook servers of both adapters.

- A connection that does not deliver a complete request within ``IDLE_TIMEOUT`` (headers
  sent at 1 byte/s) is closed by aiohttp's keep-alive timer, which runs from the moment
  the connection opens.
- A body that does not arrive within ``READ_TIMEOUT`` (slowloris on the body) is cut with
  408 and the connection closed.
- A body that is not JSON is 400; the caller then checks its shape (400 again, never 500).
- Updates that arrive while earlier ones are being handled are handled together
  (``Batcher``), as a polling batch is.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from aiohttp import web

log = logging.getLogger(__name__)

T = TypeVar("T")

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


class Batcher(Generic[T]):
    """Requests that arrive while ``workers`` batches are being handled wait and are
    handled together, up to ``size`` at a time: one transaction and one worker-thread trip
    per batch instead of per update (a commit and its WAL flush per update was most of the
    database's work under load). A request alone is handled at once. ``submit`` returns
    once its batch is committed, and raises what the batch raised (the webhook then
    answers 500 and the platform delivers the update again; a duplicate is dropped)."""

    def __init__(self, handle: Callable[[list[T]], Awaitable[None]], size: int = 20,
                 workers: int = 2) -> None:
        self.handle = handle
        self.size = size
        self.workers = workers
        self._waiting: list[tuple[T, asyncio.Future[None]]] = []
        self._tasks: set[asyncio.Task[None]] = set()  # referenced until done
        self._running = 0  # counted down inside the task, before it can miss a request

    async def submit(self, item: T) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._running < self.workers:
            self._running += 1
            task = asyncio.create_task(self._run())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await done

    async def _run(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:self.size]
                del self._waiting[:self.size]
                await self._handle(batch)
        finally:
            self._running -= 1

    async def _handle(self, batch: list[tuple[T, asyncio.Future[None]]]) -> None:
        try:
            await self.handle([item for item, _ in batch])
        except BaseException as exc:
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc if isinstance(exc, Exception)
                                       else RuntimeError("stopped"))
            if not isinstance(exc, Exception):
                raise
        else:
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
