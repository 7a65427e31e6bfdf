"""link codes: wrong codes keep their group's scope and are
counted per deployment (indexes on scope and time)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 16:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('code_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=100),
                                      nullable=True))
        batch_op.create_index('ix_code_attempt_scope', ['scope', 'at'], unique=False)
        batch_op.create_index('ix_code_attempt_at', ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('code_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_code_attempt_at')
        batch_op.drop_index('ix_code_attempt_scope')
        batch_op.drop_column('scope')
