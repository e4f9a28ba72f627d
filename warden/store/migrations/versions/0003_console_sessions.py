"""console sessions kept on the server (issue 29 item 4); notices a partner may not see (item 9)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 21:20:00.000000
"""

from alembic import op
import sqlalchemy as sa
import warden.store.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('console_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('partner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', warden.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', warden.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', warden.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_console_sessions_expires_at', ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_sessions_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_sessions_partner_id'), ['partner_id'], unique=False)
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('concealed', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_column('concealed')
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_sessions_partner_id'))
        batch_op.drop_index(batch_op.f('ix_console_sessions_account_id'))
        batch_op.drop_index('ix_console_sessions_expires_at')
    op.drop_table('console_sessions')
