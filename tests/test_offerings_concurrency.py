"""No overbooking, no double booking and quotas that hold, under real concurrency: 200 threads
against the real engine, on SQLite (WAL, BEGIN IMMEDIATE) and PostgreSQL (row locks)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from lms.accounts.models import Organisation, Role, User, UserRole
from lms.accounts.services import hash_password
from lms.clock import utcnow
from lms.courses.models import Cohort, Course
from lms.errors import DomainError
from lms.extensions import db
from lms.offerings import services as svc
from lms.offerings.models import Enrolment, OfferingQuota, Session

ATTEMPTS = 200
PLACES = 20


def build(app: Flask, people: int, mode: str = "open", capacity: int = PLACES,
          quotas: dict[str, int] | None = None) -> tuple[int, list[int], int]:
    """A cohort, ``people`` learners in Birmingham and Solihull and their DSU lead."""
    with app.app_context():
        orgs = {o.code: o for o in db.session.scalars(select(Organisation))}
        secret = hash_password("x" * 12)
        users = [User(email=f"c{i}@example.nhs.uk", full_name=f"Concurrent {i:03d}",
                      organisation=orgs["BSOL"], password_hash=secret,
                      email_verified_at=utcnow()) for i in range(people)]
        lead = User(email="lead@example.nhs.uk", full_name="Lead", organisation=orgs["BSOL"],
                    password_hash=secret, email_verified_at=utcnow())
        lead.role_rows.append(UserRole(role=Role.DSU_LEAD))
        course = Course(title="Forecasting", summary="s", kind="short_course",
                        strand="analytical_capability", format="online")
        cohort = Cohort(course=course, name="C", title="Forecasting: C", capacity=capacity,
                        booking_mode=mode, status="open")
        start = utcnow() + timedelta(days=10)
        cohort.sessions.append(Session(starts_at=start, ends_at=start + timedelta(hours=1)))
        for code, places in (quotas or {}).items():
            cohort.quotas.append(OfferingQuota(organisation_id=orgs[code].id, places=places))
        db.session.add_all([*users, lead, cohort])
        db.session.commit()
        return cohort.id, [u.id for u in users], lead.id


def run_at_once(app: Flask, work, ids: list[int]) -> tuple[list[str], list[BaseException]]:
    """Run ``work(user_id)`` in one thread per id, all released together. Returns the domain
    errors' messages and any other exception."""
    barrier = threading.Barrier(len(ids))
    refused: list[str] = []
    crashed: list[BaseException] = []
    lock = threading.Lock()

    def one(user_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                work(user_id)
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                with lock:
                    refused.append(error.message)
            except BaseException as error:  # noqa: BLE001 - collected and asserted empty
                db.session.rollback()
                with lock:
                    crashed.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    return refused, crashed


def assert_exact(app: Flask, cohort_id: int) -> None:
    with app.app_context():
        rows = db.session.scalars(select(Enrolment).where(Enrolment.offering_id == cohort_id))
        rows = list(rows)
        enrolled = [e for e in rows if e.state == "enrolled"]
        waiting = sorted(e.waitlist_position for e in rows if e.state == "waitlisted")
        assert len(rows) == ATTEMPTS
        assert len(enrolled) == PLACES
        assert waiting == list(range(1, ATTEMPTS - PLACES + 1))
        assert len({e.user_id for e in rows}) == ATTEMPTS


def book_as(app: Flask, cohort_id: int):
    def work(user_id: int) -> None:
        svc.book(db.session.get(User, user_id), db.session.get(Cohort, cohort_id))
    return work


def nominate_as(cohort_id: int, lead_id: int):
    def work(user_id: int) -> None:
        svc.nominate(db.session.get(User, lead_id), db.session.get(Cohort, cohort_id),
                     db.session.get(User, user_id))
    return work


def test_200_concurrent_bookings_for_20_places_on_sqlite(app):
    cohort_id, user_ids, _ = build(app, ATTEMPTS)
    refused, crashed = run_at_once(app, book_as(app, cohort_id), user_ids)
    assert crashed == [] and refused == []
    assert_exact(app, cohort_id)


@pytest.mark.postgres
def test_200_concurrent_bookings_for_20_places_on_postgresql(pg_app):
    cohort_id, user_ids, _ = build(pg_app, ATTEMPTS)
    refused, crashed = run_at_once(pg_app, book_as(pg_app, cohort_id), user_ids)
    assert crashed == [] and refused == []
    assert_exact(pg_app, cohort_id)


def test_the_same_person_booking_twice_at_once_gets_one_place(app):
    cohort_id, user_ids, _ = build(app, 1)
    refused, crashed = run_at_once(app, book_as(app, cohort_id), user_ids * 8)
    assert crashed == []
    assert len(refused) == 7 and set(refused) == {"You already have a place for this"}
    with app.app_context():
        assert len(db.session.scalars(select(Enrolment)).all()) == 1


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_quota_holds_under_concurrent_nominations(request, app, backend):
    target = app if backend == "sqlite" else request.getfixturevalue("pg_app")
    cohort_id, user_ids, lead_id = build(target, 40, mode="nomination", capacity=30,
                                         quotas={"BSOL": 3, "BC": 3})
    refused, crashed = run_at_once(target, nominate_as(cohort_id, lead_id), user_ids)
    assert crashed == []
    assert len(refused) == 37
    assert set(refused) == {"Your ICS has used all 3 of its places on this cohort"}
    with target.app_context():
        nominated = db.session.scalars(select(Enrolment).where(
            Enrolment.offering_id == cohort_id, Enrolment.state == "nominated")).all()
        assert len(nominated) == 3
