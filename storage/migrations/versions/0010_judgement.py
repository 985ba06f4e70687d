"""the leader's judgement: causes as data, the reporter's first severity and category kept
beside a change, when a report was acknowledged and closed, and answers to legal duties

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 17:00:00
"""
from alembic import op
import sqlalchemy as sa

from domain.causes import default_causes
from storage.types import UtcDateTime


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# The moves that showed a leader had taken a report in, before this revision had its own
# column: the first of them is when it was acknowledged.
_ACKNOWLEDGING = "('acknowledged', 'measure_added', 'closed')"


def upgrade() -> None:
    cause = op.create_table(
        'cause',
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('label_nn', sa.String(length=100), nullable=False),
        sa.Column('label_nb', sa.String(length=100), nullable=True),
        sa.Column('label_en', sa.String(length=100), nullable=True),
        sa.Column('sort_order', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('code'),
    )
    op.bulk_insert(
        cause,
        [
            {
                'code': c.code,
                'label_nn': c.labels['nn'],
                'label_nb': c.labels.get('nb'),
                'label_en': c.labels.get('en'),
                'sort_order': c.order,
                'active': c.active,
            }
            for c in default_causes()
        ],
    )
    with op.batch_alter_table('report') as batch:
        batch.add_column(sa.Column('reported_severity', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('reported_category', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('cause', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('cause_text', sa.Text(), nullable=True))
        batch.add_column(sa.Column('acknowledged_at', UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('closed_at', UtcDateTime(timezone=True), nullable=True))
    # Reports handled before now: the times from their events.
    op.execute(
        "UPDATE report SET acknowledged_at = (SELECT MIN(e.at) FROM report_event e "
        f"WHERE e.report_id = report.id AND e.kind IN {_ACKNOWLEDGING})"
    )
    op.execute(
        "UPDATE report SET closed_at = (SELECT MIN(e.at) FROM report_event e "
        "WHERE e.report_id = report.id AND e.kind = 'closed')"
    )
    op.create_table(
        'report_duty',
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('duty', sa.String(length=40), nullable=False),
        sa.Column('answer', sa.String(length=20), nullable=False),
        sa.Column('later_until', sa.Date(), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('answered_at', UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['report.id']),
        sa.ForeignKeyConstraint(['answered_by_id'], ['person.id']),
        sa.PrimaryKeyConstraint('report_id', 'duty'),
    )


def downgrade() -> None:
    op.drop_table('report_duty')
    with op.batch_alter_table('report') as batch:
        for column in (
            'closed_at', 'acknowledged_at', 'cause_text', 'cause', 'reported_category',
            'reported_severity',
        ):
            batch.drop_column(column)
    op.drop_table('cause')
