"""Email preferences and faculty messages: ``email_opt_out`` holds the kinds of optional
email (reminders, faculty messages) each person has switched off, one row each; no row means
they get it. ``faculty_message`` keeps each message faculty sent to an offering's people
(everyone, one session's, or the waiting list), with who sent it, when and to how many.

Revision ID: b5182f3e5c4e
Revises: 5cfa011f844b
Create Date: 2026-12-05 01:22:25.904145

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b5182f3e5c4e'
down_revision = "5cfa011f844b"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('email_opt_out',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('chosen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_email_opt_out_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_email_opt_out'))
    )
    op.create_table('faculty_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('audience', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=150), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('switched_off_count', sa.Integer(), nullable=False),
    sa.CheckConstraint("(audience = 'session') = (session_id IS NOT NULL)", name=op.f('ck_faculty_message_session_when_for_a_session')),
    sa.CheckConstraint("audience IN ('everyone', 'session', 'waitlist')", name=op.f('ck_faculty_message_audience_known')),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_faculty_message_offering_id_offering'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user_account.id'], name=op.f('fk_faculty_message_sent_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['offering_session.id'], name=op.f('fk_faculty_message_session_id_offering_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faculty_message'))
    )
    with op.batch_alter_table('faculty_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faculty_message_offering_id'), ['offering_id'], unique=False)



def downgrade():
    with op.batch_alter_table('faculty_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faculty_message_offering_id'))

    op.drop_table('faculty_message')
    op.drop_table('email_opt_out')
