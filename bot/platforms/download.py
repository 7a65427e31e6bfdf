"""Downloads bounded by size whatever the sender claimed: the body is streamed and the
transfer stops as soon as it passes the limit."""

from __future__ import annotations

import aiohttp


async def download_bounded(url: str, limit: int, *, timeout: float = 60.0) -> bytes | None:
    """The body at ``url``, or None when it is larger than ``limit`` bytes. Network
    errors raise (the caller retries the update)."""
    buf = bytearray()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http, \
            http.get(url) as resp:
        resp.raise_for_status()
        if resp.content_length is not None and resp.content_length > limit:
            return None
        async for chunk in resp.content.iter_chunked(64 * 1024):
            buf += chunk
            if len(buf) > limit:
                return None
    return bytes(buf)
