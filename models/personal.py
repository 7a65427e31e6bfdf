"""One member's personal data (Nghị định 13/2023/NĐ-CP): everything stored about them,
exported as one JSON document, and erased once they have left the cell.

Erasure rules (``erase_member``):

- Only a member who has left (``active`` false: moved, removed, deceased) is erased;
  while they are in the cell the bot needs their accounts to remind them.
- Gone: the linked platform accounts (Telegram/Zalo identities), their link codes, join
  requests, open forms, wrong-code attempts, parked updates, and every outbox message
  addressed to their private chats, sent or pending; the contact and profile fields
  (phone, birth date, party card number, language, exemption reason), the reasons given
  for absences, and the text of their yearly self-assessment.
- Kept under a pseudonym ("Đảng viên #ID"): the member row itself and every row that the
  cell's records and figures are built from (attendance and RSVP statuses, fees, tasks,
  opinions, roles, scores, yearly levels), so that past attendance rates, quorums, fee
  books and classifications stay true. Their name is replaced by the pseudonym wherever
  it was copied as text (speakers, guests, presenters, conclusions, task descriptions,
  chi ủy minutes, score reasons, audit details, messages to others).
- Not rewritten: the .docx minutes and resolutions already issued (the minutes book is a
  permanent record of the cell, like its paper counterpart).
- The erasure itself is audited (``member.erased``, counts only, no name).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, SQLModel, select

from models.attempt import CodeAttempt
from models.attendance import Attendance
from models.audit import AuditEntry, audit
from models.base import utcnow
from models.fees import FeePayment
from models.form import FormState
from models.i18n import _
from models.joinrequest import JoinRequest
from models.meeting import AgendaItem, Meeting, Task
from models.member import Identity, LinkCode, Member, RoleAssignment
from models.org import Organisation
from models.outbox import OutboxMessage
from models.parked import ParkedUpdate
from models.plan import ThematicTopic
from models.records import CommitteeMeeting, Guest, ItemConclusion, MeetingRecord, Opinion
from models.review import MemberReview
from models.score import Score

# Free-text fields where a member's name may have been copied: (model, field).
TEXT_FIELDS: tuple[tuple[type[SQLModel], str], ...] = (
    (Opinion, "speaker"), (Opinion, "text"), (Guest, "name"), (AgendaItem, "presenter"),
    (ThematicTopic, "presenter"), (Task, "description"), (Meeting, "conclusion"),
    (ItemConclusion, "text"), (CommitteeMeeting, "content"), (Score, "reason"),
)


class PersonalDataError(Exception):
    """Nothing was changed; the message says why in Vietnamese."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def _row(obj: SQLModel, drop: Iterable[str] = ()) -> dict[str, Any]:
    return {k: _plain(v) for k, v in obj.model_dump().items() if k not in drop}


def name_pattern(name: str) -> re.Pattern[str]:
    """The full name as a whole: "Nguyễn Văn An" does not match inside "Nguyễn Văn Anh"."""
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")


def _meeting(s: Session, meeting_id: int) -> dict[str, Any]:
    m = s.get(Meeting, meeting_id)
    if m is None:
        return {"id": meeting_id}
    cell = s.get(Organisation, m.cell_id)
    return {"id": m.id, "cell": cell.name if cell else None, "period": m.period,
            "kind": m.kind, "scheduled_at": _plain(m.scheduled_at)}


def _accounts(s: Session, member_id: int) -> list[Identity]:
    return list(s.exec(select(Identity).where(Identity.member_id == member_id)))


def _private_chats(member_id: int, accounts: list[Identity]) -> list[str]:
    # The console platform writes to "dm-<member id>" without storing it on an identity.
    chats = [a.private_chat_id for a in accounts if a.private_chat_id]
    return [*chats, f"dm-{member_id}"]


def _mentions(s: Session, pattern: re.Pattern[str]) -> list[tuple[SQLModel, str]]:
    """(row, field) of every free-text field that names the member."""
    found: list[tuple[SQLModel, str]] = []
    for model, field in TEXT_FIELDS:
        for row in s.exec(select(model)):
            value = getattr(row, field)
            if isinstance(value, str) and pattern.search(value):
                found.append((row, field))
    return found


def export_member(s: Session, member: Member) -> dict[str, Any]:
    """Everything stored about ``member``, as plain JSON-ready data."""
    mid = member.id or 0
    accounts = _accounts(s, mid)
    users = [a.platform_user_id for a in accounts]
    cell = s.get(Organisation, member.cell_id) if member.cell_id else None
    pattern = name_pattern(member.full_name)
    q_audit = select(AuditEntry).where(or_(
        AuditEntry.actor_id == mid,
        (AuditEntry.entity == "member") & (AuditEntry.entity_id == mid))).order_by(
        AuditEntry.id)
    records = list(s.exec(select(MeetingRecord).where(or_(
        MeetingRecord.chair_id == mid, MeetingRecord.minute_taker_id == mid))))
    return {
        "exported_at": _plain(utcnow()),
        "member": {**_row(member), "cell": cell.name if cell else None},
        "roles": [{"org": (o.name if (o := s.get(Organisation, r.org_id)) else r.org_id),
                   "role": r.role}
                  for r in s.exec(select(RoleAssignment).where(RoleAssignment.member_id == mid))],
        "accounts": [_row(a) for a in accounts],
        "join_requests": [_row(j) for j in s.exec(select(JoinRequest).where(or_(
            JoinRequest.member_id == mid, JoinRequest.platform_user_id.in_(users))))],
        "link_codes": [_row(c, drop=("code",)) for c in s.exec(
            select(LinkCode).where(LinkCode.member_id == mid))],
        "attendance": [{"meeting": _meeting(s, a.meeting_id), **_row(a, drop=(
            "id", "meeting_id", "member_id"))} for a in s.exec(
            select(Attendance).where(Attendance.member_id == mid).order_by(Attendance.id))],
        "fees": [_row(f) for f in s.exec(select(FeePayment).where(
            FeePayment.member_id == mid).order_by(FeePayment.period))],
        "tasks": [{"meeting": _meeting(s, t.meeting_id), **_row(t)} for t in s.exec(
            select(Task).where(Task.assignee_id == mid).order_by(Task.id))],
        "opinions": [{"meeting": _meeting(s, o.meeting_id), **_row(o)} for o in s.exec(
            select(Opinion).where(Opinion.member_id == mid).order_by(Opinion.id))],
        "guest_at": [{"meeting": _meeting(s, g.meeting_id), **_row(g)} for g in s.exec(
            select(Guest).where(Guest.member_id == mid))],
        "minutes_roles": [{"meeting": _meeting(s, r.meeting_id),
                           "chair": r.chair_id == mid, "minute_taker": r.minute_taker_id == mid}
                          for r in records],
        "scores_submitted": [{"meeting": _meeting(s, sc.meeting_id), **_row(sc)}
                             for sc in s.exec(select(Score).where(Score.submitted_by == mid))],
        "mentions": [{"table": type(row).__tablename__, "id": getattr(row, "id", None),
                      "field": field, "text": getattr(row, field)}
                     for row, field in _mentions(s, pattern)],
        "classification": [_row(r) for r in s.exec(select(MemberReview).where(
            MemberReview.member_id == mid).order_by(MemberReview.year))],
        "audit": [_row(e) for e in s.exec(q_audit)],
        "messages": [{"chat_id": o.chat_id, "status": o.status,
                      "created_at": _plain(o.created_at), "sent_at": _plain(o.sent_at),
                      "text": (o.payload or {}).get("text")}
                     for o in s.exec(select(OutboxMessage).where(OutboxMessage.chat_id.in_(
                         _private_chats(mid, accounts))).order_by(OutboxMessage.id))],
        "forms": [_row(f) for f in s.exec(select(FormState).where(
            FormState.user_id.in_(users)))] if users else [],
    }


def export_json(s: Session, member: Member) -> str:
    return json.dumps(export_member(s, member), ensure_ascii=False, indent=2, default=str)


def pseudonym(member_id: int) -> str:
    return _("Đảng viên #{id}").format(id=member_id)


def _replace_in_json(value: Any, pattern: re.Pattern[str], alias: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(alias, value)
    if isinstance(value, list):
        return [_replace_in_json(v, pattern, alias) for v in value]
    if isinstance(value, dict):
        return {k: _replace_in_json(v, pattern, alias) for k, v in value.items()}
    return value


def erase_member(s: Session, member: Member, *, now: datetime) -> dict[str, int]:
    """Apply the erasure rules above to ``member`` (the caller commits); returns how many
    rows each step touched. Raises PersonalDataError for a member still in the cell."""
    if member.active:
        raise PersonalDataError(_(
            "Đồng chí {name} vẫn đang sinh hoạt ở chi bộ: chỉ xóa dữ liệu cá nhân của đảng viên "
            "đã rời chi bộ (chuyển sinh hoạt, xóa tên, từ trần). Cập nhật danh sách trước."
        ).format(name=member.full_name))
    mid = member.id or 0
    alias = pseudonym(mid)
    pattern = name_pattern(member.full_name)
    accounts = _accounts(s, mid)
    users = [a.platform_user_id for a in accounts]
    chats = _private_chats(mid, accounts)
    counts: dict[str, int] = {}

    def gone(key: str, stmt: Any) -> None:
        counts[key] = s.execute(stmt).rowcount or 0

    gone("messages", delete(OutboxMessage).where(OutboxMessage.chat_id.in_(chats)))
    gone("link_codes", delete(LinkCode).where(LinkCode.member_id == mid))
    gone("join_requests", delete(JoinRequest).where(or_(
        JoinRequest.member_id == mid, JoinRequest.platform_user_id.in_(users))))
    if users:
        gone("forms", delete(FormState).where(FormState.user_id.in_(users)))
        gone("code_attempts", delete(CodeAttempt).where(CodeAttempt.user_id.in_(users)))
        gone("parked_updates", delete(ParkedUpdate).where(ParkedUpdate.sender_id.in_(users)))
    gone("accounts", delete(Identity).where(Identity.member_id == mid))

    reasons = 0
    for a in s.exec(select(Attendance).where(Attendance.member_id == mid)):
        if a.reason or a.rsvp_reason:
            a.reason = a.rsvp_reason = None
            reasons += 1
    counts["absence_reasons"] = reasons
    for r in s.exec(select(MemberReview).where(MemberReview.member_id == mid)):
        r.self_text = None

    renamed = 0
    for row, field in _mentions(s, pattern):
        setattr(row, field, pattern.sub(alias, getattr(row, field)))
        renamed += 1
    for cm in s.exec(select(CommitteeMeeting)):  # attendees: {"ids": [...], "names": [...]}
        names = _replace_in_json(cm.attendees, pattern, alias)
        if names != cm.attendees:
            cm.attendees = names
            renamed += 1
    # Messages to others and audit details: the JSON columns only (not the attachments).
    for col in (AuditEntry.detail, OutboxMessage.payload):  # type: ignore[attr-defined]
        table = col.class_
        for row_id, value in s.exec(select(table.id, col)).all():
            new = _replace_in_json(value, pattern, alias)
            if new != value:
                s.execute(update(table).where(table.id == row_id).values({col.key: new}))
                renamed += 1
    counts["texts_renamed"] = renamed

    member.full_name = alias
    member.import_key = f"erased:{mid}"
    member.party_code = member.phone = member.birth_date = None
    member.locale = member.preferred_platform = member.exempt_reason = None
    member.updated_at = now
    s.add(member)
    audit(s, "member.erased", "member", mid, None, **counts)
    return counts
