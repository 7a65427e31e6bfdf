"""Plain data for the meeting's documents, built from the models.

One object per document type; the renderers (``handlers.records.documents`` for .docx,
``handlers.records.doctext`` for chat text) read only these, so tests check content without Word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from models.attendance import ATTENDED, Attendance, Presence
from models.i18n import _, to_local
from models.meeting import (
    Meeting,
    MeetingKind,
    TaskStatus,
    agenda_of,
    previous_meeting,
    tasks_of,
)
from models.member import Member, Role, members_with_role
from models.org import Organisation, lineage
from models.records import (
    MeetingRecord,
    committee_of,
    conclusions_of,
    guests_of,
    opinions_of,
    record_of,
)
from models.score import Score, ScoreKind


@dataclass(frozen=True)
class Heading:
    parent: str  # the committee above the cell, first line top left
    cell: str  # "CHI BỘ …" below it
    place: str  # "Hà Tĩnh" (may be empty)
    day: date  # the date written top right


@dataclass(frozen=True)
class Absence:
    name: str
    reason: str | None
    excused: bool


@dataclass(frozen=True)
class TaskLine:
    text: str
    who: str
    due: date | None
    done: bool = False


@dataclass
class MinutesData:
    heading: Heading
    thematic: bool
    month: int
    year: int
    topic: str | None
    started: datetime | None  # local time
    ended: datetime | None
    place: str | None
    guests: list[tuple[str, str | None, bool]]  # name, title, upper-level committee member
    chair: str
    minute_taker: str
    total: int  # active members of the cell
    exempted: list[tuple[str, str | None]]
    due: int
    present: int
    late: list[str]
    absent: list[Absence]
    agenda: list[tuple[str, str | None]]  # title, presenter
    opinions: list[tuple[str, str]]  # speaker, text
    conclusions: list[tuple[str, str]]  # agenda item (or "") , conclusion
    vote: tuple[int, int, int] | None
    tasks: list[TaskLine]
    secretary: str
    final: bool = False


@dataclass
class ResolutionData:
    heading: Heading
    number: int
    month: int
    year: int
    due: int
    present: int
    absent: list[Absence]
    score: float | None
    band: str | None  # rating id: tot | kha | trung_binh | kem
    last_tasks: list[TaskLine]
    conclusions: list[tuple[str, str]]
    tasks: list[TaskLine]
    vote: tuple[int, int, int] | None
    secretary: str
    parent: str
    recipients: list[str] = field(default_factory=list)


@dataclass
class CommitteeData:
    heading: Heading
    month: int
    year: int
    held: datetime  # local time
    attendees: list[str]
    absent: list[str]
    content: str
    secretary: str
    recorder: str = ""  # who wrote the chi ủy's minutes


def committee_body(org_name: str) -> str:
    """The committee that receives for an organisation: "Đảng bộ Sở Tài chính" -> "Đảng
    ủy Sở Tài chính", "Chi bộ …" -> "Chi ủy …" (the form's "Nơi nhận" names committees)."""
    for body, committee in (("Đảng bộ", "Đảng ủy"), ("Chi bộ", "Chi ủy")):
        if org_name.startswith(body):
            return committee + org_name[len(body):]
    return org_name


def recipients(parent: str, cell: str) -> list[str]:
    """"Nơi nhận" of a cell's nghị quyết: the upper committee, the agency's leadership, the
    members, the file (Hướng dẫn 36-HD/VPTW; DOMAIN "The meeting's records")."""
    agency = cell[len("Chi bộ "):] if cell.startswith("Chi bộ ") else ""
    return [_("- {committee} (báo cáo),").format(committee=committee_body(parent)),
            _("- Lãnh đạo {agency},").format(agency=agency) if agency
            else _("- Lãnh đạo cơ quan,"),
            _("- Các đảng viên trong chi bộ,"), _("- Lưu chi bộ.")]


def heading(s: Session, cell: Organisation, place: str, day: date) -> Heading:
    chain = lineage(s, cell)
    parent = chain[-2].name if len(chain) >= 2 else ""
    return Heading(parent=parent, cell=cell.name, place=place, day=day)


def _name(s: Session, member_id: int | None) -> str:
    m = s.get(Member, member_id) if member_id else None
    return m.full_name if m else ""


def secretary_name(s: Session, cell_id: int) -> str:
    sec = members_with_role(s, org_id=cell_id, roles=(Role.SECRETARY.value,))
    return sec[0].full_name if sec else ""


def _tasks(s: Session, meeting_id: int) -> list[TaskLine]:
    return [TaskLine(t.description, _name(s, t.assignee_id), t.due_date,
                     t.status == TaskStatus.DONE.value)
            for t in tasks_of(s, meeting_id=meeting_id) if t.status != TaskStatus.DROPPED.value]


def _roll(s: Session, meeting: Meeting) -> tuple[list[tuple[Member, Attendance]], int]:
    rows = list(s.exec(select(Member, Attendance)
                       .join(Attendance, Attendance.member_id == Member.id)
                       .where(Attendance.meeting_id == meeting.id,
                              Attendance.status.is_not(None))
                       .order_by(Member.id)).all())
    total = len(rows)
    return [(m, a) for m, a in rows], total


def _absences(rows: list[tuple[Member, Attendance]]) -> list[Absence]:
    return [Absence(m.full_name, a.reason, a.status == Presence.EXCUSED.value)
            for m, a in rows if a.status in (Presence.EXCUSED.value, Presence.UNEXCUSED.value)]


def recorded_conclusions(s: Session, meeting: Meeting) -> list[tuple[str, str]]:
    """The chair's conclusions the minutes hold: (agenda item, conclusion), the meeting's
    own (item "") last."""
    given = conclusions_of(s, meeting.id or 0)
    items = agenda_of(s, meeting_id=meeting.id or 0)
    out = [(it.title, given[it.position]) for it in items if it.position in given]
    if 0 in given:
        out.append(("", given[0]))
    return out


def _conclusions(s: Session, meeting: Meeting) -> list[tuple[str, str]]:
    out = recorded_conclusions(s, meeting)
    if not out and meeting.conclusion:
        out.append(("", meeting.conclusion))
    return out


def resolution_conclusions(s: Session, meeting: Meeting) -> list[tuple[str, str]]:
    """The resolution's text: the minutes' conclusions, then the lines of the conclusion
    given at scoring that they do not already hold (words added with “+ …”, or a text of
    its own), so what was sent to members is in the nghị quyết too."""
    out = _conclusions(s, meeting)
    held = [text for _item, text in out if text]
    extra = [line for line in (meeting.conclusion or "").splitlines()
             if line.strip() and not any(text in line or line.strip() in text
                                         for text in held)]
    return [*out, ("", "\n".join(extra))] if extra else out


def vote_passed(vote: tuple[int, int, int] | list[int] | None, present: int) -> bool | None:
    """Whether the resolution was adopted: more than half of the members present voted for
    it (Điều lệ Đảng, Điều 9: a decision needs more than half). None when no vote is recorded."""
    if vote is None:
        return None
    return 2 * vote[0] > present


def present_count(s: Session, meeting: Meeting) -> int:
    """Members due to attend who were present (late included): the base of the vote."""
    rows, _total = _roll(s, meeting)
    return sum(1 for _m, a in rows
               if a.status != Presence.EXEMPTED.value and a.status in ATTENDED)


def _vote(rec: MeetingRecord | None) -> tuple[int, int, int] | None:
    if rec is None or rec.vote_agree is None:
        return None
    return rec.vote_agree, rec.vote_disagree or 0, rec.vote_other or 0


def minutes_data(s: Session, meeting: Meeting, cell: Organisation, place: str) -> MinutesData:
    rec = record_of(s, meeting.id or 0)
    rows, total = _roll(s, meeting)
    due_rows = [(m, a) for m, a in rows if a.status != Presence.EXEMPTED.value]
    tz = meeting.timezone
    started = to_local(meeting.started_at, tz) if meeting.started_at else None
    ended = to_local(meeting.ended_at, tz) if meeting.ended_at else None
    day = (started or to_local(meeting.scheduled_at, tz)).date()
    secretary = secretary_name(s, cell.id or 0)
    return MinutesData(
        heading=heading(s, cell, place, day),
        thematic=meeting.kind == MeetingKind.THEMATIC.value or meeting.thematic_part,
        month=int(meeting.period[5:]), year=int(meeting.period[:4]), topic=meeting.topic,
        started=started, ended=ended, place=meeting.place or meeting.online_link,
        guests=[(g.name, g.title, g.upper_level) for g in guests_of(s, meeting.id or 0)],
        chair=_name(s, rec.chair_id) if rec and rec.chair_id else secretary,
        minute_taker=_name(s, (rec.minute_taker_id or rec.captured_by) if rec else None),
        total=total,
        exempted=[(m.full_name, a.reason) for m, a in rows
                  if a.status == Presence.EXEMPTED.value],
        due=len(due_rows),
        present=sum(1 for _m, a in due_rows if a.status in ATTENDED),
        late=[m.full_name for m, a in due_rows if a.status == Presence.LATE.value],
        absent=_absences(due_rows),
        agenda=[(it.title, presenter_name(it.presenter))
                for it in agenda_of(s, meeting_id=meeting.id or 0)],
        opinions=[(o.speaker, o.text) for o in opinions_of(s, meeting.id or 0)],
        conclusions=_conclusions(s, meeting),
        vote=_vote(rec),
        tasks=_tasks(s, meeting.id or 0),
        secretary=secretary,
        final=bool(rec and rec.status == "final"),
    )


def presenter_name(text: str | None) -> str | None:
    """"Đ/c Dương Văn Thành" -> "Dương Văn Thành": the documents write "đồng chí" themselves."""
    if not text:
        return None
    return re.sub(r"^\s*(đ/c|đc|đồng chí)\.?\s+", "", text, flags=re.IGNORECASE).strip() or None


def current_score(s: Session, meeting_id: int) -> Score | None:
    return s.exec(select(Score).where(Score.meeting_id == meeting_id,
                                      Score.kind == ScoreKind.CELL.value,
                                      Score.is_current == True)).first()  # noqa: E712


def resolution_data(s: Session, meeting: Meeting, cell: Organisation, place: str,
                    number: int, day: date) -> ResolutionData:
    rows, _total = _roll(s, meeting)
    due_rows = [(m, a) for m, a in rows if a.status != Presence.EXEMPTED.value]
    score = current_score(s, meeting.id or 0)
    prev = previous_meeting(s, meeting=meeting)
    head = heading(s, cell, place, day)
    return ResolutionData(
        heading=head, number=number, month=int(meeting.period[5:]),
        year=int(meeting.period[:4]), due=len(due_rows),
        present=sum(1 for _m, a in due_rows if a.status in ATTENDED),
        absent=_absences(due_rows),
        score=score.total if score else None, band=score.rating if score else None,
        last_tasks=_tasks(s, prev.id or 0) if prev else [],
        conclusions=resolution_conclusions(s, meeting), tasks=_tasks(s, meeting.id or 0),
        vote=_vote(record_of(s, meeting.id or 0)),
        secretary=secretary_name(s, cell.id or 0), parent=head.parent,
        recipients=recipients(head.parent, cell.name))


def programme_text(s: Session, meeting: Meeting) -> str:
    """What chi ủy minutes that say "the programme" read: the meeting's agenda items (the
    secretary types them once, in the agenda form), or a line saying they follow."""
    items = agenda_of(s, meeting_id=meeting.id or 0)
    if not items:
        return _("Thống nhất chương trình buổi sinh hoạt (bí thư thông báo chương trình chi "
                 "tiết sau cuộc họp chi ủy).")
    return "\n".join([_("Thống nhất chương trình buổi sinh hoạt:")] + [
        f"{i}. {it.title}" + (f" — {it.presenter}" if it.presenter else "")
        for i, it in enumerate(items, 1)])


def committee_data(s: Session, meeting: Meeting, cell: Organisation,
                   place: str) -> CommitteeData | None:
    cm = committee_of(s, meeting.id or 0)
    if cm is None:
        return None
    held = to_local(cm.held_at, meeting.timezone)
    ids = set(cm.attendees.get("ids", []))
    leaders = members_with_role(s, org_id=cell.id or 0, roles=(
        Role.SECRETARY.value, Role.DEPUTY.value, Role.COMMITTEE.value))
    return CommitteeData(
        heading=heading(s, cell, place, held.date()), month=int(meeting.period[5:]),
        year=int(meeting.period[:4]), held=held,
        attendees=[m.full_name for m in leaders if m.id in ids],
        absent=[m.full_name for m in leaders if m.id not in ids],
        content=cm.content or programme_text(s, meeting),
        secretary=secretary_name(s, cell.id or 0),
        recorder=_name(s, cm.recorded_by))
