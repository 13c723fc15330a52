"""Routes for requests to change organisation: the DSU lead of the ICS asked to join (or an
admin) decides; the DSU lead of another ICS finds no such request (404)."""

from lms.accounts.models import OrganisationChange, Role, User, UserRole
from lms.extensions import db
from tests.authz import FORBIDDEN, MISSING, OK, REDIRECT, Route
from tests.conftest import organisation

DECIDES = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": REDIRECT,
           "dsu_other": MISSING, "faculty": FORBIDDEN, "admin": REDIRECT}
LEADS_AND_ADMINS = {"anonymous": REDIRECT, "learner": FORBIDDEN, "dsu_same": OK,
                    "dsu_other": OK, "faculty": FORBIDDEN, "admin": OK}


def world(app, people) -> dict:
    """A learner of the Black Country (which ``dsu_other`` leads) asks to join Birmingham and
    Solihull (which ``dsu_same`` leads)."""
    with app.app_context():
        mover = User(email="mover@example.nhs.uk", full_name="Mo Mover", job_title="",
                     organisation=organisation("BC"))
        mover.role_rows.append(UserRole(role=Role.LEARNER))
        db.session.add(mover)
        db.session.flush()
        change = OrganisationChange(user_id=mover.id,
                                    from_organisation_id=organisation("BC").id,
                                    to_organisation_id=organisation("BSOL").id)
        db.session.add(change)
        db.session.commit()
        return {"change": change.id}


ROUTES: list[Route] = [
    Route("organisation_changes.requests", lambda p, w: "/organisation-changes",
          LEADS_AND_ADMINS),
    Route("organisation_changes.approve",
          lambda p, w: f"/organisation-changes/{w['change']}/approve", DECIDES, method="POST"),
    Route("organisation_changes.decline",
          lambda p, w: f"/organisation-changes/{w['change']}/decline", DECIDES, method="POST"),
]
