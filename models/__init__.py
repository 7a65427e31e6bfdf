"""SQLModel tables and the queries over them. Importing this registers every table."""

from models.attempt import CodeAttempt
from models.attendance import Attendance
from models.audit import AuditEntry
from models.fees import FeePayment
from models.files import StoredFile
from models.form import FormState
from models.joinrequest import JoinRequest
from models.meeting import AgendaItem, Meeting, Task
from models.member import Identity, LinkCode, Member, RoleAssignment
from models.org import ChatBinding, Organisation
from models.outbox import OutboxMessage, ProcessedUpdate
from models.parked import ParkedUpdate
from models.plan import ThematicTopic
from models.records import (
    CommitteeMeeting,
    DocumentRevision,
    Guest,
    ItemConclusion,
    MeetingRecord,
    Opinion,
)
from models.review import MemberReview, OrgReview
from models.schedule import ScheduledStep
from models.score import Score, ScoreItem
from models.textguard import install as _install_textguard
from models.web import WebLink, WebSession

_install_textguard()

__all__ = [
    "AgendaItem",
    "Attendance",
    "AuditEntry",
    "ChatBinding",
    "CodeAttempt",
    "CommitteeMeeting",
    "DocumentRevision",
    "FeePayment",
    "FormState",
    "Guest",
    "Identity",
    "ItemConclusion",
    "JoinRequest",
    "LinkCode",
    "Meeting",
    "MeetingRecord",
    "Member",
    "MemberReview",
    "Opinion",
    "OrgReview",
    "Organisation",
    "OutboxMessage",
    "ParkedUpdate",
    "ProcessedUpdate",
    "RoleAssignment",
    "ScheduledStep",
    "Score",
    "ScoreItem",
    "StoredFile",
    "Task",
    "ThematicTopic",
    "WebLink",
    "WebSession",
]
