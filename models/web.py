"""The web view's one-time links and browser sessions (issue 22).

Only SHA-256 digests of tokens are stored: a copy of the database opens no session. A
link is single use, lives at most ``LINK_TTL`` and is bound to the member who asked; a
session lives at most ``SESSION_TTL`` and carries its own CSRF token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Field, Session, SQLModel

from models.base import utcnow

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=8)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)  # SQLite: naive


class WebLink(SQLModel, table=True):
    """A one-time link to the web view (``/web`` in a chat)."""

    __tablename__ = "web_link"

    token_hash: str = Field(primary_key=True, max_length=64)
    member_id: int = Field(foreign_key="member.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class WebSession(SQLModel, table=True):
    """A browser's session after a link or a Telegram launch was accepted."""

    __tablename__ = "web_session"

    id_hash: str = Field(primary_key=True, max_length=64)
    member_id: int = Field(foreign_key="member.id", index=True)
    csrf: str = Field(max_length=64)
    via: str = Field(max_length=16)  # "link" | "telegram" | "demo"
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    closed_at: datetime | None = None


def mint_link(session: Session, *, member_id: int, now: datetime,
              ttl: timedelta = LINK_TTL) -> str:
    """A new one-time link token for ``member_id``; only its digest is stored."""
    token = secrets.token_urlsafe(24)
    session.add(WebLink(token_hash=digest(token), member_id=member_id, created_at=now,
                        expires_at=now + min(ttl, LINK_TTL)))
    session.flush()
    return token


def peek_link(session: Session, token: str, now: datetime) -> bool:
    """Whether ``token`` is a usable link (the preview GET: consumes nothing)."""
    link = session.get(WebLink, digest(token))
    return link is not None and link.used_at is None and _aware(link.expires_at) > now


def consume_link(session: Session, token: str, now: datetime) -> int | None:
    """Use the link once: the member it is bound to, or None (unknown, used, expired).
    One conditional UPDATE, so two browsers racing with the same link get one session."""
    h = digest(token)
    res = session.execute(update(WebLink).where(
        WebLink.token_hash == h, WebLink.used_at.is_(None), WebLink.expires_at > now)
        .values(used_at=now))
    if res.rowcount != 1:
        return None
    link = session.get(WebLink, h)
    return link.member_id if link is not None else None


def open_session(session: Session, *, member_id: int, via: str,
                 now: datetime) -> tuple[str, str]:
    """A new session: (its id for the cookie, its CSRF token)."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(WebSession(id_hash=digest(sid), member_id=member_id, csrf=csrf, via=via,
                           created_at=now, expires_at=now + SESSION_TTL))
    session.flush()
    return sid, csrf


def find_session(session: Session, sid: str, now: datetime) -> WebSession | None:
    ws = session.get(WebSession, digest(sid))
    if ws is None or ws.closed_at is not None or _aware(ws.expires_at) <= now:
        return None
    return ws


def close_session(session: Session, sid: str, now: datetime) -> None:
    session.execute(update(WebSession).where(WebSession.id_hash == digest(sid))
                    .values(closed_at=now))
