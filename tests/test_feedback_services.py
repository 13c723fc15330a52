"""Feedback rules without HTTP: building surveys, answering once, anonymity in the database,
bad input storing nothing, reminders, and the functions completion rules use."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import Role
from lms.attendance.completion import complete_on_feedback
from lms.clock import utcnow
from lms.errors import DomainError, InvalidInput, NotFound
from lms.extensions import db
from lms.feedback import builder, pages, pool
from lms.feedback import services as svc
from lms.feedback.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyDraft,
    SurveyQuestion,
    SurveyReminder,
    SurveyRespondent,
    SurveyResponse,
)
from lms.listeners import connect, listeners_of
from lms.notifications.models import OutboxMessage
from lms.offerings.models import Enrolment

# ---------------------------------------------------------------------------- helpers


def place(offering, user, state: str = "enrolled") -> None:
    db.session.add(Enrolment(offering_id=offering.id, user_id=user.id, state=state,
                             waitlist_position=1 if state == "waitlisted" else None))
    db.session.flush()


def standard() -> Survey:
    builder.ensure_standard_templates()
    return db.session.scalar(select(Survey).where(Survey.code == builder.STANDARD_TEMPLATE_CODE))


def open_survey(actor, offering, anonymous: bool = True, days: int = 7) -> Survey:
    """A survey from the standard template, open since an hour ago for ``days`` days."""
    survey = builder.create_survey(actor, offering, str(standard().id))
    survey.anonymous = anonymous
    survey.opens_at = utcnow() - timedelta(hours=1)
    survey.closes_at = survey.opens_at + timedelta(days=days)
    db.session.flush()
    return survey


def release_all(survey: Survey) -> int:
    """Move an anonymous survey's pending answers into its results, as the release job does
    once the survey has closed."""
    released = pool.release(survey.id, survey.closes_at)
    db.session.flush()
    return released


def question(survey: Survey, kind: str) -> SurveyQuestion:
    return next(q for q in survey.questions if q.kind == kind)


def full_answers(survey: Survey, **overrides) -> dict[str, list[str]]:
    """A complete, valid set of answers to a survey from the standard template."""
    values = {
        QuestionKind.AGREEMENT: ["4"], QuestionKind.RATING: ["9"],
        QuestionKind.SINGLE_CHOICE: ["0"], QuestionKind.MULTIPLE_CHOICE: ["0", "2"],
        QuestionKind.SHORT_TEXT: ["Plot first"], QuestionKind.LONG_TEXT: ["More exercises"],
    }
    form = {f"q{q.id}": list(values[q.kind]) for q in survey.questions}
    form.update(overrides)
    return form


def stored() -> tuple[int, int, int]:
    """(responses, answers, respondents) in the database."""
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (SurveyResponse, SurveyAnswer, SurveyRespondent))


@pytest.fixture
def faculty(ctx, make_user):
    return make_user(Role.FACULTY, org="SU")


@pytest.fixture
def cohort(ctx, make_cohort):
    return make_cohort(status="running")


# ---------------------------------------------------------------------------- building


def test_the_standard_template_is_seeded_once_with_every_kind_of_question(ctx):
    assert builder.ensure_standard_templates() == 1
    assert builder.ensure_standard_templates() == 0
    template = standard()
    assert template.title == "Network evaluation form" and template.is_template
    assert {q.kind for q in template.questions} == set(QuestionKind)
    assert [q.position for q in template.questions] == list(range(1, 11))


def test_a_survey_copies_its_templates_questions_and_remembers_them(ctx, faculty, cohort):
    template = standard()
    survey = builder.create_survey(faculty, cohort, str(template.id))
    assert survey.template_id == template.id and survey.offering_id == cohort.id
    assert [q.text for q in survey.questions] == [q.text for q in template.questions]
    assert [q.template_question_id for q in survey.questions] == [
        q.id for q in template.questions]
    builder.change_question(survey.questions[0], builder.QuestionDetails(
        kind="agreement", text="Changed in the copy"))
    db.session.expire_all()
    assert standard().questions[0].text == "The session met its stated objectives"


def test_a_blank_survey_and_a_bad_template_choice(ctx, faculty, cohort):
    blank = builder.create_survey(faculty, cohort, "blank")
    assert blank.questions == [] and blank.template_id is None
    assert blank.title == f"Feedback: {cohort.title}"
    with pytest.raises(DomainError) as error:
        builder.create_survey(faculty, cohort, str(blank.id))  # a survey, not a template
    assert error.value.field == "start_from"


def test_questions_are_added_moved_and_removed_in_order(ctx, faculty, cohort):
    survey = builder.create_survey(faculty, cohort, "blank")
    first, second, third = (
        builder.add_question(survey, builder.QuestionDetails(kind="short_text", text=f"Q{n}"))
        for n in (1, 2, 3))
    builder.move_question(third, "up")
    assert [q.text for q in survey.questions] == ["Q1", "Q3", "Q2"]
    builder.move_question(first, "down")
    assert [q.text for q in survey.questions] == ["Q3", "Q1", "Q2"]
    with pytest.raises(DomainError, match="cannot move further up"):
        builder.move_question(third, "up")
    builder.remove_question(first)
    assert [(q.text, q.position) for q in survey.questions] == [("Q3", 1), ("Q2", 2)]
    assert second.position == 2


def test_a_question_is_checked_before_it_is_added(ctx, faculty, cohort):
    survey = builder.create_survey(faculty, cohort, "blank")
    with pytest.raises(InvalidInput) as error:
        builder.add_question(survey, builder.QuestionDetails(kind="", text="  ", choices=""))
    assert [field for field, _ in error.value.errors] == ["kind", "text"]
    for choices, message in [("Only one", "at least 2 options"),
                             ("Yes\nyes", "must be different"),
                             ("\n".join(str(n) for n in range(21)), "20 options or fewer")]:
        with pytest.raises(InvalidInput, match=message):
            builder.add_question(survey, builder.QuestionDetails(kind="single_choice", text="Pick",
                                                         choices=choices))
    question = builder.add_question(survey, builder.QuestionDetails(
        kind="multiple_choice", text="Which?", choices=" Talks \n\nExercises\n", required=False))
    assert question.choices == ["Talks", "Exercises"] and not question.required


def test_questions_are_fixed_once_the_survey_opens_but_templates_stay_editable(ctx, faculty,
                                                                              cohort):
    survey = open_survey(faculty, cohort)
    assert builder.questions_locked(survey)
    with pytest.raises(builder.SurveyLocked):
        builder.add_question(survey, builder.QuestionDetails(kind="short_text", text="Late"))
    with pytest.raises(builder.SurveyLocked):
        builder.move_question(survey.questions[1], "up")
    with pytest.raises(builder.SurveyLocked):
        builder.remove_question(survey.questions[0])
    template = standard()
    builder.add_question(template, builder.QuestionDetails(kind="short_text", text="New"))
    assert template.questions[-1].text == "New"


def test_questions_are_fixed_once_someone_has_saved_answers(ctx, faculty, cohort, make_user):
    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort)
    svc.save_draft(person, survey, {})
    survey.opens_at, survey.closes_at = utcnow() + timedelta(days=1), utcnow() + timedelta(
        days=5)
    with pytest.raises(builder.SurveyLocked, match="started answering"):
        builder.add_question(survey, builder.QuestionDetails(kind="short_text", text="Sneaky"))


def test_save_as_template_and_start_another_survey_from_it(ctx, faculty, cohort):
    survey = builder.create_survey(faculty, cohort, "blank")
    with pytest.raises(DomainError, match="at least one question"):
        builder.save_as_template(faculty, survey, "Webinar form")
    builder.add_question(survey, builder.QuestionDetails(kind="rating", text="Overall?"))
    template = builder.save_as_template(faculty, survey, "Webinar form")
    assert template.is_template and [q.text for q in template.questions] == ["Overall?"]
    with pytest.raises(DomainError, match="already a template with that name"):
        builder.save_as_template(faculty, survey, "webinar FORM")
    again = builder.create_survey(faculty, cohort, str(template.id))
    assert again.questions[0].template_question_id == template.questions[0].id


# ---------------------------------------------------------------------------- settings and time


def settings(survey, **changes) -> builder.SurveySettings:
    values = builder.settings_of(survey)
    for name, value in changes.items():
        setattr(values, name, value)
    return values


def test_times_are_typed_in_uk_time_and_stored_in_utc(ctx, faculty, cohort):
    survey = builder.create_survey(faculty, cohort, "blank")
    builder.change_settings(survey, settings(
        survey, opens_day=date(2027, 7, 1), opens_time=time(9, 0),
        closes_day=date(2028, 1, 10), closes_time=time(17, 0)))
    assert survey.opens_at == datetime(2027, 7, 1, 8, 0, tzinfo=UTC)  # BST
    assert survey.closes_at == datetime(2028, 1, 10, 17, 0, tzinfo=UTC)  # GMT
    shown = builder.settings_of(survey)
    assert (shown.opens_day, shown.opens_time) == (date(2027, 7, 1), time(9, 0))


def test_a_time_the_clocks_skip_is_refused(ctx, faculty, cohort):
    survey = builder.create_survey(faculty, cohort, "blank")
    with pytest.raises(InvalidInput) as error:
        builder.change_settings(survey, settings(
            survey, opens_day=date(2027, 3, 28), opens_time=time(1, 30),
            closes_day=date(2027, 4, 5), closes_time=time(17, 0)))
    assert error.value.errors == [("opens_time", "01:30 on 28 March 2027 does not exist in "
                                   "the UK: the clocks go forward an hour that night. Choose "
                                   "another time.")]
    assert survey.opens_at is None
    # The hour the clocks pass twice in autumn means the first (BST) one.
    builder.change_settings(survey, settings(
        survey, opens_day=date(2027, 10, 31), opens_time=time(1, 30),
        closes_day=date(2027, 11, 5), closes_time=time(17, 0)))
    assert survey.opens_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(("changes", "field"), [
    ({"closes_day": date(2027, 7, 1), "closes_time": time(8, 0)}, "closes_day"),
    ({"closes_day": None, "closes_time": None}, "closes_day"),
    ({"opens_day": None}, "opens_day"),
    ({"title": " "}, "title"),
    ({"session_id": "999999"}, "session_id"),
])
def test_bad_settings_change_nothing(ctx, faculty, cohort, changes, field):
    survey = builder.create_survey(faculty, cohort, "blank")
    good = {"opens_day": date(2027, 7, 1), "opens_time": time(9, 0),
            "closes_day": date(2027, 7, 8), "closes_time": time(17, 0)}
    with pytest.raises(InvalidInput) as error:
        builder.change_settings(survey, settings(survey, **{**good, **changes}))
    assert field in [f for f, _ in error.value.errors]
    assert survey.opens_at is None and survey.closes_at is None


def test_a_survey_is_about_one_session_of_its_own_offering(ctx, faculty, cohort, make_cohort):
    other = make_cohort()
    survey = builder.create_survey(faculty, cohort, "blank")
    with pytest.raises(InvalidInput, match="this offering's sessions"):
        builder.change_settings(survey, settings(survey, session_id=str(other.sessions[0].id)))
    builder.change_settings(survey, settings(survey, session_id=str(cohort.sessions[0].id)))
    assert survey.session_id == cohort.sessions[0].id


def test_anonymity_cannot_change_once_the_survey_has_opened(ctx, faculty, cohort):
    survey = open_survey(faculty, cohort, anonymous=True)
    with pytest.raises(InvalidInput, match="anonymous can no longer change"):
        builder.change_settings(survey, settings(survey, anonymous=False))
    builder.change_settings(survey, settings(survey, title="Renamed"))
    assert survey.title == "Renamed" and survey.anonymous


def test_delete_only_what_nobody_answered(ctx, faculty, cohort, make_user):
    person = make_user()
    place(cohort, person)
    answered, empty = open_survey(faculty, cohort), open_survey(faculty, cohort)
    svc.submit(person, answered, full_answers(answered))
    with pytest.raises(DomainError, match="cannot be deleted"):
        builder.delete_survey(answered)
    with pytest.raises(DomainError, match="standard templates"):
        builder.delete_survey(standard())
    builder.delete_survey(empty)
    assert db.session.get(Survey, empty.id) is None


# ---------------------------------------------------------------------------- answering


def test_only_people_with_a_place_can_answer(ctx, faculty, cohort, make_user):
    waiting, withdrawn, stranger = make_user(), make_user(), make_user()
    place(cohort, waiting, "waitlisted")
    place(cohort, withdrawn, "withdrawn")
    survey = open_survey(faculty, cohort)
    for person in (waiting, withdrawn, stranger, faculty):
        with pytest.raises(NotFound):
            pages.answer_sheet(person, survey)
        with pytest.raises(NotFound):
            svc.submit(person, survey, full_answers(survey))
    assert stored() == (0, 0, 0)


def test_an_answer_is_sent_once_and_never_changes(ctx, faculty, cohort, make_user):
    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort, anonymous=False)
    svc.submit(person, survey, full_answers(survey))
    before = stored()
    assert before[0] == 1 and before[2] == 1
    with pytest.raises(svc.AlreadyAnswered):
        svc.submit(person, survey, full_answers(survey))
    with pytest.raises(svc.AlreadyAnswered):
        svc.save_draft(person, survey, {})
    assert stored() == before
    sheet = pages.answer_sheet(person, survey)
    assert sheet.answered and not sheet.can_answer
    assert {q.text: words for q, words in sheet.mine}[
        "Which parts were most useful?"] == "Presentations; Practical exercises"


@pytest.mark.parametrize("anonymous", [True, False])
def test_an_answer_sent_renews_the_persons_pages_not_every_kept_page(ctx, faculty, cohort,
                                                                     make_user, anonymous):
    """Sending answers deletes the person's draft as a row: the cache knows whose it was and
    renews their pages, not everything (a statement deleting "whatever matches" renewed
    ``*``: every kept page of every worker rebuilt at each answer)."""
    from lms.cache.models import CacheVersion

    def versions() -> dict[str, str]:
        return dict(db.session.execute(select(CacheVersion.scope, CacheVersion.version)).all())

    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort, anonymous=anonymous)
    svc.save_draft(person, survey, {})
    db.session.commit()
    before = versions()
    svc.submit(person, survey, full_answers(survey))
    db.session.commit()
    after = versions()
    assert db.session.get(SurveyDraft, (survey.id, person.id)) is None
    assert after["*"] == before["*"]
    assert after[f"person:{person.id}"] != before.get(f"person:{person.id}")


def test_a_second_submission_racing_the_first_is_refused_by_the_database(ctx, faculty, cohort,
                                                                         make_user):
    """Even if the check in Python were passed twice, the respondent row's key refuses the
    second and nothing of it is stored."""
    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort)
    svc.submit(person, survey, full_answers(survey))
    before = stored()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(svc, "_check_not_answered", lambda user, survey: None)
        with pytest.raises(svc.AlreadyAnswered):
            svc.submit(person, survey, full_answers(survey))
    assert stored() == before


def bad_inputs(survey: Survey) -> list[tuple[dict, str]]:
    agree, rating = question(survey, "agreement"), question(survey, "rating")
    single = question(survey, "single_choice")
    multiple = question(survey, "multiple_choice")
    short = question(survey, "short_text")
    return [
        ({"q999999": ["1"]}, "not in this survey"),
        ({f"q{single.id}": ["7"]}, "Select one of the options shown"),
        ({f"q{single.id}": ["0", "1"]}, "Select only one answer"),
        ({f"q{multiple.id}": ["0", "9"]}, "Select one of the options shown"),
        ({f"q{multiple.id}": ["1", "1"]}, "Select one of the options shown"),
        ({f"q{rating.id}": ["11"]}, "between 0 and 10"),
        ({f"q{rating.id}": ["-1"]}, "between 0 and 10"),
        ({f"q{rating.id}": ["ten"]}, "between 0 and 10"),
        ({f"q{agree.id}": ["0"]}, "between ‘Strongly disagree’ and ‘Strongly agree’"),
        ({f"q{agree.id}": ["6"]}, "between ‘Strongly disagree’ and ‘Strongly agree’"),
        ({f"q{agree.id}": []}, "Select an answer to ‘The session met its stated"),
        ({f"q{short.id}": ["x" * 301]}, "300 characters or fewer"),
    ]


@pytest.mark.parametrize("case", range(12))
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_stored(ctx, faculty, cohort,
                                                                        make_user, case):
    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort)
    svc.save_draft(person, survey, {f"q{survey.questions[0].id}": ["5"]})
    change, message = bad_inputs(survey)[case]
    with pytest.raises(InvalidInput, match=message):
        svc.submit(person, survey, full_answers(survey, **change))
    assert stored() == (0, 0, 0)
    assert svc.draft_of(person, survey).answers == {str(survey.questions[0].id): ["5"]}
    if "Select an answer to" not in message:  # a draft need not be complete
        with pytest.raises(InvalidInput, match=message):
            svc.save_draft(person, survey, full_answers(survey, **change))
        assert svc.draft_of(person, survey).answers == {str(survey.questions[0].id): ["5"]}


def test_every_problem_is_reported_at_once(ctx, faculty, cohort, make_user):
    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort)
    with pytest.raises(InvalidInput) as error:
        svc.submit(person, survey, {})
    required = [q for q in survey.questions if q.required]
    assert [field for field, _ in error.value.errors] == [f"q{q.id}" for q in required]


def test_answers_only_while_the_survey_is_open(ctx, faculty, cohort, make_user):
    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort, days=7)
    with time_machine.travel(survey.opens_at - timedelta(minutes=1)), \
            pytest.raises(svc.SurveyNotOpen, match="opens on"):
        svc.submit(person, survey, full_answers(survey))
    with time_machine.travel(survey.closes_at), \
            pytest.raises(svc.SurveyNotOpen, match="closed on"):
        svc.submit(person, survey, full_answers(survey))
    with time_machine.travel(survey.closes_at + timedelta(days=1)), \
            pytest.raises(svc.SurveyNotOpen):
        svc.save_draft(person, survey, full_answers(survey))
    survey.opens_at = survey.closes_at = None
    with pytest.raises(svc.SurveyNotOpen, match="not open"):
        svc.submit(person, survey, full_answers(survey))
    assert stored() == (0, 0, 0)
    assert svc.draft_of(person, survey) is None


def test_a_draft_is_kept_to_come_back_to(ctx, faculty, cohort, make_user):
    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort)
    rating = question(survey, "rating")
    svc.save_draft(person, survey, {f"q{rating.id}": "7", "csrf_token": "x", "action": "save"})
    sheet = pages.answer_sheet(person, survey)
    assert sheet.values == {rating.id: ["7"]} and sheet.draft_saved_at is not None
    assert stored() == (0, 0, 0)
    svc.save_draft(person, survey, {f"q{rating.id}": "8"})
    assert pages.answer_sheet(person, survey).values == {rating.id: ["8"]}
    svc.submit(person, survey, full_answers(survey))
    assert svc.draft_of(person, survey) is None


# ---------------------------------------------------------------------------- anonymity


def test_anonymous_answers_carry_no_person_and_no_time_in_the_database(ctx, faculty, cohort,
                                                                      make_user):
    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort, anonymous=True)
    svc.save_draft(person, survey, {f"q{survey.questions[0].id}": "5"})
    svc.submit(person, survey, full_answers(survey))
    db.session.flush()
    connection = db.session.connection()
    # Until released, the answers wait in the pool: a random key, the survey, the answers.
    assert {c["name"] for c in inspect(connection).get_columns("survey_pending_response")} \
        == {"id", "survey_id", "answers"}
    assert connection.execute(text("SELECT count(*) FROM survey_response")).scalar() == 0
    assert release_all(survey) == 1
    assert connection.execute(text("SELECT count(*) FROM survey_pending_response")
                              ).scalar() == 0
    # The response row: no person, no time.
    rows = connection.execute(text("SELECT * FROM survey_response")).mappings().all()
    assert len(rows) == 1
    assert rows[0]["user_id"] is None and rows[0]["submitted_at"] is None
    # Answer rows have no column for a person or a time at all.
    schema = inspect(connection)
    assert {c["name"] for c in schema.get_columns("survey_answer")} == {
        "id", "response_id", "question_id", "number", "text"}
    # The "has answered" row says only that, and links to nothing but the survey and person.
    assert {c["name"] for c in schema.get_columns("survey_respondent")} == {
        "survey_id", "user_id"}
    assert {fk["referred_table"] for fk in schema.get_foreign_keys("survey_respondent")} == {
        "survey", "user_account"}
    assert connection.execute(text("SELECT survey_id, user_id FROM survey_respondent")).all() \
        == [(survey.id, person.id)]
    # The draft, the only thing that tied answers to the person, is gone.
    assert connection.execute(text("SELECT count(*) FROM survey_draft")).scalar() == 0
    # Nothing in the answers' rows equals the person's id or any time.
    answers = connection.execute(text("SELECT * FROM survey_answer")).mappings().all()
    assert len(answers) == 11
    assert all(a["response_id"] == rows[0]["id"] for a in answers)
    assert pages.answer_sheet(person, survey).mine == []


def test_the_schema_refuses_an_anonymous_response_with_a_person_or_a_time(ctx, faculty, cohort,
                                                                         make_user):
    person = make_user()
    survey = open_survey(faculty, cohort, anonymous=True)
    for values in ({"user_id": person.id}, {"submitted_at": utcnow()}):
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(SurveyResponse(survey_id=survey.id, anonymous=True, **values))
            db.session.flush()


def test_response_ids_do_not_follow_the_order_of_answering(ctx, faculty, cohort, make_user):
    survey = open_survey(faculty, cohort)
    people = [make_user() for _ in range(8)]
    for person in people:
        place(cohort, person)
        svc.submit(person, survey, full_answers(survey))
    release_all(survey)
    ids = list(db.session.scalars(select(SurveyResponse.id).order_by(SurveyResponse.id)))
    assert len(ids) == 8 and max(ids) > 10**9  # random, not 1, 2, 3...


def test_a_named_survey_keeps_the_person_and_time(ctx, faculty, cohort, make_user):
    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort, anonymous=False)
    svc.submit(person, survey, full_answers(survey))
    response = db.session.scalar(select(SurveyResponse))
    assert response.user_id == person.id and response.submitted_at is not None


# ---------------------------------------------------------------------------- completion rules


def test_has_answered_counts_surveys_of_the_offering_and_its_sessions(ctx, faculty, cohort,
                                                                     make_user, make_cohort,
                                                                     count_queries):
    answered, silent = make_user(), make_user()
    for person in (answered, silent):
        place(cohort, person)
    on_session = open_survey(faculty, cohort)
    on_session.session_id = cohort.sessions[0].id
    elsewhere = make_cohort()
    place(elsewhere, silent)
    other = open_survey(faculty, elsewhere)
    svc.submit(answered, on_session, full_answers(on_session))
    svc.submit(silent, other, full_answers(other))
    assert svc.has_answered(answered.id, cohort.id)
    assert not svc.has_answered(silent.id, cohort.id)
    assert svc.has_survey(cohort.id)
    cohort_id, answered_id = cohort.id, answered.id
    db.session.commit()
    with count_queries() as counted:
        assert svc.answered_user_ids(cohort_id) == {answered_id}
    assert counted.n == 1


def test_feedback_given_is_notified_in_the_same_transaction(ctx, faculty, cohort, make_user,
                                                           monkeypatch):
    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort)
    heard = []

    def listener(event: svc.FeedbackGiven) -> None:
        heard.append((event.user_id, event.offering_id,
                      svc.has_answered(event.user_id, event.offering_id)))

    # Connected for this test only: the app's listeners are put back afterwards.
    monkeypatch.setitem(ctx.extensions, "lms.listeners",
                        {kind: list(fns) for kind, fns in ctx.extensions["lms.listeners"].items()})
    connect(ctx, svc.FeedbackGiven, listener)
    svc.submit(person, survey, full_answers(survey))
    assert heard == [(person.id, cohort.id, True)]
    assert listeners_of(svc.FeedbackGiven, ctx)[0] is complete_on_feedback  # attendance's


# ---------------------------------------------------------------------------- reminders


def outbox_to(address: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == address)))


def test_reminders_go_to_people_who_have_not_answered_at_most_twice(ctx, faculty, cohort,
                                                                   make_user):
    done, slow, late = make_user(), make_user(), make_user()
    waiting = make_user()
    for person in (done, slow, late):
        place(cohort, person)
    place(cohort, waiting, "waitlisted")
    survey = open_survey(faculty, cohort, days=9)
    svc.submit(done, survey, full_answers(survey))
    db.session.commit()
    first = svc.reminder_due_at(survey, 1)
    second = svc.reminder_due_at(survey, 2)
    assert first == survey.opens_at + timedelta(days=3)
    assert second == survey.opens_at + timedelta(days=6)
    assert svc.send_reminders(first - timedelta(minutes=1)) == 0
    assert svc.send_reminders(first) == 2
    assert svc.send_reminders(first + timedelta(hours=1)) == 0  # each reminder once
    assert len(outbox_to(slow.email)) == 1 and outbox_to(done.email) == []
    assert outbox_to(waiting.email) == []
    message = outbox_to(slow.email)[0]
    assert f"/feedback/{survey.id}" in message.body_text
    assert cohort.title in message.subject
    svc.submit(late, survey, full_answers(survey))
    db.session.commit()
    assert svc.send_reminders(second) == 1
    assert svc.send_reminders(survey.closes_at - timedelta(minutes=1)) == 0
    assert svc.send_reminders(survey.closes_at + timedelta(days=30)) == 0
    assert len(outbox_to(slow.email)) == 2 and len(outbox_to(late.email)) == 1
    assert "last reminder" in outbox_to(slow.email)[1].body_text
    assert db.session.scalar(select(func.count()).select_from(SurveyReminder)) == 3


def test_a_missed_reminder_is_not_sent_late_on_top_of_the_next(ctx, faculty, cohort, make_user):
    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort, days=9)
    db.session.commit()
    assert svc.send_reminders(svc.reminder_due_at(survey, 2)) == 1
    assert svc.send_reminders(svc.reminder_due_at(survey, 2) + timedelta(hours=1)) == 0
    assert len(outbox_to(person.email)) == 1


def test_a_claimed_reminder_is_never_sent_again(ctx, faculty, cohort, make_user):
    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort, days=9)
    db.session.add(SurveyReminder(survey_id=survey.id, user_id=person.id, number=1))
    db.session.commit()
    assert svc.send_reminders(svc.reminder_due_at(survey, 1)) == 0
    assert outbox_to(person.email) == []


def test_surveys_open_less_than_a_day_send_no_reminders(ctx, faculty, cohort, make_user):
    person = make_user()
    place(cohort, person)
    survey = open_survey(faculty, cohort, days=1)
    survey.closes_at = survey.opens_at + timedelta(hours=20)
    db.session.commit()
    assert svc.reminder_due_at(survey, 1) is None
    assert svc.send_reminders(survey.opens_at + timedelta(hours=19)) == 0


# ---------------------------------------------------------------------------- the learner's list


def test_the_feedback_list_shows_open_surveys_on_offerings_with_a_place(ctx, faculty, cohort,
                                                                       make_user, make_cohort):
    person = make_user()
    place(cohort, person)
    mine, answered = open_survey(faculty, cohort), open_survey(faculty, cohort)
    later = open_survey(faculty, cohort)
    later.opens_at = utcnow() + timedelta(days=1)
    later.closes_at = utcnow() + timedelta(days=3)
    open_survey(faculty, make_cohort())  # no place there
    svc.save_draft(person, mine, {})
    svc.submit(person, answered, full_answers(answered))
    rows = {row.survey.id: row for row in pages.open_surveys_for(person)}
    assert set(rows) == {mine.id, answered.id}
    assert rows[mine.id].has_draft and not rows[mine.id].answered
    assert rows[answered.id].answered


# ---------------------------------------------------------------------------- CLI


def test_the_cli_seeds_the_standard_templates_once(app, runner):
    first = runner.invoke(args=["lms", "feedback", "seed-templates"])
    second = runner.invoke(args=["lms", "feedback", "seed-templates"])
    assert first.exit_code == 0 and "1 survey templates added" in first.output
    assert "0 survey templates added" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Survey)) == 1


# ---------------------------------------------------------------------------- demo


def test_the_demo_surveys_past_and_running_offerings_once(ctx, make_user, make_cohort):
    from lms.feedback import demo
    from lms.feedback.results import survey_results

    assert demo.seed() == {"survey templates": 1, "surveys": 0, "survey responses": 0}
    learner = make_user(email="learner@example.nhs.uk")
    finished, running = make_cohort(status="finished"), make_cohort(status="running")
    make_cohort(status="open")  # not surveyed: it has not happened yet
    for offering in (finished, running):
        place(offering, learner)
        for _ in range(9):
            place(offering, make_user())
    summary = demo.seed()
    assert summary["surveys"] == 2 and summary["survey responses"] >= 5
    past = db.session.scalar(select(Survey).where(Survey.offering_id == finished.id))
    now_open = db.session.scalar(select(Survey).where(Survey.offering_id == running.id))
    assert svc.state_of(past) == svc.SurveyState.CLOSED and past.anonymous
    assert svc.state_of(now_open) == svc.SurveyState.OPEN
    assert not survey_results(past).hidden and survey_results(past).responses >= 5
    # The demo learner is left to answer the open survey themselves.
    assert [row.survey.id for row in pages.open_surveys_for(learner)] == [now_open.id]
    assert demo.seed() == {"survey templates": 0, "surveys": 0, "survey responses": 0}


def test_people_who_switched_feedback_reminders_off_get_none(ctx, faculty, cohort, make_user):
    from lms.notifications.preferences import choose

    quiet, keen = make_user(), make_user()
    for person in (quiet, keen):
        place(cohort, person)
    choose(quiet, ["session_reminders", "faculty_messages"])
    survey = open_survey(faculty, cohort, days=9)
    db.session.commit()
    # The count the job logs is of emails queued: the person who switched them off is not in it.
    assert svc.send_reminders(svc.reminder_due_at(survey, 1)) == 1
    assert outbox_to(quiet.email) == [] and len(outbox_to(keen.email)) == 1
