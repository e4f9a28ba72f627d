"""queues per report type: a case's queue and the least role that sees it (issue 30, console)

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-06 23:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('moderation_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue', sa.String(length=40), server_default='general', nullable=False))
        batch_op.add_column(sa.Column('queue_role', sa.String(length=12), server_default='moderator',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('moderation_cases', schema=None) as batch_op:
        batch_op.drop_column('queue_role')
        batch_op.drop_column('queue')
