"""Project work and reflection (lms.learning, helper "work"): assignments on a cohort with
the competencies they evidence, extensions, project groups, submissions and their files;
the reflective log with faculty comments; CPD done elsewhere.

Revision ID: 976396ba9a83
Revises: bffe9f7db8d9
Create Date: 2026-12-05 01:27:20.874573

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '976396ba9a83'
down_revision = "bffe9f7db8d9"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('brief', sa.Text(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('for_groups', sa.Boolean(), nullable=False),
    sa.Column('counts_to_completion', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_assignment_offering_id_offering'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment'))
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_offering_id'), ['offering_id'], unique=False)

    op.create_table('project_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_project_group_offering_id_offering'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_group')),
    sa.UniqueConstraint('offering_id', 'name', name='uq_project_group_offering_name')
    )
    with op.batch_alter_table('project_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_group_offering_id'), ['offering_id'], unique=False)

    op.create_table('assignment_competency',
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('competency_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.CheckConstraint('level BETWEEN 1 AND 4', name=op.f('ck_assignment_competency_level_on_scale')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_assignment_competency_assignment_id_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['competency_id'], ['competency.id'], name=op.f('fk_assignment_competency_competency_id_competency'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('assignment_id', 'competency_id', name=op.f('pk_assignment_competency'))
    )
    with op.batch_alter_table('assignment_competency', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_competency_competency_id'), ['competency_id'], unique=False)

    op.create_table('assignment_extension',
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_assignment_extension_assignment_id_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['user_account.id'], name=op.f('fk_assignment_extension_granted_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_assignment_extension_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assignment_id', 'user_id', name=op.f('pk_assignment_extension'))
    )
    with op.batch_alter_table('assignment_extension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_extension_user_id'), ['user_id'], unique=False)

    op.create_table('cpd_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=5, scale=1), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('evidence_filename', sa.String(length=255), nullable=True),
    sa.Column('evidence_content_type', sa.String(length=100), nullable=True),
    sa.Column('evidence_key', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('hours > 0 AND hours <= 1000', name=op.f('ck_cpd_activity_hours_sensible')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_cpd_activity_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cpd_activity')),
    sa.UniqueConstraint('evidence_key', name=op.f('uq_cpd_activity_evidence_key'))
    )
    with op.batch_alter_table('cpd_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cpd_activity_user_id'), ['user_id'], unique=False)

    op.create_table('project_group_member',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['project_group.id'], name=op.f('fk_project_group_member_group_id_project_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_project_group_member_offering_id_offering'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_project_group_member_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_project_group_member')),
    sa.UniqueConstraint('offering_id', 'user_id', name='uq_project_group_member_offering_user')
    )
    with op.batch_alter_table('project_group_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_group_member_user_id'), ['user_id'], unique=False)

    op.create_table('submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=False),
    sa.Column('resubmit_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('met', 'not_yet_met')", name=op.f('ck_submission_outcome_known')),
    sa.CheckConstraint('(user_id IS NULL) <> (group_id IS NULL)', name=op.f('ck_submission_one_owner')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_submission_assignment_id_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['project_group.id'], name=op.f('fk_submission_group_id_project_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['marked_by_id'], ['user_account.id'], name=op.f('fk_submission_marked_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user_account.id'], name=op.f('fk_submission_submitted_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_submission_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission')),
    sa.UniqueConstraint('assignment_id', 'group_id', name='uq_submission_assignment_group'),
    sa.UniqueConstraint('assignment_id', 'user_id', name='uq_submission_assignment_user')
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index('ix_submission_assignment_outcome', ['assignment_id', 'outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_user_id'), ['user_id'], unique=False)

    op.create_table('submission_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_submission_file_submission_id_submission'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_file')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_submission_file_storage_key'))
    )
    with op.batch_alter_table('submission_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_file_submission_id'), ['submission_id'], unique=False)

    op.create_table('reflection_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('what_happened', sa.Text(), nullable=False),
    sa.Column('what_learned', sa.Text(), nullable=False),
    sa.Column('do_differently', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('competency_id', sa.Integer(), nullable=True),
    sa.Column('shared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('evidence_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['competency_id'], ['competency.id'], name=op.f('fk_reflection_entry_competency_id_competency'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['evidence_id'], ['competency_evidence.id'], name=op.f('fk_reflection_entry_evidence_id_competency_evidence'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_reflection_entry_offering_id_offering'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['offering_session.id'], name=op.f('fk_reflection_entry_session_id_offering_session'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_reflection_entry_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reflection_entry'))
    )
    with op.batch_alter_table('reflection_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reflection_entry_offering_id'), ['offering_id'], unique=False)
        batch_op.create_index('ix_reflection_entry_user_day', ['user_id', 'happened_on'], unique=False)

    op.create_table('reflection_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_reflection_comment_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entry_id'], ['reflection_entry.id'], name=op.f('fk_reflection_comment_entry_id_reflection_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reflection_comment'))
    )
    with op.batch_alter_table('reflection_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reflection_comment_entry_id'), ['entry_id'], unique=False)



def downgrade():
    with op.batch_alter_table('reflection_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reflection_comment_entry_id'))

    op.drop_table('reflection_comment')
    with op.batch_alter_table('reflection_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_reflection_entry_user_day')
        batch_op.drop_index(batch_op.f('ix_reflection_entry_offering_id'))

    op.drop_table('reflection_entry')
    with op.batch_alter_table('submission_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_file_submission_id'))

    op.drop_table('submission_file')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_user_id'))
        batch_op.drop_index(batch_op.f('ix_submission_group_id'))
        batch_op.drop_index('ix_submission_assignment_outcome')

    op.drop_table('submission')
    with op.batch_alter_table('project_group_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_group_member_user_id'))

    op.drop_table('project_group_member')
    with op.batch_alter_table('cpd_activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cpd_activity_user_id'))

    op.drop_table('cpd_activity')
    with op.batch_alter_table('assignment_extension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_extension_user_id'))

    op.drop_table('assignment_extension')
    with op.batch_alter_table('assignment_competency', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_competency_competency_id'))

    op.drop_table('assignment_competency')
    with op.batch_alter_table('project_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_group_offering_id'))

    op.drop_table('project_group')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_offering_id'))

    op.drop_table('assignment')
