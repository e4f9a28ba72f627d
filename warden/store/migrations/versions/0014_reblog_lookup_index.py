"""whether an account reblogged a post, in one index probe: statuses (reblog_of_id, account_id)

A home page asks, for each of its posts, whether the viewer reblogged it (`timelines._page_rows`), and
reblogging, un-reblogging and rendering a post ask the same. With only `(reblog_of_id)` and
`(account_id, id)` to choose from, SQLite walked the viewer's own posts for every post on the page
(with the bench's statistics: half of a home page's SQLite time; for a viewer with thousands of posts,
thousands of rows a post). The pair answers it in one probe, and its first column serves every lookup
the single-column index served, which it replaces. It holds the reblogs only (`reblog_of_id IS NOT
NULL`, which every `reblog_of_id = ...` implies): smaller, no cost to writing an ordinary post, and
statistics that describe reblogs, so the planner is not steered off it by a table of mostly NULLs.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 17:00:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

REBLOGS = "reblog_of_id IS NOT NULL"


def upgrade() -> None:  # plain index statements: SQLite needs no copy of the table for them
    op.create_index('ix_statuses_reblog_of_id_account_id', 'statuses', ['reblog_of_id', 'account_id'], unique=False,
                    sqlite_where=sa.text(REBLOGS), postgresql_where=sa.text(REBLOGS))
    op.drop_index('ix_statuses_reblog_of_id', table_name='statuses')


def downgrade() -> None:
    op.create_index('ix_statuses_reblog_of_id', 'statuses', ['reblog_of_id'], unique=False)
    op.drop_index('ix_statuses_reblog_of_id_account_id', table_name='statuses')
