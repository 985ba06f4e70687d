"""tips: the HMS adviser's «HMS i små dosar», their sendings and the recipients' votes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:00:00
"""
from alembic import op
import sqlalchemy as sa

from storage.types import UtcDateTime


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'tip',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('audience', sa.Text(), nullable=False),
        sa.Column('schedule', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['person.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_tip_status', 'tip', ['status'])
    op.create_table(
        'tip_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tip_id', sa.Integer(), nullable=False),
        sa.Column('planned_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('due_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('recipients', sa.Integer(), nullable=False),
        sa.Column('started_at', UtcDateTime(timezone=True), nullable=True),
        sa.Column('report_conversation_id', sa.String(length=300), nullable=True),
        sa.Column('report_activity_id', sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(['tip_id'], ['tip.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_tip_delivery_tip_id', 'tip_delivery', ['tip_id'])
    op.create_index('ix_tip_delivery_status', 'tip_delivery', ['status'])
    op.create_table(
        'tip_vote',
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('useful', sa.Boolean(), nullable=False),
        sa.Column('at', UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['tip_delivery.id']),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.PrimaryKeyConstraint('delivery_id', 'person_id'),
    )


def downgrade() -> None:
    op.drop_table('tip_vote')
    op.drop_index('ix_tip_delivery_status', table_name='tip_delivery')
    op.drop_index('ix_tip_delivery_tip_id', table_name='tip_delivery')
    op.drop_table('tip_delivery')
    op.drop_index('ix_tip_status', table_name='tip')
    op.drop_table('tip')
