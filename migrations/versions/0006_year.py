"""year: party fees (fee_payment)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 12:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'fee_payment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('cell_id', sa.Integer(), nullable=False),
        sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('paid', sa.Boolean(), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('recorded_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['cell_id'], ['organisation.id'], ),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
        sa.ForeignKeyConstraint(['recorded_by'], ['member.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('member_id', 'period', name='uq_fee_member_period'),
    )
    op.create_index('ix_fee_cell_period', 'fee_payment', ['cell_id', 'period'], unique=False)
    op.create_index(op.f('ix_fee_payment_member_id'), 'fee_payment', ['member_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_fee_payment_member_id'), table_name='fee_payment')
    op.drop_index('ix_fee_cell_period', table_name='fee_payment')
    op.drop_table('fee_payment')
