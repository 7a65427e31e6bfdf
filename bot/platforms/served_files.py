"""Files chibot serves itself behind an unguessable, expiring link (Zalo takes no files, and
takes photos by URL only).

With a directory (``chibot run``: ``data_dir/zalo-files``) a link outlives a restart and
a week of documents does not sit in the process's memory; without one (tests) they stay
in memory. The token is the file's name, so it is checked against the alphabet
``secrets.token_urlsafe`` uses before it touches the disk.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from pathlib import Path

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # token_urlsafe(24): 32 characters


class ServedFiles:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._memory: dict[str, tuple[bytes, float, str]] = {}  # data, expiry, type

    def publish(self, data: bytes, ttl: float, content_type: str) -> str:
        """Keep ``data`` for ``ttl`` seconds; returns its token (blocking: disk writes)."""
        now = time.time()
        token = secrets.token_urlsafe(24)
        if self.directory is None:
            self._memory = {k: v for k, v in self._memory.items() if v[1] > now}
            self._memory[token] = (data, now + ttl, content_type)
            return token
        self.directory.mkdir(parents=True, exist_ok=True)
        self._prune(now)
        (self.directory / token).write_bytes(data)
        (self.directory / f"{token}.json").write_text(
            json.dumps({"expires": now + ttl, "type": content_type}), encoding="utf-8")
        return token

    def find(self, token: str) -> tuple[bytes | Path, str] | None:
        """The file (its bytes, or its path on disk) and its content type; None when the
        token is unknown, malformed or expired."""
        if not _TOKEN.fullmatch(token):
            return None
        now = time.time()
        if self.directory is None:
            entry = self._memory.get(token)
            return (entry[0], entry[2]) if entry is not None and entry[1] > now else None
        meta = self._meta(token)
        if meta is None or float(meta["expires"]) <= now:
            return None
        return self.directory / token, str(meta["type"])

    def _meta(self, token: str) -> dict[str, float | str] | None:
        assert self.directory is not None
        try:
            meta = json.loads((self.directory / f"{token}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) and "expires" in meta and "type" in meta \
            else None

    def _prune(self, now: float) -> None:
        """Delete expired files (on each publish: a few a day, so the scan stays small)."""
        assert self.directory is not None
        for meta_path in self.directory.glob("*.json"):
            token = meta_path.stem
            meta = self._meta(token)
            if meta is None or float(meta["expires"]) <= now:
                for p in (meta_path, self.directory / token):
                    try:
                        p.unlink(missing_ok=True)
                    except OSError as exc:
                        log.warning("served files: could not delete %s: %s", p.name, exc)
