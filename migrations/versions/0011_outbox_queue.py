"""outbox read in id order: ix_outbox_queue (status, id) replaces ix_outbox_due

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 16:10:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_queue', ['status', 'id'], unique=False)
        batch_op.drop_index('ix_outbox_due')


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.drop_index('ix_outbox_queue')
