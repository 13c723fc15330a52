"""Sign in with an NHS account: identities at identity providers linked to accounts (one
account per issuer and subject), and the email domains an admin makes SSO-only.

Revision ID: 5cfa011f844b
Revises: 17b3d4736a36
Create Date: 2026-12-05 01:28:05.358858

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5cfa011f844b'
down_revision = "17b3d4736a36"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sso_only_domain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('domain = lower(domain)', name=op.f('ck_sso_only_domain_domain_lowercase')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_only_domain')),
    sa.UniqueConstraint('domain', name=op.f('uq_sso_only_domain_domain'))
    )
    op.create_table('external_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=300), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_external_identity_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_identity')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_external_identity_issuer_subject'))
    )
    with op.batch_alter_table('external_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_identity_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('external_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_identity_user_id'))

    op.drop_table('external_identity')
    op.drop_table('sso_only_domain')
