"""The scheduler's last run of each job (job_run), so /metrics can report it from any web
worker: one row per job, written by the scheduler after each run.

Revision ID: 17b3d4736a36
Revises: 7fc642859cb6
Create Date: 2026-12-05 01:39:31.330574

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '17b3d4736a36'
down_revision = '7fc642859cb6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_run',
        sa.Column('job', sa.String(length=64), nullable=False),
        sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_succeeded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('job', name=op.f('pk_job_run')),
    )


def downgrade():
    op.drop_table('job_run')
