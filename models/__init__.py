"""SQLModel tables and the queries over them. Importing this registers every table."""

from models.attendance import Attendance
from models.audit import AuditEntry
from models.files import StoredFile
from models.form import FormState
from models.joinrequest import JoinRequest
from models.meeting import AgendaItem, Meeting, Task
from models.member import Identity, LinkCode, Member, RoleAssignment
from models.org import ChatBinding, Organisation
from models.outbox import OutboxMessage, ProcessedUpdate
from models.parked import ParkedUpdate
from models.schedule import ScheduledStep
from models.score import Score, ScoreItem

__all__ = [
    "AgendaItem",
    "Attendance",
    "AuditEntry",
    "ChatBinding",
    "FormState",
    "Identity",
    "JoinRequest",
    "LinkCode",
    "Meeting",
    "Member",
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
]
