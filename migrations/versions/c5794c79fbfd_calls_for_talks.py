"""Calls for talks: calls on a network or festival, proposals, co-presenters, reviews and
invited reviewers

Revision ID: c5794c79fbfd
Revises: d5457e128525
Create Date: 2026-12-05 04:27:50.273304

"""
import sqlalchemy as sa
from alembic import op

revision = 'c5794c79fbfd'
down_revision = 'd5457e128525'
branch_labels = None
depends_on = None


def upgrade():
    # A presenter certificate certifies a talk given, not a completion.
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('completion_id', existing_type=sa.Integer(), nullable=True)
    op.create_table('talk_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('wanted', sa.Text(), nullable=False),
    sa.Column('strands', sa.JSON(), nullable=False),
    sa.Column('lengths', sa.JSON(), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hide_scores_until_scored', sa.Boolean(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_talk_call_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_talk_call_offering_id_offering'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_talk_call'))
    )
    with op.batch_alter_table('talk_call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_talk_call_offering_id'), ['offering_id'], unique=False)

    op.create_table('talk_call_reviewer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['talk_call.id'], name=op.f('fk_talk_call_reviewer_call_id_talk_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user_account.id'], name=op.f('fk_talk_call_reviewer_invited_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_talk_call_reviewer_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_talk_call_reviewer')),
    sa.UniqueConstraint('call_id', 'user_id', name='uq_talk_call_reviewer_call_user')
    )
    with op.batch_alter_table('talk_call_reviewer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_talk_call_reviewer_user_id'), ['user_id'], unique=False)

    op.create_table('talk_call_session',
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['talk_call.id'], name=op.f('fk_talk_call_session_call_id_talk_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['offering_session.id'], name=op.f('fk_talk_call_session_session_id_offering_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'session_id', name=op.f('pk_talk_call_session'))
    )
    with op.batch_alter_table('talk_call_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_talk_call_session_session_id'), ['session_id'], unique=False)

    op.create_table('talk_proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('proposer_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('abstract', sa.Text(), nullable=False),
    sa.Column('strand', sa.String(length=30), nullable=False),
    sa.Column('length_minutes', sa.Integer(), nullable=False),
    sa.Column('preferred_dates', sa.String(length=500), nullable=False),
    sa.Column('slides_shareable', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('decided_message', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('submitted', 'withdrawn', 'accepted', 'declined', 'reserve')", name=op.f('ck_talk_proposal_state_known')),
    sa.CheckConstraint('length_minutes > 0 AND length_minutes <= 480', name=op.f('ck_talk_proposal_length_range')),
    sa.ForeignKeyConstraint(['call_id'], ['talk_call.id'], name=op.f('fk_talk_proposal_call_id_talk_call'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposer_id'], ['user_account.id'], name=op.f('fk_talk_proposal_proposer_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['offering_session.id'], name=op.f('fk_talk_proposal_session_id_offering_session'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_talk_proposal'))
    )
    with op.batch_alter_table('talk_proposal', schema=None) as batch_op:
        batch_op.create_index('ix_talk_proposal_call_state', ['call_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_talk_proposal_proposer_id'), ['proposer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_talk_proposal_session_id'), ['session_id'], unique=False)

    op.create_table('talk_co_presenter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['proposal_id'], ['talk_proposal.id'], name=op.f('fk_talk_co_presenter_proposal_id_talk_proposal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_talk_co_presenter_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_talk_co_presenter')),
    sa.UniqueConstraint('proposal_id', 'user_id', name='uq_talk_co_presenter_proposal_user')
    )
    with op.batch_alter_table('talk_co_presenter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_talk_co_presenter_user_id'), ['user_id'], unique=False)

    op.create_table('talk_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score >= 1 AND score <= 5', name=op.f('ck_talk_review_score_range')),
    sa.ForeignKeyConstraint(['proposal_id'], ['talk_proposal.id'], name=op.f('fk_talk_review_proposal_id_talk_proposal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user_account.id'], name=op.f('fk_talk_review_reviewer_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_talk_review')),
    sa.UniqueConstraint('proposal_id', 'reviewer_id', name='uq_talk_review_proposal_reviewer')
    )
    with op.batch_alter_table('talk_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_talk_review_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_talk_review_reviewer_id'), ['reviewer_id'], unique=False)



def downgrade():
    op.execute("DELETE FROM certificate WHERE completion_id IS NULL")
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('completion_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('talk_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_talk_review_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_talk_review_proposal_id'))

    op.drop_table('talk_review')
    with op.batch_alter_table('talk_co_presenter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_talk_co_presenter_user_id'))

    op.drop_table('talk_co_presenter')
    with op.batch_alter_table('talk_proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_talk_proposal_session_id'))
        batch_op.drop_index(batch_op.f('ix_talk_proposal_proposer_id'))
        batch_op.drop_index('ix_talk_proposal_call_state')

    op.drop_table('talk_proposal')
    with op.batch_alter_table('talk_call_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_talk_call_session_session_id'))

    op.drop_table('talk_call_session')
    with op.batch_alter_table('talk_call_reviewer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_talk_call_reviewer_user_id'))

    op.drop_table('talk_call_reviewer')
    with op.batch_alter_table('talk_call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_talk_call_offering_id'))

    op.drop_table('talk_call')
