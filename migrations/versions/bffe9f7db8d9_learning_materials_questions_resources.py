"""Learning between sessions (issue 18): materials on an offering or a session, registration questions and answers, and networks' shared resources.

Revision ID: bffe9f7db8d9
Revises: b5182f3e5c4e
Create Date: 2026-12-05 01:53:34.451321

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bffe9f7db8d9'
down_revision = "b5182f3e5c4e"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('registration_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('hint', sa.String(length=300), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('access', 'dietary', 'hopes', 'other')", name=op.f('ck_registration_question_kind_known')),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_registration_question_offering_id_offering'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_question'))
    )
    with op.batch_alter_table('registration_question', schema=None) as batch_op:
        batch_op.create_index('ix_registration_question_offering_position', ['offering_id', 'position'], unique=False)

    op.create_table('learning_material',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('file_key', sa.String(length=80), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('content_type', sa.String(length=120), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('visible_from', sa.String(length=5), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'file') = (file_key IS NOT NULL)", name=op.f('ck_learning_material_file_has_key')),
    sa.CheckConstraint("(kind = 'link') = (url IS NOT NULL)", name=op.f('ck_learning_material_link_has_url')),
    sa.CheckConstraint("kind IN ('file', 'link')", name=op.f('ck_learning_material_kind_known')),
    sa.CheckConstraint("visible_from IN ('now', 'start', 'after')", name=op.f('ck_learning_material_visible_from_known')),
    sa.CheckConstraint('size IS NULL OR size >= 0', name=op.f('ck_learning_material_size_not_negative')),
    sa.ForeignKeyConstraint(['added_by_id'], ['user_account.id'], name=op.f('fk_learning_material_added_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], name=op.f('fk_learning_material_offering_id_offering'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['offering_session.id'], name=op.f('fk_learning_material_session_id_offering_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_material')),
    sa.UniqueConstraint('file_key', name=op.f('uq_learning_material_file_key'))
    )
    with op.batch_alter_table('learning_material', schema=None) as batch_op:
        batch_op.create_index('ix_learning_material_offering_position', ['offering_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_learning_material_session_id'), ['session_id'], unique=False)

    op.create_table('network_resource',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tags', sa.String(length=400), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('file_key', sa.String(length=80), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('content_type', sa.String(length=120), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('members_only', sa.Boolean(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'file') = (file_key IS NOT NULL)", name=op.f('ck_network_resource_file_has_key')),
    sa.CheckConstraint("(kind = 'link') = (url IS NOT NULL)", name=op.f('ck_network_resource_link_has_url')),
    sa.CheckConstraint("kind IN ('file', 'link')", name=op.f('ck_network_resource_kind_known')),
    sa.ForeignKeyConstraint(['added_by_id'], ['user_account.id'], name=op.f('fk_network_resource_added_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['network_id'], ['offering.id'], name=op.f('fk_network_resource_network_id_offering'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_resource')),
    sa.UniqueConstraint('file_key', name=op.f('uq_network_resource_file_key'))
    )
    with op.batch_alter_table('network_resource', schema=None) as batch_op:
        batch_op.create_index('ix_network_resource_network_pinned', ['network_id', 'pinned'], unique=False)

    op.create_table('registration_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['registration_question.id'], name=op.f('fk_registration_answer_question_id_registration_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_registration_answer_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_answer')),
    sa.UniqueConstraint('question_id', 'user_id', name='uq_registration_answer_question_user')
    )
    with op.batch_alter_table('registration_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_answer_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('registration_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_answer_user_id'))

    op.drop_table('registration_answer')
    with op.batch_alter_table('network_resource', schema=None) as batch_op:
        batch_op.drop_index('ix_network_resource_network_pinned')

    op.drop_table('network_resource')
    with op.batch_alter_table('learning_material', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_material_session_id'))
        batch_op.drop_index('ix_learning_material_offering_position')

    op.drop_table('learning_material')
    with op.batch_alter_table('registration_question', schema=None) as batch_op:
        batch_op.drop_index('ix_registration_question_offering_position')

    op.drop_table('registration_question')
