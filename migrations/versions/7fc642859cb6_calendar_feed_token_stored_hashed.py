"""Calendar feed tokens stored hashed: only the SHA-256 of each secret is kept, so a copy of
the database opens nobody's feed. Existing addresses keep working (their tokens are hashed
here); the unique index on the hash keeps the feed's look-up one indexed read.

Revision ID: 7fc642859cb6
Revises: 9b11ece2b7dc
Create Date: 2026-12-04 23:42:42.191830

"""
import hashlib

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7fc642859cb6'
down_revision = '9b11ece2b7dc'
branch_labels = None
depends_on = None

feed_tokens = sa.table("calendar_feed_token", sa.column("user_id", sa.Integer),
                       sa.column("token", sa.String), sa.column("token_hash", sa.String))


def upgrade():
    with op.batch_alter_table('calendar_feed_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    for user_id, token in connection.execute(
            sa.select(feed_tokens.c.user_id, feed_tokens.c.token)).all():
        connection.execute(
            feed_tokens.update().where(feed_tokens.c.user_id == user_id)
            .values(token_hash=hashlib.sha256(token.encode()).hexdigest()))
    with op.batch_alter_table('calendar_feed_token', schema=None) as batch_op:
        batch_op.alter_column('token_hash', existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_calendar_feed_token_token'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_calendar_feed_token_token_hash'),
                                          ['token_hash'])
        batch_op.drop_column('token')


def downgrade():
    # A hash cannot be turned back into its token: every address is dropped, and people
    # make a new one on their calendar page.
    op.execute(feed_tokens.delete())
    with op.batch_alter_table('calendar_feed_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.VARCHAR(length=64), nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_calendar_feed_token_token_hash'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_calendar_feed_token_token'), ['token'])
        batch_op.drop_column('token_hash')
