"""outbox rows lose live secrets and an erased person's details once sent

OutboxMessage.secrets_to_remove: what a row must lose once it has left.

Revision ID: e05b2dcf63d6
Revises: ad9124c559c9
Create Date: 2026-12-04 23:38:20.900243

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e05b2dcf63d6'
down_revision = 'ad9124c559c9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secrets_to_remove', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('secrets_to_remove')
