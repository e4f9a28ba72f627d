"""copies of removed posts (issue 32): the fingerprints of removed posts and their LSH keys

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import warden.store.models


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TS = warden.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('removed_texts',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('status_id', _ID, nullable=False),
    sa.Column('decision_id', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=50), nullable=True),
    sa.Column('version', sa.String(length=60), nullable=False),
    sa.Column('words', sa.Integer(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', _TS, nullable=False),
    sa.Column('withdrawn_at', _TS, nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('removed_texts', schema=None) as batch_op:
        batch_op.create_index('ix_removed_texts_status_id', ['status_id'], unique=False)
    op.create_table('removed_text_keys',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.Column('removed_text_id', _ID, nullable=False),
    sa.ForeignKeyConstraint(['removed_text_id'], ['removed_texts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('removed_text_keys', schema=None) as batch_op:
        batch_op.create_index('ix_removed_text_keys_key', ['key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('removed_text_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_removed_text_keys_key')
    op.drop_table('removed_text_keys')
    with op.batch_alter_table('removed_texts', schema=None) as batch_op:
        batch_op.drop_index('ix_removed_texts_status_id')
    op.drop_table('removed_texts')
