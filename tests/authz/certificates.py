"""Routes of certificates: My certificates, downloads, public verification, faculty's page,
bulk issue and its progress, zip, revoke and reissue."""

from __future__ import annotations

from lms.accounts.models import User
from lms.attendance.models import Completion
from lms.certificates import bulk, services
from lms.extensions import db
from lms.offerings.models import Enrolment
from tests.authz import EVERYONE_OK, FACULTY_ONLY, MISSING, OK, REDIRECT, SIGNED_IN_OK, Route
from tests.authz.offerings import FACULTY_POST
from tests.test_certificates_support import completion_of, finished_cohort

# The holder and faculty download; anyone else signed in is told there is no such thing.
HOLDER_OR_FACULTY = {"anonymous": REDIRECT, "learner": OK, "dsu_same": MISSING,
                     "dsu_other": MISSING, "faculty": OK, "admin": OK}
UNKNOWN_CODE = dict.fromkeys(EVERYONE_OK, MISSING)


def world(app, people) -> dict:
    """A finished course the learner completed, with a certificate; someone else who
    completed without one; a bulk issue waiting."""
    with app.test_request_context():
        cohort, (other,) = finished_cohort(names=["Otto Other"])
        learner = db.session.get(User, people.learner.id)
        mine = Enrolment(offering=cohort, user=learner, state="completed")
        db.session.add(mine)
        db.session.flush()
        db.session.add(Completion(enrolment_id=mine.id, attendance_percent=100,
                                  completed_at=cohort.sessions[0].ends_at))
        db.session.flush()
        certificate = services.issue_certificate(completion_of(mine))
        batch = bulk.start_batch(None, cohort)
        db.session.commit()
        return {"offering": cohort.id, "certificate": certificate.id,
                "code": certificate.code, "other": other.id, "batch": batch.id}


ROUTES: list[Route] = [
    Route("certificates.mine", lambda p, w: "/my-certificates", SIGNED_IN_OK),
    Route("certificates.download", lambda p, w: f"/certificates/{w['certificate']}/pdf",
          HOLDER_OR_FACULTY),
    Route("certificates.verify_form", lambda p, w: "/verify", EVERYONE_OK),
    Route("certificates.verify", lambda p, w: f"/verify/{w['code']}", EVERYONE_OK),
    Route("certificates.verify", lambda p, w: "/verify/not-a-real-code", UNKNOWN_CODE),
    Route("certificates.faculty_index", lambda p, w: "/faculty/certificates", FACULTY_ONLY),
    Route("certificates.offering",
          lambda p, w: f"/faculty/offerings/{w['offering']}/certificates", FACULTY_ONLY),
    Route("certificates.choose_template",
          lambda p, w: f"/faculty/offerings/{w['offering']}/certificates/template",
          FACULTY_POST, method="POST", data={"template": "programme"}),
    Route("certificates.issue_all",
          lambda p, w: f"/faculty/offerings/{w['offering']}/certificates/issue-all",
          FACULTY_POST, method="POST"),
    Route("certificates.batch_progress",
          lambda p, w: f"/faculty/certificate-batches/{w['batch']}/progress", FACULTY_ONLY),
    Route("certificates.issue_one", lambda p, w: f"/faculty/enrolments/{w['other']}/certificate",
          FACULTY_POST, method="POST"),
    Route("certificates.detail", lambda p, w: f"/faculty/certificates/{w['certificate']}",
          FACULTY_ONLY),
    Route("certificates.revoke",
          lambda p, w: f"/faculty/certificates/{w['certificate']}/revoke", FACULTY_POST,
          method="POST", data={"revoke-reason": "Issued in error"}),
    Route("certificates.reissue",
          lambda p, w: f"/faculty/certificates/{w['certificate']}/reissue", FACULTY_POST,
          method="POST", data={"reissue-reason": "Name corrected"}),
    Route("certificates.offering_zip",
          lambda p, w: f"/faculty/offerings/{w['offering']}/certificates.zip", FACULTY_ONLY),
]
