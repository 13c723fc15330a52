"""An offering carries whether it is published: a cohort follows its course, so the
offerings' policy on who may see it reads the offering alone.

Revision ID: ad9124c559c9
Revises: 85eacf076563
Create Date: 2026-12-04 22:28:16.986147

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'ad9124c559c9'
down_revision = '85eacf076563'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offering', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published', sa.Boolean(), server_default=sa.text('true'),
                                      nullable=False))
    # Cohorts of courses unpublished today are withheld from the start.
    op.execute(
        "UPDATE offering SET published = false WHERE id IN "
        "(SELECT cohort.id FROM cohort JOIN course ON course.id = cohort.course_id "
        "WHERE course.published = false)"
    )


def downgrade():
    with op.batch_alter_table('offering', schema=None) as batch_op:
        batch_op.drop_column('published')
