"""The signed-in person, kept per process between requests.

Every signed-in request needs the person (their organisation and roles) to check the
session's version and decide what they may do. Read from the database, that is a transaction
of its own on PostgreSQL (begin, select, roll back) and an ORM load. Kept here, under the
version of their account (renewed by any change to their ``user_account`` or ``user_role``
rows, in the transaction that makes it, whichever process commits it: ``cache.also_renews``),
it costs one indexed read of versions, made together with those of the person's own pages.
A kept copy is never handed out: each request gets its own instance in its own session
(``Session.merge(load=False)``, no query), so nothing one request changes reaches another.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.cache import OFFER, DependsOn, cached, person, prefetch_for_request
from lms.extensions import db

ACCOUNT = "account"
# People signed in recently whose accounts a worker keeps (a few kB each).
KEPT_PEOPLE = 5000


def account(user_id: int) -> DependsOn:
    """The person's account: their row and their roles."""
    return DependsOn((f"{ACCOUNT}:{user_id}",))


def watch_accounts(app: Flask) -> None:
    """Renew a person's account version when their row or one of their roles changes, and
    everything when an organisation changes."""
    from lms import cache

    cache.also_renews(app, "user_account", ACCOUNT + ":{id}")
    cache.also_renews(app, "user_role", ACCOUNT + ":{user_id}")
    # An organisation renamed (rare) is part of everyone in it: everything is renewed.
    cache.watch(app, "organisation")


def signed_in_person(user_id: int, load: Callable[[int], User | None]) -> User | None:
    """The person with ``user_id`` in this request's session: this process's copy if their
    account has not changed since it was kept, else ``load(user_id)``'s. The versions of
    their own pages (``person``, the offer) and of the page asked for, where its address
    names them (``cache.page_reads``), are read in the same statement."""
    prefetch_for_request(account(user_id), person(user_id), OFFER)
    loaded: list[User | None] = []

    def build() -> tuple[User | None, None]:
        user = load(user_id)
        loaded.append(user)
        return (_detached_copy(user) if user is not None else None), None

    kept = cached("signed_in_people", user_id, depends_on=account(user_id), build=build,
                  size=KEPT_PEOPLE)
    if loaded:
        return loaded[0]
    return db.session.merge(kept, load=False) if kept is not None else None


def _detached_copy(user: User) -> User:
    """A copy of ``user`` with what was loaded (organisation, roles), in no session."""
    with Session() as holder:
        copy = holder.merge(user, load=False)
        holder.expunge_all()
    return copy
