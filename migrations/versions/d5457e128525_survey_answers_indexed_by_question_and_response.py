"""Survey answers indexed by question and response: how many answered each question (the
results page) is counted from the index alone

Revision ID: d5457e128525
Revises: 0cd7a22544cd
Create Date: 2026-12-05 05:17:36.721710

"""
from alembic import op

revision = 'd5457e128525'
down_revision = '0cd7a22544cd'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_survey_answer_question_response', 'survey_answer',
                    ['question_id', 'response_id'], unique=False)


def downgrade():
    op.drop_index('ix_survey_answer_question_response', table_name='survey_answer')
