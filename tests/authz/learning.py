"""Routes of learning between sessions: materials (read, download; faculty add, change,
order, remove) and recordings of any session."""

from __future__ import annotations

import io

from lms.extensions import db
from lms.learning import materials, questions, resources
from lms.offerings import services as engine
from tests import catalogue_builders as build
from tests.authz import (
    EVERYONE_OK,
    FACULTY_ONLY,
    FORBIDDEN,
    MISSING,
    OK,
    REDIRECT,
    SIGNED_IN_OK,
    Route,
)
from tests.test_events_support import make_network
from tests.test_learning_storage import PDF

# People with a place and managers see an offering's materials; nobody else knows they exist.
PLACE_OR_MANAGERS = {"anonymous": MISSING, "learner": OK, "dsu_same": MISSING,
                     "dsu_other": MISSING, "faculty": OK, "admin": OK}
FACULTY_POST = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": FORBIDDEN,
                "dsu_other": FORBIDDEN, "faculty": REDIRECT, "admin": REDIRECT}


def world(app, people) -> dict:
    """A cohort the learner has a place on, with a file and a link; another cohort."""
    from lms.accounts.models import User

    with app.app_context():
        course = build.course("Forecasting with R")
        cohort = build.cohort(course, "Spring")
        db.session.flush()
        engine.book(db.session.get(User, people.learner.id), cohort)
        faculty = db.session.get(User, people.faculty.id)
        pdf = materials.add_material(faculty, cohort, materials.MaterialDetails(
            kind="file", title="Slides", upload=materials.Upload("slides.pdf", io.BytesIO(PDF))))
        link = materials.add_material(faculty, cohort, materials.MaterialDetails(
            kind="link", title="Reading", url="https://example.org/reading"))
        question = questions.add_question(faculty, cohort, questions.QuestionDetails(
            "access", "Any access needs?", required=True))
        other = build.cohort(course, "Summer")
        questions.add_question(faculty, other, questions.QuestionDetails(
            "hopes", "What do you hope to get from this?"))
        # A network the learner is a member of, with a members-only file.
        series = make_network(title="Analyst huddles")
        member = db.session.get(User, people.learner.id)
        engine.book(member, series)
        shared = resources.add_resource(member, series, resources.ResourceDetails(
            kind="file", title="Model", upload=materials.Upload("m.pdf", io.BytesIO(PDF))))
        db.session.commit()
        return {"cohort": cohort.id, "file": pdf.id, "link": link.id,
                "session": cohort.sessions[0].id, "question": question.id, "other": other.id,
                "network": series.id, "resource": shared.id}


ROUTES: list[Route] = [
    Route("learning.offering_materials", lambda p, w: f"/offerings/{w['cohort']}/materials",
          PLACE_OR_MANAGERS),
    Route("learning.offering_materials", lambda p, w: "/offerings/999999/materials",
          dict.fromkeys(PLACE_OR_MANAGERS, MISSING)),
    Route("learning.download_material", lambda p, w: f"/materials/{w['file']}/file",
          PLACE_OR_MANAGERS),
    # A link has no file to download.
    Route("learning.download_material", lambda p, w: f"/materials/{w['link']}/file",
          dict.fromkeys(PLACE_OR_MANAGERS, MISSING)),
    Route("learning.add_material",
          lambda p, w: f"/faculty/offerings/{w['cohort']}/materials/new", FACULTY_ONLY),
    # An empty form comes back with its errors.
    Route("learning.add_material",
          lambda p, w: f"/faculty/offerings/{w['cohort']}/materials/new", FACULTY_ONLY,
          method="POST", data={}),
    Route("learning.edit_material", lambda p, w: f"/faculty/materials/{w['link']}/edit",
          FACULTY_ONLY),
    Route("learning.remove_material", lambda p, w: f"/faculty/materials/{w['link']}/remove",
          FACULTY_ONLY),
    Route("learning.move_material", lambda p, w: f"/faculty/materials/{w['link']}/move",
          FACULTY_POST, method="POST", data={"direction": "up"}),
    Route("learning.manage_questions",
          lambda p, w: f"/faculty/offerings/{w['cohort']}/questions", FACULTY_ONLY),
    Route("learning.manage_questions",
          lambda p, w: f"/faculty/offerings/{w['cohort']}/questions", FACULTY_ONLY,
          method="POST", data={}),
    Route("learning.edit_question",
          lambda p, w: f"/faculty/registration-questions/{w['question']}/edit", FACULTY_ONLY),
    Route("learning.remove_question",
          lambda p, w: f"/faculty/registration-questions/{w['question']}/remove",
          FACULTY_ONLY),
    Route("learning.answers", lambda p, w: f"/faculty/offerings/{w['cohort']}/answers",
          FACULTY_ONLY),
    Route("learning.register_csv",
          lambda p, w: f"/faculty/offerings/{w['cohort']}/register.csv", FACULTY_ONLY),
    # The questions before booking: for anyone signed in who may book (the learner already
    # has a place on the first cohort, so they are sent back to its page).
    Route("learning.register", lambda p, w: f"/offerings/{w['other']}/register",
          SIGNED_IN_OK),
    Route("learning.register", lambda p, w: f"/offerings/{w['cohort']}/register",
          {"anonymous": REDIRECT, "learner": REDIRECT, "dsu_same": OK, "dsu_other": OK,
           "faculty": OK, "admin": OK}),
    Route("learning.network_resources", lambda p, w: f"/networks/{w['network']}/resources",
          EVERYONE_OK),
    Route("learning.network_resources", lambda p, w: f"/networks/{w['cohort']}/resources",
          dict.fromkeys(PLACE_OR_MANAGERS, MISSING)),
    # Members (and faculty) share; signed-in others are refused.
    Route("learning.add_resource", lambda p, w: f"/networks/{w['network']}/resources/new",
          {"anonymous": REDIRECT, "learner": OK, "dsu_same": FORBIDDEN,
           "dsu_other": FORBIDDEN, "faculty": OK, "admin": OK}),
    Route("learning.download_resource", lambda p, w: f"/resources/{w['resource']}/file",
          PLACE_OR_MANAGERS),
    Route("learning.pin_resource", lambda p, w: f"/faculty/resources/{w['resource']}/pin",
          FACULTY_POST, method="POST", data={}),
    Route("learning.remove_resource",
          lambda p, w: f"/faculty/resources/{w['resource']}/remove", FACULTY_ONLY),
    # Before the session is over the form answers, and publishing is refused on the page.
    Route("learning.publish_recording",
          lambda p, w: f"/faculty/sessions/{w['session']}/recording", FACULTY_ONLY),
    Route("learning.publish_recording", lambda p, w: "/faculty/sessions/999999/recording",
          {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": FORBIDDEN,
           "dsu_other": FORBIDDEN, "faculty": MISSING, "admin": MISSING}),
]
