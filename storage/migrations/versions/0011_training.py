"""training: how far each person has come in each training module

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:00:00
"""
from alembic import op
import sqlalchemy as sa

from storage.types import UtcDateTime


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'training_progress',
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('module', sa.String(length=60), nullable=False),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('answered', sa.Integer(), nullable=False),
        sa.Column('right', sa.Integer(), nullable=False),
        sa.Column('started_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('completed_at', UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.PrimaryKeyConstraint('person_id', 'module'),
    )


def downgrade() -> None:
    op.drop_table('training_progress')
