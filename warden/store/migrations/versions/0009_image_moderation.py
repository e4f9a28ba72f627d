"""image moderation (issue 33): the PDQ hash block list and what was read from each uploaded image

Revision ID: 0009
Revises: 0011 (0003 on main; 0008 is media's, merged into this branch)
Create Date: 2026-12-06 23:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import warden.store.models


revision = '0009'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('image_hashes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('quality', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('decision_id', sa.String(length=40), nullable=True),
    sa.Column('partner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('media_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('label', sa.String(length=100), nullable=True),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('variants', sa.Text(), nullable=True),
    sa.Column('created_at', warden.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', warden.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('image_hashes', schema=None) as batch_op:
        batch_op.create_index('ix_image_hashes_active', ['withdrawn_at', 'id'], unique=False)
        batch_op.create_index('ix_image_hashes_partner_id', ['partner_id', 'id'], unique=False)
        batch_op.create_index('ix_image_hashes_status_id', ['status_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_hashes_hash'), ['hash'], unique=False)
    op.create_table('image_signals',
    sa.Column('media_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('pdq_hash', sa.String(length=64), nullable=True),
    sa.Column('pdq_quality', sa.Integer(), nullable=True),
    sa.Column('pdq_variants', sa.Text(), nullable=True),
    sa.Column('ocr_text', sa.Text(), nullable=True),
    sa.Column('ocr_engine', sa.String(length=50), nullable=True),
    sa.Column('created_at', warden.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('media_id')
    )


def downgrade() -> None:
    op.drop_table('image_signals')
    with op.batch_alter_table('image_hashes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_hashes_hash'))
        batch_op.drop_index('ix_image_hashes_status_id')
        batch_op.drop_index('ix_image_hashes_partner_id')
        batch_op.drop_index('ix_image_hashes_active')
    op.drop_table('image_hashes')
