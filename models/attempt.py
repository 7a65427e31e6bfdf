"""Wrong link codes per account, so guessing codes is slowed down (``/start``, ``/link``).

Kept in the database, not in memory: the bot may run as several stateless workers behind
the webhook, and a restart must not reset an attacker's count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Index, delete, func
from sqlmodel import Field, Session, SQLModel, select

MAX_WRONG = 5  # wrong codes allowed per account within WINDOW
WINDOW = timedelta(minutes=15)


class CodeAttempt(SQLModel, table=True):
    __tablename__ = "code_attempt"
    __table_args__ = (Index("ix_code_attempt_user", "platform", "user_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=64)
    at: datetime


def locked_for(session: Session, *, platform: str, user_id: str,
               now: datetime) -> timedelta | None:
    """How long this account must wait before trying a code again; None when it may."""
    n, oldest = session.exec(
        select(func.count(), func.min(CodeAttempt.at))
        .where(CodeAttempt.platform == platform, CodeAttempt.user_id == user_id,
               CodeAttempt.at > now - WINDOW)).one()
    if n < MAX_WRONG or oldest is None:
        return None
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return max(oldest + WINDOW - now, timedelta(minutes=1))


def record_wrong(session: Session, *, platform: str, user_id: str, now: datetime) -> None:
    """Count one wrong code, forgetting this account's attempts older than the window."""
    session.execute(delete(CodeAttempt).where(
        CodeAttempt.platform == platform, CodeAttempt.user_id == user_id,
        CodeAttempt.at <= now - WINDOW))
    session.add(CodeAttempt(platform=platform, user_id=user_id[:64], at=now))
    session.flush()
