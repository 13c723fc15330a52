"""Registration questions: faculty set them; people answer them as they book; faculty read
the answers and download the register with them."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from lms.learning import materials, questions
from lms.learning.blueprint import MANAGERS, bp
from lms.learning.questions_forms import QuestionForm, answers_form
from lms.learning.questions_models import SUGGESTED_WORDING
from lms.offerings.policy import may_book
from lms.web import Confirmation, confirm_then, offering_url, role_required, submit


def _details(form: QuestionForm) -> questions.QuestionDetails:
    return questions.QuestionDetails(form.kind.data, form.text.data, form.hint.data,
                                     form.required.data)


@bp.route("/faculty/offerings/<int:offering_id>/questions", methods=["GET", "POST"])
@role_required(*MANAGERS)
def manage_questions(offering_id: int):
    """The questions an offering asks at booking, and a form to add one."""
    offering = materials.get_offering(offering_id)
    form = QuestionForm()
    done = submit(form, lambda: questions.add_question(current_user, offering,
                                                       _details(form)))
    if done:
        flash("The question has been added", "success")
        return redirect(url_for("learning.manage_questions", offering_id=offering.id))
    return render_template("learning/questions.html", offering=offering, form=form,
                           questions=questions.questions_of(offering.id),
                           suggested=SUGGESTED_WORDING, back=offering_url(offering))


@bp.route("/faculty/registration-questions/<int:question_id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_question(question_id: int):
    """Change a question's wording, hint or whether it must be answered."""
    question = questions.get_question(question_id)
    form = QuestionForm(obj=question)
    done = submit(form, lambda: questions.update_question(current_user, question,
                                                          _details(form)))
    back = url_for("learning.manage_questions", offering_id=question.offering_id)
    if done:
        flash("The question has been changed", "success")
        return redirect(back)
    return render_template("learning/question_form.html", form=form, question=question,
                           back=back)


@bp.route("/faculty/registration-questions/<int:question_id>/remove", methods=["GET", "POST"])
@role_required(*MANAGERS)
def remove_question(question_id: int):
    """Ask, then stop asking a question (its answers go with it)."""
    question = questions.get_question(question_id)
    back = url_for("learning.manage_questions", offering_id=question.offering_id)
    return confirm_then(
        Confirmation(f"Stop asking “{question.text}”?",
                     ("The answers people have already given to it are deleted. This cannot "
                      "be undone.",), "Remove the question", back, keep="Keep it"),
        lambda: questions.remove_question(current_user, question),
        done=lambda text: f"“{text}” is no longer asked", back=back)


@bp.route("/faculty/offerings/<int:offering_id>/answers")
@role_required(*MANAGERS)
def answers(offering_id: int):
    """Everyone's answers, for the offering's faculty."""
    offering = materials.get_offering(offering_id)
    asked, rows = questions.answer_rows(current_user, offering)
    return render_template("learning/answers.html", offering=offering, questions=asked,
                           rows=rows, back=offering_url(offering))


@bp.route("/faculty/offerings/<int:offering_id>/register.csv")
@role_required(*MANAGERS)
def register_csv(offering_id: int):
    """The register of people booked, with their answers, as a spreadsheet."""
    offering = materials.get_offering(offering_id)
    body = questions.register_csv(current_user, offering)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="register-{offering.id}.csv"'})


@bp.route("/offerings/<int:offering_id>/register", methods=["GET", "POST"])
@login_required
def register(offering_id: int):
    """Answer the offering's questions and book, in one step."""
    offering = questions.offering_to_book(current_user, offering_id)
    asked = questions.questions_of(offering.id)
    decision = may_book(current_user, offering)
    if not asked or not decision:
        if not decision:
            flash(decision.reason, "error")
        return redirect(offering_url(offering))
    form = answers_form(asked)
    done = submit(form, lambda: questions.book_with_answers(current_user, offering, {
        q.id: form[f"answer_{q.id}"].data for q in asked}), every_problem_at_once=True)
    if done:
        flash(done.value.state_label + ". We have sent you an email.", "success")
        return redirect(offering_url(offering))
    return render_template("learning/register.html", offering=offering, form=form,
                           questions=asked, back=offering_url(offering))
