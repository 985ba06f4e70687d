"""the municipality's categories as data, starting from the customer's nine

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 11:30:00
"""
from alembic import op
import sqlalchemy as sa

from domain.readers.categories import default_categories


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    category = op.create_table(
        'category',
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('label_nn', sa.String(length=100), nullable=False),
        sa.Column('label_nb', sa.String(length=100), nullable=True),
        sa.Column('label_en', sa.String(length=100), nullable=True),
        sa.Column('sort_order', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('code'),
    )
    # Every report so far stores one of these codes.
    op.bulk_insert(
        category,
        [
            {
                'code': c.code,
                'label_nn': c.labels['nn'],
                'label_nb': c.labels.get('nb'),
                'label_en': c.labels.get('en'),
                'sort_order': c.order,
                'active': c.active,
            }
            for c in default_categories()
        ],
    )


def downgrade() -> None:
    op.drop_table('category')
