"""Feedback pages: faculty build surveys, attach and schedule them, and read and download
results; people with a place answer them from their Feedback page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from lms.accounts.models import Role
from lms.clock import date_text
from lms.errors import DomainError, InvalidInput
from lms.feedback import builder, exports, pages, results, results_kept, services
from lms.feedback.charts import bar_chart
from lms.feedback.forms import (
    NewSurveyForm,
    QuestionForm,
    SaveAsTemplateForm,
    SurveySettingsForm,
    TemplateForm,
)
from lms.feedback.models import ANONYMITY_THRESHOLD, QuestionKind
from lms.offerings.services import get_offering
from lms.web import EmptyForm, attempt, perform, role_required, submit

bp = Blueprint("feedback", __name__)
MANAGERS = (Role.FACULTY, Role.ADMIN)



@bp.context_processor
def helpers() -> dict:
    """Words and the chart drawer for this blueprint's pages."""
    return {"state_of": services.state_of, "state_labels": services.STATE_LABELS,
            "QuestionKind": QuestionKind, "bar_chart": bar_chart,
            "threshold": ANONYMITY_THRESHOLD, "max_reminders": services.MAX_REMINDERS}


# ---------------------------------------------------------------------------- helpers


def _survey(id: int, *, template_ok: bool = True):
    survey = services.get_survey(id)
    if survey.is_template and not template_ok:
        abort(404)
    return survey


def _survey_page(survey) -> str:
    return url_for("feedback.survey", id=survey.id)


# ---------------------------------------------------------------------------- faculty: lists


@bp.route("/faculty/surveys")
@role_required(*MANAGERS)
def faculty_home():
    """Every offering with its number of surveys, and the way to the templates."""
    return render_template("feedback/faculty_home.html",
                           rows=pages.offerings_with_surveys())


@bp.route("/faculty/survey-templates")
@role_required(*MANAGERS)
def templates():
    """The templates surveys start from."""
    return render_template("feedback/templates.html", templates=services.templates())


@bp.route("/faculty/survey-templates/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_template():
    """Start an empty template."""
    form = TemplateForm()
    done = submit(form, lambda: builder.create_template(
        current_user, form.title.data, form.intro.data, form.anonymous.data != "no"))
    if done:
        flash("Template created. Add its questions.", "success")
        return redirect(_survey_page(done.value))
    return render_template("feedback/template_new.html", form=form)


@bp.route("/faculty/offerings/<int:id>/surveys")
@role_required(*MANAGERS)
def offering_surveys(id: int):
    """The surveys of one offering and its sessions."""
    offering = get_offering(id)
    surveys = services.surveys_of(offering)
    return render_template("feedback/offering_surveys.html", offering=offering,
                           surveys=surveys, counts=pages.counts_for([s.id for s in surveys]))


@bp.route("/faculty/offerings/<int:id>/surveys/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_survey(id: int):
    """Add a survey to an offering, from a template or blank."""
    offering = get_offering(id)
    form = NewSurveyForm()
    choices = [SelectChoice(str(t.id), t.title) for t in services.templates()]
    form.start_from.choices = [*choices, SelectChoice("blank", "A blank survey")]
    if request.method == "GET" and choices:
        form.start_from.data = choices[0].value
    done = submit(form, lambda: builder.create_survey(
        current_user, offering, form.start_from.data, form.title.data))
    if done:
        flash("Survey added. Set when it opens and closes.", "success")
        return redirect(url_for("feedback.survey_settings", id=done.value.id))
    return render_template("feedback/survey_new.html", offering=offering, form=form)


# ---------------------------------------------------------------------------- faculty: a survey


@bp.route("/faculty/surveys/<int:id>")
@role_required(*MANAGERS)
def survey(id: int):
    """A survey (or template): its settings, its questions in order, and what next."""
    survey = _survey(id)
    answered = pages.counts_for([survey.id]).get(survey.id, 0)
    return render_template(
        "feedback/survey.html", survey=survey, form=EmptyForm(), answered=answered,
        locked=builder.questions_locked(survey), eligible=services.eligible_count(survey),
        can_compare=results.can_compare(survey), made_from=services.template_title(survey),
        may_delete=builder.may_delete(survey),
    )


@bp.route("/faculty/surveys/<int:id>/preview")
@role_required(*MANAGERS)
def preview(id: int):
    """The survey as a learner will see it when it is open, read-only: nothing is sent."""
    survey = _survey(id)
    return render_template("feedback/preview.html", survey=survey)


def _session_label(session) -> str:
    when = date_text(session.starts_at)
    return f"{session.title} ({when})" if session.title else f"The session on {when}"


@bp.route("/faculty/surveys/<int:id>/settings", methods=["GET", "POST"])
@role_required(*MANAGERS)
def survey_settings(id: int):
    """Title, introduction, anonymity, the session it is about, and when it opens and
    closes."""
    survey = _survey(id)
    current = asdict(builder.settings_of(survey))
    current["anonymous"] = "yes" if current["anonymous"] else "no"
    current["session_id"] = str(current["session_id"] or "")
    form = SurveySettingsForm(data=current)
    if survey.offering is not None:
        form.session_id.choices = [SelectChoice("", f"The whole of {survey.offering.title}")] + [
            SelectChoice(str(s.id), _session_label(s)) for s in survey.offering.sessions]
    done = submit(form, lambda: builder.change_settings(survey, builder.SurveySettings(
        title=form.title.data, intro=form.intro.data, anonymous=form.anonymous.data != "no",
        session_id=form.session_id.data,
        opens_day=form.opens_day.data, opens_time=form.opens_time.data,
        closes_day=form.closes_day.data, closes_time=form.closes_time.data,
    )))
    if done:
        flash("Settings saved.", "success")
        return redirect(_survey_page(survey))
    return render_template("feedback/settings.html", survey=survey, form=form)


@bp.route("/faculty/surveys/<int:id>/delete", methods=["GET", "POST"])
@role_required(*MANAGERS)
def delete_survey(id: int):
    """Delete a survey nobody has answered, or an unused template (after a confirmation)."""
    survey = _survey(id)
    back = (url_for("feedback.templates") if survey.is_template
            else url_for("feedback.offering_surveys", id=survey.offering_id))
    form = EmptyForm()
    done = submit(form, lambda: builder.delete_survey(survey))
    if done:
        flash("Deleted.", "success")
        return redirect(back)
    return render_template("feedback/delete.html", survey=survey, form=form)


@bp.route("/faculty/surveys/<int:id>/save-as-template", methods=["GET", "POST"])
@role_required(*MANAGERS)
def save_as_template(id: int):
    """Keep a copy of a survey's questions as a template for other surveys."""
    survey = _survey(id)
    form = SaveAsTemplateForm()
    done = submit(form, lambda: builder.save_as_template(current_user, survey,
                                                         form.title.data))
    if done:
        flash(f"Saved as the template ‘{done.value.title}’.", "success")
        return redirect(_survey_page(survey))
    return render_template("feedback/save_as_template.html", survey=survey, form=form)


# ---------------------------------------------------------------------------- faculty: questions


def _question_details(form: QuestionForm) -> builder.QuestionDetails:
    return builder.QuestionDetails(kind=form.kind.data, text=form.text.data,
                                    hint=form.hint.data, required=bool(form.required.data),
                                    choices=form.choices.data)


@bp.route("/faculty/surveys/<int:id>/questions/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_question(id: int):
    """Add a question at the end of a survey."""
    survey = _survey(id)
    if builder.questions_locked(survey):
        flash("This survey has opened or has answers, so its questions cannot change.", "error")
        return redirect(_survey_page(survey))
    form = QuestionForm()
    done = submit(form, lambda: builder.add_question(survey, _question_details(form)))
    if done:
        flash("Question added.", "success")
        return redirect(_survey_page(survey) + f"#question-{done.value.id}")
    return render_template("feedback/question_form.html", survey=survey, question=None,
                           form=form)


@bp.route("/faculty/questions/<int:id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_question(id: int):
    """Change a question."""
    question = services.get_question(id)
    survey = question.survey
    if builder.questions_locked(survey):
        flash("This survey has opened or has answers, so its questions cannot change.", "error")
        return redirect(_survey_page(survey))
    form = QuestionForm(data={"kind": question.kind, "text": question.text,
                              "hint": question.hint, "required": question.required,
                              "choices": "\n".join(question.choices)})
    done = submit(form, lambda: builder.change_question(question, _question_details(form)))
    if done:
        flash("Question saved.", "success")
        return redirect(_survey_page(survey) + f"#question-{question.id}")
    return render_template("feedback/question_form.html", survey=survey, question=question,
                           form=form)


@bp.route("/faculty/questions/<int:id>/move/<any(up, down):direction>", methods=["POST"])
@role_required(*MANAGERS)
def move_question(id: int, direction: str):
    """Move a question up or down one place."""
    question = services.get_question(id)
    survey_id = question.survey_id
    perform(builder.move_question, question, direction, done=f"Question moved {direction}.")
    return redirect(url_for("feedback.survey", id=survey_id) + f"#question-{id}")


@bp.route("/faculty/questions/<int:id>/delete", methods=["POST"])
@role_required(*MANAGERS)
def delete_question(id: int):
    """Remove a question."""
    question = services.get_question(id)
    survey_id = question.survey_id
    perform(builder.remove_question, question, done="Question removed.")
    return redirect(url_for("feedback.survey", id=survey_id))


# ---------------------------------------------------------------------------- faculty: results


@bp.route("/faculty/surveys/<int:id>/results")
@role_required(*MANAGERS)
def results_page(id: int):
    """Counts, charts, averages and free text for each question."""
    return render_template("feedback/results.html", page=results_kept.results_page(id))


def _download(survey, make: Callable[[], bytes], suffix: str, mimetype: str):
    if results.is_hidden(survey, results.response_count(survey.id)):
        flash(f"Results of this anonymous survey stay hidden until at least "
              f"{ANONYMITY_THRESHOLD} people have answered.", "error")
        return redirect(url_for("feedback.results_page", id=survey.id))
    return Response(make(), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="survey-{survey.id}-results.{suffix}"',
        "Cache-Control": "no-store",
    })


@bp.route("/faculty/surveys/<int:id>/results.csv")
@role_required(*MANAGERS)
def export_csv(id: int):
    """Every response as CSV: answers only, never who gave them."""
    survey = _survey(id, template_ok=False)
    return _download(survey, lambda: exports.to_csv(survey), "csv", "text/csv")


@bp.route("/faculty/surveys/<int:id>/results.xlsx")
@role_required(*MANAGERS)
def export_xlsx(id: int):
    """Every response, and a summary, as an Excel workbook."""
    survey = _survey(id, template_ok=False)
    return _download(
        survey, lambda: exports.to_xlsx(survey, results.survey_results(survey)), "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/faculty/surveys/<int:id>/compare")
@role_required(*MANAGERS)
def compare(id: int):
    """The course's cohorts side by side, for surveys made from the same template."""
    survey = _survey(id, template_ok=False)
    comparison = results.comparison(survey)
    if comparison is None:
        abort(404)
    return render_template("feedback/compare.html", survey=survey, comparison=comparison)


# ---------------------------------------------------------------------------- learners


@bp.route("/feedback")
@login_required
def my_surveys():
    """The surveys open to the person now, and whether they have answered them."""
    return render_template("feedback/my_surveys.html",
                           rows=pages.open_surveys_for(current_user))


@bp.route("/feedback/<int:id>", methods=["GET", "POST"])
@login_required
def answer(id: int):
    """Answer a survey: save a draft to come back to, or send the answers (once)."""
    survey = _survey(id, template_ok=False)
    if request.method == "GET":
        return _answer_page(survey)
    if not EmptyForm().validate_on_submit():
        abort(400)
    saving = request.form.get("action") == "save"
    keep = services.save_draft if saving else services.submit
    outcome = attempt(keep, current_user, survey, request.form.to_dict(flat=False))
    if isinstance(outcome, DomainError):
        return _answer_page(survey, outcome)
    if saving:
        flash("Your answers have been saved. Come back to send them before the survey closes.",
              "success")
        return redirect(url_for("feedback.answer", id=id))
    flash("Thank you. Your answers have been sent.", "success")
    return redirect(url_for("feedback.my_surveys"))


def _answer_page(survey, error: DomainError | None = None):
    """The answer page; after refused answers, with what was given and every problem."""
    sheet = pages.answer_sheet(current_user, survey)
    errors: list[tuple[str | None, str]] = []
    if error is not None:
        errors = error.errors if isinstance(error, InvalidInput) else [
            (error.field, error.message)]
        sheet.values = services.form_values(survey, request.form.to_dict(flat=False))
    field_errors: dict[str, list[str]] = {}
    for name, message in errors:
        if name:
            field_errors.setdefault(name, []).append(message)
    return render_template("feedback/answer.html", sheet=sheet, survey=survey,
                           errors=errors, field_errors=field_errors)
