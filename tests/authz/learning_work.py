"""Routes of project work (assignments, groups, marking) and of the reflective log and CPD."""

from __future__ import annotations

from lms.accounts.models import User
from lms.extensions import db
from lms.learning import assignments as work
from lms.learning import reflection
from tests.authz import FACULTY_ONLY, MISSING, OK, REDIRECT, SIGNED_IN_OK, Route
from tests.authz.offerings import FACULTY_POST, OWNER_ONLY_POST
from tests.learning_work_builders import activity, cohort_with, entry, pdf_upload, set_work

# Pages of one learner's own things: theirs alone (faculty too get 404).
OWNER_ONLY = {"anonymous": REDIRECT, "learner": OK, "dsu_same": MISSING, "dsu_other": MISSING,
              "faculty": MISSING, "admin": MISSING}
# A cohort's pages: people on it and faculty.
COHORT_AND_FACULTY = {"anonymous": REDIRECT, "learner": OK, "dsu_same": MISSING,
                      "dsu_other": MISSING, "faculty": OK, "admin": OK}
# A shared reflection: its writer and faculty.
SHARED = COHORT_AND_FACULTY


def world(app, people) -> dict:
    """A cohort the learner is on, an assignment with the learner's submission (a file), a
    private and a shared reflection, and a CPD activity with evidence."""
    with app.test_request_context():
        learner = db.session.get(User, people.learner.id)
        faculty = db.session.get(User, people.faculty.id)
        cohort = cohort_with([learner])
        assignment = set_work(faculty, cohort)
        submission = work.submit(learner, assignment, "My plan", [pdf_upload()])
        private = entry(learner, "Private thoughts")
        shared = entry(learner, "Shared thoughts", link=f"offering:{cohort.id}")
        reflection.share(learner, shared)
        cpd = activity(learner)
        db.session.commit()
        return {"cohort": cohort.id, "assignment": assignment.id, "submission": submission.id,
                "file": submission.files[0].id, "private": private.id, "shared": shared.id,
                "cpd": cpd.id}


ROUTES: list[Route] = [
    Route("assignments.new_assignment",
          lambda p, w: f"/faculty/offerings/{w['cohort']}/assignments/new", FACULTY_ONLY),
    Route("assignments.edit_assignment",
          lambda p, w: f"/faculty/assignments/{w['assignment']}/edit", FACULTY_ONLY),
    Route("assignments.board", lambda p, w: f"/faculty/offerings/{w['cohort']}/marking",
          FACULTY_ONLY),
    Route("assignments.mark", lambda p, w: f"/faculty/submissions/{w['submission']}/mark",
          FACULTY_ONLY),
    Route("assignments.extension",
          lambda p, w: f"/faculty/assignments/{w['assignment']}/extensions", FACULTY_ONLY),
    Route("assignments.download_all",
          lambda p, w: f"/faculty/assignments/{w['assignment']}/submissions.zip", FACULTY_ONLY),
    Route("assignments.groups_page", lambda p, w: f"/faculty/offerings/{w['cohort']}/groups",
          FACULTY_ONLY),
    Route("assignments.for_offering", lambda p, w: f"/offerings/{w['cohort']}/assignments",
          COHORT_AND_FACULTY),
    Route("assignments.assignment", lambda p, w: f"/assignments/{w['assignment']}",
          COHORT_AND_FACULTY),
    Route("assignments.submission", lambda p, w: f"/submissions/{w['submission']}",
          COHORT_AND_FACULTY),
    Route("assignments.submission_file",
          lambda p, w: f"/submissions/{w['submission']}/files/{w['file']}", COHORT_AND_FACULTY),
    Route("reflection.log", lambda p, w: "/reflection", SIGNED_IN_OK),
    Route("reflection.new_entry", lambda p, w: "/reflection/new", SIGNED_IN_OK),
    Route("reflection.entry", lambda p, w: f"/reflection/{w['private']}", OWNER_ONLY),
    Route("reflection.entry", lambda p, w: f"/reflection/{w['shared']}", SHARED),
    Route("reflection.edit_entry", lambda p, w: f"/reflection/{w['private']}/edit", OWNER_ONLY),
    Route("reflection.share", lambda p, w: f"/reflection/{w['private']}/share",
          OWNER_ONLY_POST, method="POST"),
    Route("reflection.unshare", lambda p, w: f"/reflection/{w['shared']}/unshare",
          OWNER_ONLY_POST, method="POST"),
    Route("reflection.delete", lambda p, w: f"/reflection/{w['private']}/delete",
          OWNER_ONLY_POST, method="POST"),
    Route("reflection.shared", lambda p, w: "/faculty/reflections", FACULTY_ONLY),
    Route("reflection.comment", lambda p, w: f"/faculty/reflections/{w['shared']}/comment",
          FACULTY_POST, method="POST", data={"text": "Good reflection"}),
    Route("reflection.accept", lambda p, w: f"/faculty/reflections/{w['shared']}/accept",
          FACULTY_POST, method="POST", data={"level": "2"}),
    Route("reflection.activities", lambda p, w: "/cpd", SIGNED_IN_OK),
    Route("reflection.new_activity", lambda p, w: "/cpd/new", SIGNED_IN_OK),
    Route("reflection.evidence", lambda p, w: f"/cpd/{w['cpd']}/evidence", OWNER_ONLY),
    Route("reflection.delete_activity", lambda p, w: f"/cpd/{w['cpd']}/delete",
          OWNER_ONLY_POST, method="POST"),
]
