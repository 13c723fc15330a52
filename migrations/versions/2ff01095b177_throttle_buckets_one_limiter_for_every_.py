"""Throttle buckets: the sign-in attempts table becomes one limiter for every door
(sign-in, forgot password, sign-up, resend confirmation, check-in codes); rows so far are
sign-in failures. Stored emails that are not plain ASCII get their one canonical spelling
(lms.accounts.emails), so every later spelling finds them.

Revision ID: 2ff01095b177
Revises: 069f692a1442
Create Date: 2026-12-04 23:37:24.312849

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2ff01095b177'
down_revision = '069f692a1442'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bucket', sa.String(length=24), server_default='sign_in',
                                      nullable=False))
    _canonical_emails()


def _canonical_emails():
    from lms.accounts.emails import canonical_email

    bind = op.get_bind()
    users = sa.table('user_account', sa.column('id', sa.Integer), sa.column('email', sa.String))
    rows = bind.execute(sa.select(users.c.id, users.c.email)).all()
    taken = {email for _, email in rows}
    for user_id, email in rows:
        if email.isascii():
            continue
        try:
            canonical = canonical_email(email)
        except ValueError:
            continue
        if canonical != email and canonical not in taken:  # never merge two accounts
            bind.execute(users.update().where(users.c.id == user_id).values(email=canonical))
            taken.add(canonical)


def downgrade():
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.drop_column('bucket')
