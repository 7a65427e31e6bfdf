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
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # token_urlsafe(24): 32 characters


@dataclass(frozen=True)
class Served:
    content_type: str
    name: str = ""

    def headers(self) -> dict[str, str]:
        """Content-Type, and the file's own name for the browser (RFC 6266/5987: a
        Vietnamese name is percent-encoded UTF-8, with an ASCII fallback)."""
        out = {"Content-Type": self.content_type}
        if self.name:
            # a member's upload names the file: no quote, backslash or control character
            ascii_name = "".join(c if " " <= c <= "~" and c not in '"\\' else "_"
                                 for c in self.name)
            out["Content-Disposition"] = (f'attachment; filename="{ascii_name}"; '
                                          f"filename*=UTF-8''{quote(self.name, safe='')}")
        return out


class ServedFiles:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._memory: dict[str, tuple[bytes, float, Served]] = {}  # data, expiry, what

    def publish(self, data: bytes, ttl: float, content_type: str, name: str = "") -> str:
        """Keep ``data`` for ``ttl`` seconds; returns its token (blocking: disk writes).
        ``name`` is the file name a browser saves it under."""
        now = time.time()
        token = secrets.token_urlsafe(24)
        if self.directory is None:
            self._memory = {k: v for k, v in self._memory.items() if v[1] > now}
            self._memory[token] = (data, now + ttl, Served(content_type, name))
            return token
        self.directory.mkdir(parents=True, exist_ok=True)
        self._prune(now)
        (self.directory / token).write_bytes(data)
        (self.directory / f"{token}.json").write_text(json.dumps(
            {"expires": now + ttl, "type": content_type, "name": name}), encoding="utf-8")
        return token

    def find(self, token: str) -> tuple[bytes | Path, Served] | None:
        """The file (its bytes, or its path on disk) and what it is; None when the token
        is unknown, malformed or expired."""
        if not _TOKEN.fullmatch(token):
            return None
        now = time.time()
        if self.directory is None:
            entry = self._memory.get(token)
            return (entry[0], entry[2]) if entry is not None and entry[1] > now else None
        meta = self._meta(token)
        if meta is None or float(meta["expires"]) <= now:
            return None
        return self.directory / token, Served(str(meta["type"]), str(meta.get("name", "")))

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
