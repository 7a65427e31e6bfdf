"""Files members send to the bot (agenda documents), kept so they can be posted later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Column, Field, SQLModel

from models.base import utcnow


class StoredFile(SQLModel, table=True):
    __tablename__ = "stored_file"

    id: int | None = Field(default=None, primary_key=True)
    filename: str = Field(max_length=200)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow)
