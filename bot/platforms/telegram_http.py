"""python-telegram-bot's network backend on aiohttp instead of httpx.

PTB builds the calls, parses the answers and raises its own errors; only the HTTP round
trip is swapped, through the interface PTB documents for this (``telegram.request.
BaseRequest``: "Can be implemented via different asyncio HTTP libraries"). Measured on
the fan-out bench against the emulator: PTB on httpx used 1.6–3.4 ms of CPU per
``sendMessage`` (httpcore re-checks every pooled connection's socket for each request,
so the cost grows with the pool), aiohttp 0.2 ms for the same round trip.
"""

from __future__ import annotations

import functools
import json
import urllib.parse
import urllib.request
from typing import Any

import aiohttp
from telegram import Bot
from telegram._utils.defaultvalue import DefaultValue  # PTB's own HTTPXRequest uses these
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

JSON_HEADERS = {"Content-Type": "application/json"}


@functools.cache
def _proxy_for(scheme: str, host: str) -> str | None:
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(scheme)


def _env_proxy(url: str) -> str | None:
    """HTTPS_PROXY/HTTP_PROXY/NO_PROXY, as httpx honoured them, read once per host:
    aiohttp's ``trust_env`` re-reads them and ~/.netrc in a worker thread per request."""
    parts = urllib.parse.urlsplit(url)
    return _proxy_for(parts.scheme, parts.hostname or "")


class AiohttpRequest(BaseRequest):
    """One aiohttp session per instance; ``pool_size`` connections at most: more than
    the outbox keeps in flight, so a paced send never queues for a connection and then
    reaches Telegram bunched with others (the emulator answered 429 when it did)."""

    def __init__(self, *, pool_size: int = 64, connect_timeout: float | None = 10,
                 read_timeout: float | None = 20, write_timeout: float | None = 30,
                 pool_timeout: float | None = 10) -> None:
        self._pool_size = pool_size
        self._timeouts = {"connect": connect_timeout, "read": read_timeout,
                          "write": write_timeout, "pool": pool_timeout}
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(self, name: str, given: ODVInput[float]) -> float | None:
        return self._timeouts[name] if isinstance(given, DefaultValue) else given

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        connect = self._timeout("connect", connect_timeout)
        pool = self._timeout("pool", pool_timeout)
        read = self._timeout("read", read_timeout)
        # aiohttp has no write timeout: an upload's time counts against the read timeout
        # (the answer only comes after the body), so a file upload gets the longer of both.
        if request_data is not None and request_data.contains_files:
            write = self._timeout("write", write_timeout)
            read = None if read is None or write is None else max(read, write)
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect, sock_read=read,
            # "connect" in aiohttp covers waiting for a free pooled connection and connecting.
            connect=None if pool is None or connect is None else pool + connect)
        data: aiohttp.FormData | bytes | None = None
        headers = None
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, upload in request_data.multipart_data.items():
                    filename, content, mimetype = upload
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                data = form
            else:
                # A JSON body, which the Bot API accepts for every call without files
                # (core.telegram.org/bots/api#making-requests): percent-encoding a form
                # cost more CPU than the rest of the round trip.
                data = json.dumps(request_data.parameters, ensure_ascii=False).encode()
                headers = JSON_HEADERS
        try:
            async with self._session.request(method, url, data=data, headers=headers,
                                             timeout=timeout, proxy=_env_proxy(url)) as res:
                return res.status, await res.read()
        except TimeoutError as err:  # aiohttp's timeouts are asyncio.TimeoutError subclasses
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err


class JsonRequestData(RequestData):
    """Parameters already in their JSON shape (dicts, lists, numbers, strings)."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__()
        self._values = {k: v for k, v in values.items() if v is not None}

    @property
    def parameters(self) -> dict[str, Any]:
        return self._values

    @property
    def json_parameters(self) -> dict[str, str]:
        return {k: v if isinstance(v, str) else json.dumps(v)
                for k, v in self._values.items()}


async def call(bot: Bot, method: str, params: dict[str, Any]) -> Any:
    """A Bot API call through PTB's request, with PTB's error handling (the same
    ``TelegramError`` subclasses), but without building PTB objects for the arguments and
    the answer: that was half the CPU of a ``sendMessage`` on the fan-out's hot path."""
    return await bot.request.post(f"{bot.base_url}/{method}", JsonRequestData(params))
