"""Learning materials: files and links on an offering or one of its sessions (issue 18).

Revision ID: fd4b0921c1ef
Revises: 7fc642859cb6
Create Date: 2026-12-05 01:29:54.695609

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fd4b0921c1ef'
down_revision = '7fc642859cb6'
branch_labels = None
depends_on = None


def upgrade():
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



def downgrade():
    with op.batch_alter_table('learning_material', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_material_session_id'))
        batch_op.drop_index('ix_learning_material_offering_position')

    op.drop_table('learning_material')
