"""Registration question forms: shape only; the rules are in ``lms.learning.questions``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from lms.learning.questions_models import QUESTION_KINDS


class QuestionForm(FlaskForm):
    kind = RadioField("What is it about?", validate_choice=False,
                      choices=[SelectChoice(k, label) for k, label in QUESTION_KINDS.items()])
    text = StringField("The question")
    hint = StringField("Hint (optional)")
    required = BooleanField("People must answer it to book")


def answers_form(questions) -> FlaskForm:
    """A form with one box per question, named ``answer_<id>``."""

    class AnswersForm(FlaskForm):
        pass

    for question in questions:
        setattr(AnswersForm, f"answer_{question.id}", TextAreaField(
            question.text + ("" if question.required else " (optional)")))
    return AnswersForm()
