"""faults (placeholder: filled by the work on this part; empty until then)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 12:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('code_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_code_attempt_user', 'code_attempt', ['platform', 'user_id', 'at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_code_attempt_user', table_name='code_attempt')
    op.drop_table('code_attempt')
