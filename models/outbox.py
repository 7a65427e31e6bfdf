"""Durable outgoing queue and the record of updates already handled."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, LargeBinary
from sqlmodel import Column, Field, SQLModel

from models.base import json_field, utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # permanent error or attempts exhausted; kept for requeue


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        # The sender reads the queue in id order (chat heads, oldest first): with this index
        # it stops after the first LIMIT heads instead of sorting every due row per claim.
        Index("ix_outbox_queue", "status", "id"),
        Index("ix_outbox_chat", "platform", "chat_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    # Serialised Outgoing minus binary: text, buttons, reply_to, edit, file names.
    payload: dict[str, Any] = json_field(nullable=False)
    attachment: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    status: str = Field(default=OutboxStatus.PENDING.value, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    platform_message_id: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class ProcessedUpdate(SQLModel, table=True):
    platform: str = Field(primary_key=True, max_length=16)
    update_id: str = Field(primary_key=True, max_length=64)
    handled_at: datetime = Field(default_factory=utcnow)
