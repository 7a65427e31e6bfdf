"""Đảng phí: one row per member and month in the cell's fee book (sổ thu đảng phí).

Amounts are whole đồng. A month without a row is not recorded yet (unknown); only a row
with ``paid`` False is an unpaid month, and only those count toward Điều 8.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Index, UniqueConstraint, bindparam
from sqlmodel import Field, Session, SQLModel, select

from models.base import utcnow
from models.member import Member


class FeePayment(SQLModel, table=True):
    __tablename__ = "fee_payment"
    __table_args__ = (
        UniqueConstraint("member_id", "period", name="uq_fee_member_period"),
        Index("ix_fee_cell_period", "cell_id", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    cell_id: int = Field(foreign_key="organisation.id")
    period: str = Field(max_length=7)  # "2026-11"
    paid: bool = True
    amount: int = 0  # đồng; 0 for an unpaid month
    recorded_at: datetime = Field(default_factory=utcnow)
    recorded_by: int | None = Field(default=None, foreign_key="member.id")


def record_fee(session: Session, *, member_id: int, cell_id: int, period: str, paid: bool,
               amount: int, now: datetime, by: int | None) -> FeePayment:
    """Insert or overwrite the member's row for the month."""
    row = session.exec(select(FeePayment).where(FeePayment.member_id == member_id,
                                                FeePayment.period == period)).first()
    if row is None:
        row = FeePayment(member_id=member_id, cell_id=cell_id, period=period)
    row.paid, row.amount = paid, amount if paid else 0
    row.recorded_at, row.recorded_by, row.cell_id = now, by, cell_id
    session.add(row)
    return row


def usual_amounts(session: Session, *, cell_id: int) -> dict[int, int]:
    """Each member's usual amount: what they paid the last time they paid, else the
    "Mức đóng" of the member sheet (so "tất cả" works from the first month)."""
    out: dict[int, int] = {
        mid: fee for mid, fee in session.exec(
            select(Member.id, Member.fee_amount).where(
                Member.cell_id == cell_id, Member.fee_amount != None))  # noqa: E711
        if mid is not None and fee}
    for member_id, amount in session.exec(
            select(FeePayment.member_id, FeePayment.amount)
            .where(FeePayment.cell_id == cell_id, FeePayment.paid == True)  # noqa: E712
            .order_by(FeePayment.period)):
        out[member_id] = amount
    return out


@cache
def _member_fees_stmt() -> Any:
    return (select(FeePayment)
            .where(FeePayment.member_id == bindparam("member_id"),
                   FeePayment.period.startswith(bindparam("year_prefix")))
            .order_by(FeePayment.period))


def member_fees(session: Session, *, member_id: int, year: int) -> list[FeePayment]:
    return list(session.scalars(_member_fees_stmt(), {"member_id": member_id,
                                                      "year_prefix": f"{year:04d}-"}))


def cell_fees(session: Session, *, cell_id: int, year: int) -> list[FeePayment]:
    return list(session.exec(select(FeePayment).where(
        FeePayment.cell_id == cell_id, FeePayment.period.startswith(f"{year:04d}-"))
        .order_by(FeePayment.period)))
