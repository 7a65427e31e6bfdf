"""The bloc's year: fee totals per cell and quarter, one GROUP BY statement built once with
bind parameters (the style of models/reports.py)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models.fees import FeePayment
from models.org import CELL_KINDS, Organisation
from models.reports import in_year, plain_rows, year_bounds


def _quarter_months(q: int) -> list[str]:
    return [f"{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]


@cache
def _fees_stmt() -> Any:
    month = func.substr(FeePayment.period, 6, 2)
    paid = FeePayment.paid == True  # noqa: E712
    parent = aliased(Organisation, name="parent")
    return (
        select(Organisation.id.label("cell_id"), Organisation.name.label("cell"),
               parent.name.label("parent"),
               *(func.coalesce(func.sum(case((and_(paid, month.in_(_quarter_months(q))),
                                              FeePayment.amount), else_=0)), 0).label(f"q{q}")
                 for q in range(1, 5)),
               func.coalesce(func.sum(case((paid, FeePayment.amount), else_=0)), 0)
               .label("total"),
               func.coalesce(func.sum(case((paid, 1), else_=0)), 0).label("paid_months"),
               func.coalesce(func.sum(case((paid, 0), (FeePayment.id.is_not(None), 1),
                                           else_=0)), 0).label("unpaid_months"))
        .select_from(Organisation)
        .outerjoin(parent, parent.id == Organisation.parent_id)
        .outerjoin(FeePayment, and_(FeePayment.cell_id == Organisation.id,
                                    in_year(FeePayment.period)))
        .where(Organisation.path.like(bindparam("prefix")), Organisation.kind.in_(CELL_KINDS),
               Organisation.active == True)  # noqa: E712
        .group_by(Organisation.id, Organisation.name, parent.name, Organisation.path)
        .order_by(Organisation.path))


def fee_totals(session: Session, root: Organisation, year: int) -> list[dict[str, Any]]:
    """Per cell of the subtree: party fees collected per quarter and in the year, and the
    count of paid and unpaid member-months."""
    params = {"prefix": root.path + "%", **year_bounds(year)}
    return plain_rows(session.execute(_fees_stmt(), params))
