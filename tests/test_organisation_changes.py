"""A learner cannot move themselves into another ICS's reserved places: a change of
organisation on the profile is a request, decided by the new ICS's DSU lead (or an admin).
Until then places, quotas and nominations follow the old organisation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.accounts import organisation_changes as changes
from lms.accounts import services as accounts
from lms.accounts.models import ChangeStatus, OrganisationChange, Role, User
from lms.errors import DomainError, NotAllowed, NotFound
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.offerings import pages as offering_pages
from lms.offerings import services as places
from tests.conftest import organisation


def _subjects(user: User) -> list[str]:
    return list(db.session.scalars(select(OutboxMessage.subject).where(
        OutboxMessage.to_address == user.email).order_by(OutboxMessage.id)))


@pytest.fixture
def reserved(ctx, make_cohort):
    """A programme whose places are all reserved for Coventry and Warwickshire."""
    return make_cohort(capacity=2, mode="nomination", quotas={"CW": 2})


def test_asking_to_move_gives_no_reserved_place_until_approved(ctx, make_user, reserved):
    mover = make_user(name="Mo Mover", org="BSOL")
    cw_lead = make_user(Role.DSU_LEAD, org="CW", name="Cat Cwlead")
    bc_lead = make_user(Role.DSU_LEAD, org="BC")
    accounts.update_profile(mover, mover.full_name, "", organisation("CW").id)
    change = changes.pending_for(mover)
    assert mover.organisation.code == "BSOL"
    assert "Mo Mover asks to join Coventry and Warwickshire" in _subjects(cw_lead)

    # The attack: the new ICS's reserved places, before anyone agreed.
    assert mover not in offering_pages.nominable_people(cw_lead, reserved)
    with pytest.raises(NotAllowed):
        places.nominate(cw_lead, reserved, mover)
    assert offering_pages.quota_view(cw_lead, reserved).used == 0

    # Another ICS's lead cannot decide it, and does not see it.
    with pytest.raises(NotFound):
        changes.get_for_decision(bc_lead, change.id)
    with pytest.raises(NotFound):
        changes.approve(bc_lead, change)
    assert change not in changes.waiting_for(bc_lead)
    with pytest.raises(NotAllowed):
        changes.waiting_for(mover)

    assert changes.waiting_for(cw_lead) == [change]
    changes.approve(cw_lead, change)
    assert mover.organisation.code == "CW"
    assert change.status == ChangeStatus.APPROVED and change.decided_by_id == cw_lead.id
    assert "Your move to Coventry and Warwickshire: approved" in _subjects(mover)
    places.nominate(cw_lead, reserved, mover)
    assert offering_pages.quota_view(cw_lead, reserved).used == 1
    with pytest.raises(DomainError, match="already been decided"):
        changes.decline(cw_lead, change)


def test_a_declined_move_leaves_the_person_where_they_were(ctx, make_user):
    mover = make_user(org="BSOL")
    admin = make_user(Role.ADMIN, org="SU")
    change = changes.request_move(mover, organisation("OTHER"))
    assert changes.waiting_for(admin) == [change]  # no DSU lead for "Other": admins decide
    changes.decline(admin, change)
    assert mover.organisation.code == "BSOL"
    assert f"Your move to {organisation('OTHER').name}: not approved" in _subjects(mover)


def test_asking_again_replaces_the_request_and_asking_for_home_withdraws_it(ctx, make_user):
    mover = make_user(org="BSOL")
    first = changes.request_move(mover, organisation("CW"))
    second = changes.request_move(mover, organisation("LLR"))
    assert first.status == ChangeStatus.WITHDRAWN and changes.pending_for(mover) == second
    assert changes.request_move(mover, organisation("BSOL")) is None
    assert second.status == ChangeStatus.WITHDRAWN and changes.pending_for(mover) is None


def test_the_pages_learner_sees_pending_lead_approves_other_lead_gets_404(
        app, client, login, make_user):
    mover = make_user(name="Mo Mover", org="BSOL")
    cw_lead = make_user(Role.DSU_LEAD, org="CW")
    bc_lead = make_user(Role.DSU_LEAD, org="BC")
    login(mover)
    with app.app_context():
        cw = organisation("CW").id
    client.post("/profile", data={"full_name": "Mo Mover", "job_title": "",
                                  "organisation_id": str(cw)})
    page = client.get("/profile").get_data(as_text=True)
    assert "You have asked to move from Birmingham and Solihull to Coventry" in page
    with app.app_context():
        change_id = db.session.scalar(select(OrganisationChange.id))

    login(bc_lead)
    assert "Mo Mover" not in client.get("/organisation-changes").get_data(as_text=True)
    assert client.post(f"/organisation-changes/{change_id}/approve").status_code == 404
    login(mover)
    assert client.post(f"/organisation-changes/{change_id}/approve").status_code == 403
    with app.app_context():
        assert db.session.get(User, mover.id).organisation.code == "BSOL"

    login(cw_lead)
    assert "Mo Mover" in client.get("/organisation-changes").get_data(as_text=True)
    response = client.post(f"/organisation-changes/{change_id}/approve")
    assert response.status_code == 302
    assert "Mo Mover has moved to Coventry and Warwickshire" in client.get(
        response.location).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, mover.id).organisation.code == "CW"
