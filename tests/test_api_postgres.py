"""The API on PostgreSQL, what production runs on: rate counts that hold under concurrent
calls, and booking and figures end to end."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import Organisation, Role, User, UserRole
from lms.api import services as api
from lms.api.models import ApiRateWindow
from lms.clock import utcnow
from lms.extensions import db
from tests.authz.api import cohort

pytestmark = pytest.mark.postgres


def _person(code: str, *roles: Role) -> User:
    organisation = db.session.scalar(select(Organisation).where(Organisation.code == code))
    user = User(email=f"{code.lower()}-{len(roles)}@example.nhs.uk", full_name=f"{code} person",
                organisation=organisation)
    user.role_rows.extend(UserRole(role=r) for r in {Role.LEARNER, *roles})
    db.session.add(user)
    db.session.flush()
    return user


def test_concurrent_calls_are_each_counted_once(pg_app):
    start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=5)

    def call(_n: int) -> int:
        with pg_app.app_context():
            return api.count_call("token:1:read", 1000, now=start).hits

    with ThreadPoolExecutor(max_workers=8) as pool:
        hits = sorted(pool.map(call, range(40)))
    assert hits == list(range(1, 41))
    with pg_app.app_context():
        assert db.session.scalar(select(ApiRateWindow.hits)) == 40


def test_booking_and_figures_through_the_api(pg_app):
    with pg_app.app_context():
        learner = _person("BSOL")
        faculty = _person("SU", Role.FACULTY)
        offering_id = cohort("On PostgreSQL", capacity=1).id
        learner_token = api.create_token(learner, "R", "read_write").secret
        faculty_token = api.create_token(faculty, "Power BI", "read").secret
        db.session.commit()
    client = pg_app.test_client()
    mine = {"Authorization": f"Bearer {learner_token}"}
    assert client.post(f"/api/v1/offerings/{offering_id}/bookings", headers=mine
                       ).status_code == 201
    again = client.post(f"/api/v1/offerings/{offering_id}/bookings", headers=mine)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    places = client.get(f"/api/v1/offerings/{offering_id}").get_json()["places_left"]
    assert places == 0
    region = client.get("/api/v1/region/figures",
                        headers={"Authorization": f"Bearer {faculty_token}"})
    assert region.status_code == 200
    assert {t["key"] for t in region.get_json()["tables"]} >= {"participation", "over-time"}
