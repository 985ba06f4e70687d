"""reminders: a leader may snooze a report's reminders until a date

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('report') as batch:
        batch.add_column(sa.Column('snoozed_until', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('report') as batch:
        batch.drop_column('snoozed_until')
