"""the year's member sheet read from an index: attendance (meeting_id, status, member_id)
replaces (meeting_id, status)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 18:50:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_meeting_status_member',
                              ['meeting_id', 'status', 'member_id'], unique=False)
        batch_op.drop_index('ix_attendance_meeting_status')


def downgrade() -> None:
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_meeting_status', ['meeting_id', 'status'],
                              unique=False)
        batch_op.drop_index('ix_attendance_meeting_status_member')
