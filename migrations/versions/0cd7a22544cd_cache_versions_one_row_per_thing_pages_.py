"""cache versions: one row per thing pages are built from (lms.cache), replacing the offer stamp

Revision ID: 0cd7a22544cd
Revises: 807640798536
Create Date: 2026-12-05 04:30:30.248290

"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0cd7a22544cd'
down_revision = '807640798536'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cache_version',
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_cache_version'))
    )
    # A first version of everything, so pages are kept from the start rather than after the
    # first change.
    op.execute(sa.text("INSERT INTO cache_version (scope, version) VALUES ('*', :version)")
               .bindparams(version=secrets.token_hex(16)))
    op.drop_table('offer_stamp')


def downgrade():
    op.create_table('offer_stamp',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('stamp', sa.VARCHAR(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_stamp'))
    )
    op.execute(sa.text("INSERT INTO offer_stamp (id, stamp) VALUES (1, :stamp)")
               .bindparams(stamp=secrets.token_hex(16)))
    op.drop_table('cache_version')
