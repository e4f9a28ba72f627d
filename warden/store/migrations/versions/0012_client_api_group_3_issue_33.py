"""client API group 3 (issue 33): notification policies, requests and permissions, the `filtered` flag on
notifications, Web Push subscriptions and the server's key pairs (VAPID)

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-06 23:40:00.000000
"""

from alembic import op
import sqlalchemy as sa
import warden.store.models


revision = '0012'
down_revision = '0009'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TS = warden.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filtered', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('group_key', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_notifications_account_id_group_key', ['account_id', 'group_key'], unique=False)
    op.create_table('notification_policies',
    sa.Column('account_id', _ID, nullable=False),
    sa.Column('for_not_following', sa.String(length=8), nullable=False),
    sa.Column('for_not_followers', sa.String(length=8), nullable=False),
    sa.Column('for_new_accounts', sa.String(length=8), nullable=False),
    sa.Column('for_private_mentions', sa.String(length=8), nullable=False),
    sa.Column('for_limited_accounts', sa.String(length=8), nullable=False),
    sa.Column('updated_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id')
    )
    op.create_table('notification_requests',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('account_id', _ID, nullable=False),
    sa.Column('from_account_id', _ID, nullable=False),
    sa.Column('last_status_id', _ID, nullable=True),
    sa.Column('created_at', _TS, nullable=False),
    sa.Column('updated_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['last_status_id'], ['statuses.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'from_account_id')
    )
    with op.batch_alter_table('notification_requests', schema=None) as batch_op:
        batch_op.create_index('ix_notification_requests_account_id_id', ['account_id', 'id'], unique=False)
    op.create_table('notification_permissions',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('account_id', _ID, nullable=False),
    sa.Column('from_account_id', _ID, nullable=False),
    sa.Column('created_at', _TS, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'from_account_id')
    )
    op.create_table('push_subscriptions',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('token_id', _ID, nullable=False),
    sa.Column('account_id', _ID, nullable=False),
    sa.Column('endpoint', sa.Text(), nullable=False),
    sa.Column('key_p256dh', sa.String(length=200), nullable=False),
    sa.Column('key_auth', sa.String(length=100), nullable=False),
    sa.Column('alerts', sa.JSON(), nullable=False),
    sa.Column('policy', sa.String(length=16), nullable=False),
    sa.Column('standard', sa.Boolean(), nullable=False),
    sa.Column('created_at', _TS, nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['oauth_tokens.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_id')
    )
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscriptions_account_id'), ['account_id'], unique=False)
    op.create_table('server_key_pairs',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=False),
    sa.Column('public_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', _TS, nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('server_key_pairs')
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_account_id'))
    op.drop_table('push_subscriptions')
    op.drop_table('notification_permissions')
    with op.batch_alter_table('notification_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_requests_account_id_id')
    op.drop_table('notification_requests')
    op.drop_table('notification_policies')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_account_id_group_key')
        batch_op.drop_column('group_key')
        batch_op.drop_column('filtered')
