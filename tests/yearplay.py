"""Building blocks for tests that play months or a year of a cell straight into the store."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from models.attendance import Attendance
from models.fees import record_fee
from models.meeting import Meeting
from models.member import Member
from models.org import Organisation
from models.score import Score


def org(s: Session, name: str, parent: str | None = None) -> Organisation:
    q = select(Organisation).where(Organisation.name == name)
    if parent:
        pid = s.exec(select(Organisation.id).where(Organisation.name == parent)).one()
        q = q.where(Organisation.parent_id == pid)
    return s.exec(q).one()


def member(s: Session, name: str) -> Member:
    return s.exec(select(Member).where(Member.full_name == name)).one()


def held(s: Session, cell: Organisation, year: int, month: int,
         marks: dict[str, str] | None = None, score: tuple[float, str] | None = None,
         status: str = "held", kind: str = "regular", seq: int = 0,
         thematic: bool = False) -> Meeting:
    """A meeting on the 3rd at 07:30 local time, every due member present unless
    ``marks`` says otherwise, with the cell's score if given."""
    m = Meeting(cell_id=cell.id or 0, period=f"{year:04d}-{month:02d}", kind=kind, seq=seq,
                scheduled_at=datetime(year, month, 3, 0, 30, tzinfo=UTC), status=status,
                thematic_part=thematic)
    s.add(m)
    s.flush()
    if status in ("held", "not_held") and marks is not None:
        for mem in s.exec(select(Member).where(Member.cell_id == cell.id,
                                               Member.active == True)):  # noqa: E712
            st = "exempted" if not mem.due_to_attend else marks.get(mem.full_name, "present")
            s.add(Attendance(meeting_id=m.id or 0, member_id=mem.id or 0, status=st))
    if score:
        s.add(Score(meeting_id=m.id or 0, kind="cell", rubric_id="hd42-2025",
                    rubric_version="2025.10", total=score[0], rating=score[1]))
    s.flush()
    return m


def fee(s: Session, cell: Organisation, name: str, year: int, month: int,
        amount: int | None) -> None:
    """``amount`` None records an unpaid month."""
    record_fee(s, member_id=member(s, name).id or 0, cell_id=cell.id or 0,
               period=f"{year:04d}-{month:02d}", paid=amount is not None, amount=amount or 0,
               now=datetime(year, month, 3, 2, 0, tzinfo=UTC), by=None)
