"""The outbox sender's statements, each built once with bind parameters: building them
cost more than running them; and its two reads of single rows.

Its reads end their transaction with COMMIT, not the ROLLBACK of a session closed
unfinished: psycopg forgets every prepared statement of a connection on ROLLBACK (and
sends DEALLOCATE ALL), so each heads read used to make the next dozen updates handled on
that pooled connection parse their statements again (on the update bench, 19 heads reads
in 12 s cleared the caches of all ten connections, twice each). A read-only COMMIT costs
what ROLLBACK does."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Engine, bindparam, exists, func, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models.files import StoredFile
from models.outbox import OutboxMessage, OutboxStatus


@cache
def heads_stmt():  # type: ignore[no-untyped-def]
    """The oldest due row of each chat whose earlier rows are all delivered, in id order
    (read through ix_outbox_queue, so it stops after LIMIT heads)."""
    earlier = aliased(OutboxMessage)
    busy = (
        select(earlier.id)
        .where(earlier.platform == OutboxMessage.platform,
               earlier.chat_id == OutboxMessage.chat_id,
               earlier.id < OutboxMessage.id,
               earlier.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]))
        # OFFSET 0 keeps PostgreSQL from turning this into an anti-join, so it stays one
        # probe of ix_outbox_chat per row read. As a join, with the statistics of a young
        # table, it compared every pending row with every other: 1.4 s per read with
        # 2,000 replies queued (20 ms once analysed).
        .offset(0)
    )
    return (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING.value,
               OutboxMessage.next_attempt_at <= bindparam("now"),
               OutboxMessage.platform.in_(bindparam("platforms", expanding=True)),
               ~exists(busy))
        .order_by(OutboxMessage.id)
        .limit(bindparam("limit"))
    )


@cache
def claim_stmt():  # type: ignore[no-untyped-def]
    return (update(OutboxMessage)
            .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)),
                   OutboxMessage.status == OutboxStatus.PENDING.value,
                   # a cached head may have been pushed back since (quota, retry)
                   OutboxMessage.next_attempt_at <= bindparam("now"))
            .values(status=OutboxStatus.SENDING.value, claimed_at=bindparam("now"))
            .returning(OutboxMessage.id))


@cache
def sent_stmt():  # type: ignore[no-untyped-def]
    """One executemany per batch of delivered rows (bind parameter names avoid the
    column names, which SQLAlchemy reserves for the SET clause)."""
    return (update(OutboxMessage.__table__)  # type: ignore[attr-defined]
            .where(OutboxMessage.__table__.c.id == bindparam("b_id"))  # type: ignore[attr-defined]
            .values(status=OutboxStatus.SENT.value, sent_at=bindparam("b_sent_at"),
                    platform_message_id=bindparam("b_ref"), attempts=bindparam("b_attempts")))


@cache
def failed_stmt():  # type: ignore[no-untyped-def]
    return (update(OutboxMessage.__table__)  # type: ignore[attr-defined]
            .where(OutboxMessage.__table__.c.id == bindparam("b_id"))  # type: ignore[attr-defined]
            .values(status=bindparam("b_status"), attempts=bindparam("b_attempts"),
                    last_error=bindparam("b_error"), next_attempt_at=bindparam("b_next")))


@cache
def next_due_stmt():  # type: ignore[no-untyped-def]
    return (select(func.min(OutboxMessage.next_attempt_at))
            .where(OutboxMessage.status == OutboxStatus.PENDING.value,
                   OutboxMessage.platform.in_(bindparam("platforms", expanding=True))))


def heads(engine: Engine, now: datetime, platforms: list[str],
          limit: int) -> list[OutboxMessage]:
    with Session(engine) as s:
        rows = list(s.scalars(heads_stmt(), {"now": now, "platforms": platforms,
                                             "limit": limit}))
        s.expunge_all()  # plain objects, kept beyond this session
        s.commit()  # not a rollback: see the module docstring
    return rows


def write_outcomes(engine: Engine, sent: list[dict[str, Any]],
                   failed: list[dict[str, Any]]) -> None:
    """The outcomes of finished sends, in one transaction."""
    with engine.begin() as conn:
        if sent:
            conn.execute(sent_stmt(), sent)
        if failed:
            conn.execute(failed_stmt(), failed)


def requeue_sending(engine: Engine, cutoff: datetime) -> int:
    """Rows left in ``sending`` since before ``cutoff`` (a crashed sender's) back to
    pending; how many."""
    with engine.begin() as conn:
        return conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENDING.value,
                   OutboxMessage.claimed_at < cutoff)
            .values(status=OutboxStatus.PENDING.value)).rowcount


def claim(engine: Engine, ids: list[int], now: datetime) -> set[int]:
    with Session(engine) as s:
        mine = set(s.scalars(claim_stmt(), {"ids": ids, "now": now}))
        s.commit()
    return mine


def next_due(engine: Engine, platforms: list[str]) -> datetime | None:
    """When the earliest pending row of these platforms is due (aware UTC); None if none."""
    if not platforms:
        return None
    with engine.connect() as conn:
        when = conn.execute(next_due_stmt(), {"platforms": platforms}).scalar_one_or_none()
        conn.commit()
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


def sent_ref(engine: Engine, key: str) -> tuple[str | None, str | None]:
    """(status, platform message id) of the row queued under ``key`` (an edit of it
    waits until it has gone out)."""
    with Session(engine) as s:
        row = s.execute(select(OutboxMessage.status, OutboxMessage.platform_message_id)
                     .where(OutboxMessage.idempotency_key == key)).first()
        s.commit()
        return (row[0], row[1]) if row is not None else (None, None)


def stored_file(engine: Engine, file_id: int) -> bytes | None:
    with Session(engine) as s:
        f = s.get(StoredFile, file_id)
        data = f.data if f is not None else None
        s.commit()
        return data
