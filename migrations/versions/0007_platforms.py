"""platforms: blocked identities, migrated group chats

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 12:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocked_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
    with op.batch_alter_table('chatbinding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_chat_id',
                                      sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('migrated_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chatbinding', schema=None) as batch_op:
        batch_op.drop_column('migrated_at')
        batch_op.drop_column('previous_chat_id')
    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.drop_column('blocked_at')
