"""Events have an optional strand of the network (for the events list's strand filter)

Revision ID: 807640798536
Revises: 976396ba9a83
Create Date: 2026-12-05 02:35:17.652571

"""
import sqlalchemy as sa
from alembic import op

revision = '807640798536'
down_revision = "976396ba9a83"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offering', schema=None) as batch_op:
        batch_op.add_column(sa.Column('strand', sa.String(length=30), nullable=True))


def downgrade():
    with op.batch_alter_table('offering', schema=None) as batch_op:
        batch_op.drop_column('strand')
