"""Enrolments indexed by quota ICS and state: a DSU lead's home finds their ICS's approved
nominees still to confirm from the index, not by reading every place in the region

Revision ID: b5d256c9ca69
Revises: c5794c79fbfd
Create Date: 2026-12-05 07:58:45.558931

"""
from alembic import op

revision = 'b5d256c9ca69'
down_revision = 'c5794c79fbfd'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_enrolment_quota_organisation_state', 'enrolment',
                    ['quota_organisation_id', 'state'], unique=False)


def downgrade():
    op.drop_index('ix_enrolment_quota_organisation_state', table_name='enrolment')
