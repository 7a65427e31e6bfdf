"""Files chibot serves itself behind an unguessable, expiring link (Zalo takes no files, and
takes photos by URL only).

With a directory (``chibot run``: ``data_dir/zalo-files``) a link outlives a restart and
a week of documents does not sit in the process's memory; without one (tests) they stay
in memory. The token is the file's name, so it is checked against the alphabet
``secrets.token_urlsafe`` uses before it touches the disk.

On disk each write goes to a temporary name and is renamed into place, the metadata last:
a process killed between the two writes leaves a file without metadata (never metadata
without its file), and :meth:`ServedFiles.prune` (at start and on each publish) deletes
such orphans and stray temporary files once they are older than ``ORPHAN_GRACE`` (another
process may be between its two renames right now).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # token_urlsafe(24): 32 characters
_TMP = ".tmp"  # suffix of a write in progress: "<token>.<pid>.tmp", "<token>.json.<pid>.tmp"
ORPHAN_GRACE = 600.0  # seconds a file without metadata may be a publish in progress


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
        self.prune(now)
        self._write(token, data)
        self._write(f"{token}.json", json.dumps(
            {"expires": now + ttl, "type": content_type, "name": name}).encode("utf-8"))
        return token

    def _write(self, name: str, data: bytes) -> None:
        """Write ``name`` whole or not at all: a temporary file renamed into place."""
        assert self.directory is not None
        tmp = self.directory / f"{name}.{os.getpid()}{_TMP}"
        try:
            tmp.write_bytes(data)
            os.replace(tmp, self.directory / name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

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

    def prune(self, now: float | None = None) -> int:
        """Delete expired files, files whose metadata never arrived and stray temporary
        files (at start and on each publish: a few files a day, so the scan stays
        small); returns how many paths were deleted. Blocking: call it in a thread."""
        if self.directory is None or not self.directory.is_dir():
            return 0
        now = time.time() if now is None else now
        doomed = []
        for path in self.directory.iterdir():
            name = path.name
            if name.endswith(_TMP) or (_TOKEN.fullmatch(name)
                                       and not (self.directory / f"{name}.json").exists()):
                try:  # a write in progress elsewhere is younger than the grace
                    if path.stat().st_mtime < now - ORPHAN_GRACE:
                        doomed.append(path)
                except OSError:
                    continue
            elif name.endswith(".json") and _TOKEN.fullmatch(name[:-5]):
                meta = self._meta(name[:-5])
                if meta is None or float(meta["expires"]) <= now:
                    doomed += [path, self.directory / name[:-5]]
        removed = 0
        for p in doomed:
            try:
                if p.exists():
                    p.unlink()
                    removed += 1
            except OSError as exc:
                log.warning("served files: could not delete %s: %s", p.name, exc)
        if removed:
            log.info("served files: %d expired or orphaned file(s) deleted", removed)
        return removed
