"""meeting cycle fields

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 16:44:48.942074
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thematic_part', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('agenda_rev', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('agenda_posted_rev', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('docs_posted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('manual_time', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('score_reopened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_column('score_reopened_at')
        batch_op.drop_column('manual_time')
        batch_op.drop_column('docs_posted_at')
        batch_op.drop_column('agenda_posted_rev')
        batch_op.drop_column('agenda_rev')
        batch_op.drop_column('revision')
        batch_op.drop_column('thematic_part')

