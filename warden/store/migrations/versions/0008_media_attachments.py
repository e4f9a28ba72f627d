"""media attachments (issue 33): uploaded images, and a rendering copy of them on each post

Revision ID: 0008
Revises: 0003
Create Date: 2026-12-06 22:48:49.454489
"""

from alembic import op
import sqlalchemy as sa
import warden.store.models


revision = '0008'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('media_attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('extension', sa.String(length=8), nullable=False),
    sa.Column('file_size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('small_content_type', sa.String(length=32), nullable=False),
    sa.Column('small_extension', sa.String(length=8), nullable=False),
    sa.Column('small_width', sa.Integer(), nullable=False),
    sa.Column('small_height', sa.Integer(), nullable=False),
    sa.Column('focus_x', sa.Float(), nullable=False),
    sa.Column('focus_y', sa.Float(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('blurhash', sa.String(length=100), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('upload_size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('upload_name', sa.String(length=255), nullable=True),
    sa.Column('created_at', warden.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', warden.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_id'], ['statuses.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('media_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_media_attachments_account_id_status_id', ['account_id', 'status_id'], unique=False)
        batch_op.create_index('ix_media_attachments_status_id', ['status_id'], unique=False)

    with op.batch_alter_table('statuses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_list', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('statuses', schema=None) as batch_op:
        batch_op.drop_column('media_list')

    with op.batch_alter_table('media_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_media_attachments_status_id')
        batch_op.drop_index('ix_media_attachments_account_id_status_id')

    op.drop_table('media_attachments')
