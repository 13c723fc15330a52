"""Throttle buckets: the sign-in attempts table becomes one limiter for every door
(sign-in, forgot password, sign-up, resend confirmation, check-in codes); rows so far are
sign-in failures.

Revision ID: 2ff01095b177
Revises: ad9124c559c9
Create Date: 2026-12-04 23:37:24.312849

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2ff01095b177'
down_revision = 'ad9124c559c9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bucket', sa.String(length=24), server_default='sign_in',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.drop_column('bucket')
