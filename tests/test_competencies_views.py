"""Competency pages: reading and editing the framework, mapping a course, rating a person,
self-assessment, and the learning record with its downloads."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import func, select

from lms.competencies import services
from lms.competencies.models import Competency, CompetencyEvidence
from lms.courses.models import Course
from lms.extensions import db


def title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.get_data(as_text=True), re.S).group(1)


def seed(app) -> dict[str, int]:
    """The framework, a course, and a retired competency."""
    with app.app_context():
        services.ensure_framework()
        course = Course(title="Forecasting with R", summary="s", kind="short_course",
                        strand="analytical_capability", format="online")
        db.session.add(course)
        ids = {c.code: c.id for c in db.session.scalars(select(Competency))}
        services.retire_competency(db.session.get(Competency, ids["machine-learning"]))
        db.session.commit()
        return {**ids, "course": course.id}


def evidence(app, **where) -> list[tuple]:
    with app.app_context():
        stmt = select(CompetencyEvidence.source, CompetencyEvidence.level,
                      CompetencyEvidence.note, CompetencyEvidence.recorded_by_id)
        for key, value in where.items():
            stmt = stmt.where(getattr(CompetencyEvidence, key) == value)
        return db.session.execute(stmt).tuples().all()


def test_everyone_reads_the_framework_and_only_faculty_see_how_to_change_it(app, client,
                                                                            login, people):
    ids = seed(app)
    page = client.get("/competencies").get_data(as_text=True)
    for strand in ("Improving decision-making practice", "Developing analytical leaders",
                   "Strengthening analytical capability", "Moving beyond the numbers"):
        assert f"<h2>{strand}</h2>" in page
    assert "Add a competency" not in page and "Machine learning" not in page
    detail = client.get(f"/competencies/{ids['forecasting']}").get_data(as_text=True)
    assert "Practitioner" in detail and "cross-validation" in detail
    login(people.faculty)
    page = client.get("/competencies").get_data(as_text=True)
    assert "Add a competency" in page and "Retired competencies" in page
    assert "Machine learning" in page and "Forecasting with R" in page


def test_faculty_add_a_competency_and_see_every_problem_at_once(app, client, login, people):
    seed(app)
    login(people.faculty)
    page = client.post("/faculty/competencies/new", data={"name": "Forecasting",
                                                          "domain": "nonsense"})
    text = page.get_data(as_text=True)
    assert title(page).startswith("Error: Add a competency")
    for field in ("name", "domain", "description", "aware", "working", "practitioner",
                  "expert"):
        assert f'href="#{field}"' in text, field
    assert "There is already a competency with this name" in text
    data = {"name": "Causal inference", "domain": "analytical_capability",
            "description": "Effects of interventions", "aware": "a", "working": "w",
            "practitioner": "p", "expert": "e"}
    response = client.post("/faculty/competencies/new", data=data)
    assert response.status_code == 302
    with app.app_context():
        made = db.session.scalar(select(Competency).where(Competency.name == "Causal inference"))
        assert (made.domain, made.behaviours_expert) == ("analytical_capability", "e")


def test_a_competency_in_use_is_retired_not_deleted(app, client, login, people):
    ids = seed(app)
    with app.app_context():
        services.set_course_levels(db.session.get(Course, ids["course"]),
                                   {ids["forecasting"]: 2})
        db.session.commit()
    login(people.faculty)
    page = client.get(f"/competencies/{ids['forecasting']}").get_data(as_text=True)
    assert "Retire Forecasting" in page and "Delete Forecasting" not in page
    refused = client.post(f"/faculty/competencies/{ids['forecasting']}/delete",
                          follow_redirects=True)
    assert "so it cannot be deleted. Retire it instead" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Competency, ids["forecasting"]) is not None
    response = client.post(f"/faculty/competencies/{ids['forecasting']}/retire",
                           follow_redirects=True)
    assert "This competency was retired on" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Competency, ids["forecasting"]).is_retired


def test_faculty_map_a_course_and_a_level_off_the_scale_stores_nothing(app, client, login,
                                                                       people):
    ids = seed(app)
    login(people.faculty)
    url = f"/faculty/courses/{ids['course']}/competencies"
    page = client.get(url).get_data(as_text=True)
    assert f'name="level_{ids["forecasting"]}"' in page
    assert f'name="level_{ids["machine-learning"]}"' not in page  # retired
    bad = client.post(url, data={f"level_{ids['forecasting']}": "9",
                                 f"level_{ids['evidence-review']}": "2"})
    assert title(bad).startswith("Error: ")
    assert f'href="#level_{ids["forecasting"]}"' in bad.get_data(as_text=True)
    with app.app_context():
        assert services.course_levels(ids["course"]) == {}
    good = client.post(url, data={f"level_{ids['forecasting']}": "3",
                                  f"level_{ids['evidence-review']}": "2"})
    assert good.status_code == 302
    with app.app_context():
        assert services.course_levels(ids["course"]) == {ids["forecasting"]: 3,
                                                         ids["evidence-review"]: 2}
        assert db.session.get(Course, ids["course"]).competency_ids == sorted(
            [ids["forecasting"], ids["evidence-review"]])
    assert "Forecasting with R" in client.get(f"/competencies/{ids['forecasting']}").get_data(
        as_text=True)


def test_a_rating_off_the_scale_or_for_a_retired_competency_stores_nothing(app, client,
                                                                           login, people):
    ids = seed(app)
    login(people.faculty)
    url = f"/faculty/people/{people.learner.id}/rate"
    page = client.post(url, data={"competency": ids["forecasting"], "level": "7",
                                  "note": "Good"})
    assert title(page).startswith("Error: Rate Lena Learner")
    assert '<a href="#level">Choose a level: Aware, Working, Practitioner or Expert</a>' in \
        page.get_data(as_text=True)
    page = client.post(url, data={"competency": ids["machine-learning"], "level": "2",
                                  "note": "Good"})
    assert "Machine learning has been retired, so evidence can no longer be recorded" in \
        page.get_data(as_text=True)
    assert evidence(app) == []
    response = client.post(url, data={"competency": ids["forecasting"], "level": "3",
                                      "note": "Led the winter demand forecast"})
    assert response.location.endswith(
        f"/faculty/people/{people.learner.id}/learning-record#competencies")
    assert evidence(app) == [("faculty", 3, "Led the winter demand forecast",
                              people.faculty.id)]
    record = client.get(f"/faculty/people/{people.learner.id}/learning-record").get_data(
        as_text=True)
    assert "Faculty rating: Practitioner" in record and "by Fay Faculty" in record
    assert "Led the winter demand forecast" in record


def test_people_add_a_self_assessment_that_does_not_change_their_level(app, client, login,
                                                                      people):
    ids = seed(app)
    login(people.learner)
    page = client.post("/learning-record/self-assessment",
                       data={"competency": ids["forecasting"], "level": "4", "note": ""})
    assert title(page).startswith("Error: Add a self-assessment")
    assert evidence(app) == []
    client.post("/learning-record/self-assessment",
                data={"competency": ids["forecasting"], "level": "4",
                      "note": "I run our forecasting"})
    page = client.get("/learning-record")
    text = page.get_data(as_text=True)
    assert title(page).startswith("Your learning record")
    assert re.search(r"Level</dt><dd[^>]*>Not yet</dd>", text)
    assert re.search(r"Self-assessment</dt><dd[^>]*>Expert</dd>", text)
    assert evidence(app, user_id=people.learner.id)[0][:2] == ("self", 4)


def test_the_learning_record_downloads_as_pdf_and_csv(app, client, login, people):
    ids = seed(app)
    with app.app_context():
        from lms.accounts.models import User

        services.self_assess(db.session.get(User, people.learner.id), ids["forecasting"], 2,
                             "=IMPORTXML(\"http://x\")")
        db.session.commit()
    login(people.learner)
    pdf = client.get("/learning-record.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.get_data().startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(client.get("/learning-record.csv").get_data().decode(
        "utf-8-sig"))))
    assert rows[0][:3] == ["Section", "What", "Date (UK)"]
    assert any(row[0] == "Competency" and row[1] == "Forecasting" for row in rows)
    assert any("=IMPORTXML" in cell for row in rows for cell in row)
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CompetencyEvidence)) == 1


def test_the_record_shows_certificates_and_who_when_and_why_of_each_piece_of_evidence(
        app, client, login, people, make_cohort):
    """Issue #7, point 4 and 6: the learner's record (and faculty's view of it) lists their
    certificates and, under each competency, every piece of evidence with who recorded it,
    when and why."""
    from datetime import UTC, datetime

    import time_machine

    from lms.accounts.models import User
    from lms.attendance.models import Completion
    from lms.certificates import services as certificates
    from lms.offerings.models import Enrolment

    ids = seed(app)
    cohort = make_cohort()
    with app.app_context():
        learner = db.session.get(User, people.learner.id)
        faculty = db.session.get(User, people.faculty.id)
        services.set_course_levels(db.session.get(Course, cohort.course_id),
                                   {ids["data-visualisation"]: 2})
        enrolment = Enrolment(offering_id=cohort.id, user_id=learner.id, state="completed")
        db.session.add(enrolment)
        db.session.flush()
        with time_machine.travel(datetime(2027, 5, 4, 10, tzinfo=UTC), tick=False):
            completion = Completion(enrolment_id=enrolment.id, attendance_percent=100,
                                    completed_at=datetime(2027, 5, 4, 10, tzinfo=UTC))
            db.session.add(completion)
            db.session.flush()
            services.record_course_evidence(completion)
            certificate = certificates.issue_certificate(completion, notify=False)
            services.rate(faculty, learner, ids["forecasting"], 3, "Led the winter forecast")
            services.self_assess(learner, ids["forecasting"], 4, "I run our forecasting")
        serial = certificate.serial
        db.session.commit()
    for viewer, path in ((people.learner, "/learning-record"),
                         (people.faculty, f"/faculty/people/{people.learner.id}/"
                                          "learning-record")):
        login(viewer)
        text = client.get(path).get_data(as_text=True)
        assert serial in text, path
        assert ("Faculty rating: Practitioner</strong>, 4 May 2027, by Fay Faculty<br>"
                "Led the winter forecast") in text, path
        assert ("Self-assessment: Expert</strong>, 4 May 2027, by Lena Learner<br>"
                "I run our forecasting") in text, path
        assert re.search(r"Course completed: Working</strong>, 4 May 2027, recorded "
                         r"automatically<br>Completed [^<]+", text), path
    login(people.learner)
    rows = list(csv.reader(io.StringIO(client.get("/learning-record.csv").get_data().decode(
        "utf-8-sig"))))
    assert any(row[0] == "Certificate" and row[-1] == f"Serial {serial}" for row in rows)
