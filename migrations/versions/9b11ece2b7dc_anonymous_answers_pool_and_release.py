"""Anonymous answers wait in a pool with random keys and reach the results in batches; on
SQLite the answer and respondent tables lose their hidden rowid, so no insertion counter pairs
a person with their answers.

Revision ID: 9b11ece2b7dc
Revises: 2ff01095b177
Create Date: 2026-12-04 23:36:57.953018

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9b11ece2b7dc'
down_revision = '2ff01095b177'
branch_labels = None
depends_on = None

# Children first: a parent is dropped only once nothing refers to it, so foreign keys (on
# during migrations) cascade nothing away.
_TABLES = ("survey_answer", "survey_response", "survey_respondent")
_SUFFIX = " WITHOUT ROWID"


def _rebuild_sqlite(without_rowid: bool) -> None:
    """Rebuild the tables with (or without) SQLite's rowid: copy the rows aside, drop, create
    from the stored definition with the suffix added (or removed), and copy back in key order
    (random keys for answers, survey and person for respondents)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    saved = {}
    for table in _TABLES:
        create = bind.execute(sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :n"),
            {"n": table}).scalar_one()
        indexes = bind.execute(sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :n "
            "AND sql IS NOT NULL"), {"n": table}).scalars().all()
        create = create.removesuffix(_SUFFIX)
        saved[table] = (create + _SUFFIX if without_rowid else create, indexes)
        op.execute(f"CREATE TABLE _copy_{table} AS SELECT * FROM {table}")
    for table in _TABLES:
        op.execute(f"DROP TABLE {table}")
    for table in reversed(_TABLES):
        create, indexes = saved[table]
        op.execute(create)
        for index in indexes:
            op.execute(index)
        key = "survey_id, user_id" if table == "survey_respondent" else "id"
        op.execute(f"INSERT INTO {table} SELECT * FROM _copy_{table} ORDER BY {key}")
        op.execute(f"DROP TABLE _copy_{table}")


def upgrade():
    op.create_table('survey_pending_response',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_pending_response_survey_id_survey'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_pending_response')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('survey_pending_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_pending_response_survey_id'), ['survey_id'], unique=False)

    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))

    _rebuild_sqlite(without_rowid=True)


def downgrade():
    _rebuild_sqlite(without_rowid=False)

    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_column('released_at')

    with op.batch_alter_table('survey_pending_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_pending_response_survey_id'))

    op.drop_table('survey_pending_response')
