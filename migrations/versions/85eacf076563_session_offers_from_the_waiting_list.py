"""session offers from the waiting list: a place at a festival session freed from its queue is
offered with a deadline (``offered``, ``offer_expires_at``), as places on offerings are

Revision ID: 85eacf076563
Revises: 3661ffd6eaa8
Create Date: 2026-12-04 22:29:46.291571

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '85eacf076563'
down_revision = '3661ffd6eaa8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('session_booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offer_expires_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.drop_constraint(op.f('ck_session_booking_state_known'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_session_booking_state_known'),
            "state IN ('booked', 'waitlisted', 'offered', 'cancelled')")
        batch_op.create_check_constraint(
            op.f('ck_session_booking_deadline_only_when_offered'),
            "(state = 'offered') = (offer_expires_at IS NOT NULL)")


def downgrade():
    op.execute("UPDATE session_booking SET state = 'cancelled', offer_expires_at = NULL "
               "WHERE state = 'offered'")
    with op.batch_alter_table('session_booking', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_session_booking_deadline_only_when_offered'),
                                 type_='check')
        batch_op.drop_constraint(op.f('ck_session_booking_state_known'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_session_booking_state_known'),
            "state IN ('booked', 'waitlisted', 'cancelled')")
        batch_op.drop_column('offer_expires_at')
