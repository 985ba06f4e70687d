"""risk: the shared risk-assessment frame, its versions, the units' assessments and answers,
and reports tied to a factor

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 20:00:00
"""
from alembic import op
import sqlalchemy as sa

from storage.types import UtcDateTime


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'risk_frame',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('published_at', UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('title', 'version'),
    )
    op.create_table(
        'risk_factor',
        sa.Column('frame_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('situation', sa.Text(), nullable=False),
        sa.Column('probability', sa.Integer(), nullable=False),
        sa.Column('consequence', sa.Integer(), nullable=False),
        sa.Column('existing', sa.Text(), nullable=False),
        sa.Column('suggested', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['frame_id'], ['risk_frame.id']),
        sa.PrimaryKeyConstraint('frame_id', 'key'),
    )
    op.create_table(
        'risk_assessment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('frame_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('verneombod', sa.String(length=200), nullable=True),
        sa.Column('signed_at', UtcDateTime(timezone=True), nullable=True),
        sa.Column('signed_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['frame_id'], ['risk_frame.id']),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id']),
        sa.ForeignKeyConstraint(['signed_by_id'], ['person.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('frame_id', 'unit_id', 'revision'),
    )
    op.create_index('ix_risk_assessment_frame_id', 'risk_assessment', ['frame_id'])
    op.create_index('ix_risk_assessment_unit_id', 'risk_assessment', ['unit_id'])
    op.create_table(
        'risk_answer',
        sa.Column('assessment_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('decision', sa.String(length=20), nullable=False),
        sa.Column('probability', sa.Integer(), nullable=True),
        sa.Column('consequence', sa.Integer(), nullable=True),
        sa.Column('measures', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('situation', sa.Text(), nullable=False),
        sa.Column('carried', sa.Boolean(), nullable=False),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('answered_at', UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['assessment_id'], ['risk_assessment.id']),
        sa.ForeignKeyConstraint(['answered_by_id'], ['person.id']),
        sa.PrimaryKeyConstraint('assessment_id', 'key'),
    )
    op.create_table(
        'report_risk_factor',
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('assessment_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('linked_by_id', sa.Integer(), nullable=True),
        sa.Column('linked_at', UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['report.id']),
        sa.ForeignKeyConstraint(['assessment_id'], ['risk_assessment.id']),
        sa.ForeignKeyConstraint(['linked_by_id'], ['person.id']),
        sa.PrimaryKeyConstraint('report_id'),
    )
    op.create_index(
        'ix_report_risk_factor_assessment_id', 'report_risk_factor', ['assessment_id']
    )


def downgrade() -> None:
    op.drop_table('report_risk_factor')
    op.drop_table('risk_answer')
    op.drop_table('risk_assessment')
    op.drop_table('risk_factor')
    op.drop_table('risk_frame')
