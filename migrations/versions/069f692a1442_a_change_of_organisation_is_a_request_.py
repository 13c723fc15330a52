"""a change of organisation is a request the new ICS decides

organisation_change: a person's request to move, decided by the new ICS's DSU lead or an admin.

Revision ID: 069f692a1442
Revises: e05b2dcf63d6
Create Date: 2026-12-04 23:46:06.984754

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '069f692a1442'
down_revision = 'e05b2dcf63d6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisation_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('from_organisation_id', sa.Integer(), nullable=False),
    sa.Column('to_organisation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'approved', 'declined', 'withdrawn')", name=op.f('ck_organisation_change_status_known')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_organisation_change_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['from_organisation_id'], ['organisation.id'], name=op.f('fk_organisation_change_from_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['to_organisation_id'], ['organisation.id'], name=op.f('fk_organisation_change_to_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_organisation_change_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_change'))
    )
    with op.batch_alter_table('organisation_change', schema=None) as batch_op:
        batch_op.create_index('ix_organisation_change_to_status', ['to_organisation_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_change_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('organisation_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_change_user_id'))
        batch_op.drop_index('ix_organisation_change_to_status')

    op.drop_table('organisation_change')