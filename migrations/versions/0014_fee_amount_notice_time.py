"""member.fee_amount: the usual monthly party fee from the member sheet's optional
"Mức đóng" column (fees in one message from the first month);
organisation.notice_days / notice_time: when a cell's notice goes out (/baotruoc)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 17:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_amount', sa.Integer(), nullable=True))
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('notice_time', sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('notice_time')
        batch_op.drop_column('notice_days')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('fee_amount')
