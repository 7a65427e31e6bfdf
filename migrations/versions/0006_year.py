"""year: party fees (fee_payment), yearly review (member_review, org_review),
thematic plan (thematic_topic)

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

    op.create_table(
        'member_review',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('cell_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('self_level', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column('self_text', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column('self_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('disciplined', sa.Boolean(), nullable=False),
        sa.Column('proposed_level', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column('proposed_by', sa.Integer(), nullable=True),
        sa.Column('proposed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('confirmed_level', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column('confirmed_by', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['cell_id'], ['organisation.id'], ),
        sa.ForeignKeyConstraint(['confirmed_by'], ['member.id'], ),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
        sa.ForeignKeyConstraint(['proposed_by'], ['member.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('member_id', 'year', name='uq_member_review_year'),
    )
    op.create_index(op.f('ix_member_review_cell_id'), 'member_review', ['cell_id'],
                    unique=False)
    op.create_index(op.f('ix_member_review_member_id'), 'member_review', ['member_id'],
                    unique=False)
    op.create_table(
        'org_review',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('proposed_level', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column('proposed_by', sa.Integer(), nullable=True),
        sa.Column('confirmed_level', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column('confirmed_by', sa.Integer(), nullable=True),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['confirmed_by'], ['member.id'], ),
        sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
        sa.ForeignKeyConstraint(['proposed_by'], ['member.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'year', name='uq_org_review_year'),
    )
    op.create_index(op.f('ix_org_review_org_id'), 'org_review', ['org_id'], unique=False)

    op.create_table(
        'thematic_topic',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cell_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('quarter', sa.Integer(), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('presenter', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column('meeting_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['cell_id'], ['organisation.id'], ),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_topic_cell_year', 'thematic_topic', ['cell_id', 'year'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_topic_cell_year', table_name='thematic_topic')
    op.drop_table('thematic_topic')
    op.drop_index(op.f('ix_org_review_org_id'), table_name='org_review')
    op.drop_table('org_review')
    op.drop_index(op.f('ix_member_review_member_id'), table_name='member_review')
    op.drop_index(op.f('ix_member_review_cell_id'), table_name='member_review')
    op.drop_table('member_review')
    op.drop_index(op.f('ix_fee_payment_member_id'), table_name='fee_payment')
    op.drop_index('ix_fee_cell_period', table_name='fee_payment')
    op.drop_table('fee_payment')
