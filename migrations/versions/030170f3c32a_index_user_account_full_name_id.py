"""People indexed by name: the admin's people list reads a page in name order from the
index, not by sorting everyone (15,000 at national scale) on every page

Revision ID: 030170f3c32a
Revises: b5d256c9ca69
Create Date: 2026-12-05 13:45:08.359538

"""
from alembic import op

revision = '030170f3c32a'
down_revision = 'b5d256c9ca69'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_user_account_full_name_id', 'user_account', ['full_name', 'id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_user_account_full_name_id', table_name='user_account')
