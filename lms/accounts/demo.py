"""Demo people for the whole region: deterministic, so seeding twice changes nothing."""

from __future__ import annotations

import random

from flask import current_app
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from lms.accounts.models import Organisation, Role, User, UserRole
from lms.accounts.services import ensure_organisations
from lms.clock import utcnow
from lms.extensions import db

FIRST_NAMES = [
    "Aisha", "Ben", "Chloe", "Daniel", "Emma", "Farhan", "Grace", "Harpreet", "Isaac", "Jasmine",
    "Kwame", "Laura", "Mohammed", "Niamh", "Oliver", "Priya", "Qasim", "Rachel", "Sanjay",
    "Tom", "Uzma", "Victoria", "William", "Xin", "Yusuf", "Zara", "Amrit", "Bethany", "Callum",
    "Deepa", "Ellie", "Femi", "Gemma", "Hassan", "Imogen", "Jack", "Kiran", "Leah", "Marcus",
    "Nadia", "Owen", "Poppy", "Rhys", "Sophie", "Tariq", "Usha", "Vikram", "Wendy", "Yasmin",
]
LAST_NAMES = [
    "Ahmed", "Baker", "Chen", "Davies", "Evans", "Fletcher", "Gill", "Hughes", "Iqbal",
    "Jones", "Khan", "Lewis", "Mistry", "Nowak", "Okafor", "Patel", "Quinn", "Robinson",
    "Singh", "Taylor", "Underwood", "Varma", "Walker", "Young", "Begum", "Clarke", "Dhillon",
    "Edwards", "Francis", "Green", "Hall", "Jackson", "Kaur", "Malik", "Owen", "Price",
    "Rahman", "Shah", "Thompson", "Wood",
]
ANALYST_TITLES = [
    "Senior Analyst", "Principal Analyst", "Data Scientist", "Information Analyst",
    "Business Intelligence Developer", "Population Health Analyst", "Performance Analyst",
    "Head of Analytics", "Commissioning Manager", "Public Health Analyst",
    "Clinical Lead for Population Health", "Strategy Manager",
]

NAMED = [
    # email, name, title, organisation code, extra roles
    ("learner@example.nhs.uk", "Leah Learner", "Senior Analyst", "BSOL", []),
    ("dsulead@example.nhs.uk", "Dev Lead", "Head of Decision Support", "BSOL", [Role.DSU_LEAD]),
    ("faculty@example.nhs.uk", "Fiona Faculty", "Principal Consultant", "SU", [Role.FACULTY]),
    ("admin@example.nhs.uk", "Adam Admin", "Platform Administrator", "SU", [Role.ADMIN]),
]
PEOPLE_TOTAL = 300


def seed(rng: random.Random | None = None) -> dict[str, int]:
    """Organisations and ~300 people: learners in every ICS, a DSU lead or two per ICS,
    faculty at the Strategy Unit and the regional team, and one admin."""
    rng = rng or random.Random(2026)
    ensure_organisations()
    orgs = {o.code: o for o in db.session.scalars(select(Organisation))}
    existing = set(db.session.scalars(select(User.email)))
    # One hash for every demo account: they share a published password anyway, and hashing
    # 300 times with scrypt would make seeding slow for nothing.
    password_hash = generate_password_hash(current_app.config["DEMO_PASSWORD"],
                                           method=current_app.config["PASSWORD_HASH_METHOD"])
    now = utcnow()
    added = 0

    def add(email: str, name: str, title: str, code: str, roles: list[Role]) -> None:
        nonlocal added
        if email in existing:
            return
        user = User(email=email, full_name=name, job_title=title, organisation=orgs[code],
                    password_hash=password_hash, email_verified_at=now)
        user.role_rows.extend(UserRole(role=r) for r in {Role.LEARNER, *roles})
        if Role.ADMIN in roles:  # admins must have two-step verification; a published secret
            user.totp_secret = current_app.config["DEMO_TOTP_SECRET"]
            user.totp_enabled_at = now
        db.session.add(user)
        existing.add(email)
        added += 1

    for email, name, title, code, roles in NAMED:
        add(email, name, title, code, roles)

    ics_codes = [code for code, org in orgs.items() if org.is_ics]
    # A DSU lead for every ICS (two for the larger ones), in a fixed order.
    for index, code in enumerate(ics_codes):
        for n in range(2 if index % 3 == 0 else 1):
            first, last = FIRST_NAMES[(index * 3 + n) % len(FIRST_NAMES)], LAST_NAMES[index]
            add(f"dsu.{code.lower()}{n + 1}@example.nhs.uk", f"{first} {last}",
                "DSU Lead", code, [Role.DSU_LEAD])
    for n in range(10):
        first, last = FIRST_NAMES[(n * 7) % len(FIRST_NAMES)], LAST_NAMES[(n * 5 + 3) % 40]
        code = "SU" if n < 7 else "NHSE-MIDS"
        add(f"faculty{n + 1}@example.nhs.uk", f"{first} {last}", "Faculty Lead", code,
            [Role.FACULTY])
    n = 0
    while len(existing) < PEOPLE_TOTAL:
        n += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        code = rng.choice(ics_codes) if rng.random() < 0.92 else rng.choice(
            ["NHSE-MIDS", "SU", "OTHER"])
        add(f"{first.lower()}.{last.lower()}{n}@example.nhs.uk", f"{first} {last}",
            rng.choice(ANALYST_TITLES), code, [])
    db.session.flush()
    _move_waiting(orgs)
    return {"people": added}


def _move_waiting(orgs: dict[str, Organisation]) -> None:
    """One analyst of the Black Country asks to move to Birmingham and Solihull, so the
    demo DSU lead and admin have an organisation change to decide (only when there is no
    request at all: seeding twice adds none)."""
    from lms.accounts.models import OrganisationChange
    from lms.accounts.organisation_changes import request_move

    if db.session.scalar(select(OrganisationChange.id).limit(1)) is not None:
        return
    mover = db.session.scalar(
        select(User).where(User.organisation_id == orgs["BC"].id,
                           ~User.role_rows.any(UserRole.role != Role.LEARNER))
        .order_by(User.id))
    if mover is not None:
        request_move(mover, orgs["BSOL"])
