"""The harness itself: a fresh database per test, with the organisations."""

from sqlalchemy import func, select

from lms.accounts.models import Organisation, User
from lms.extensions import db


def test_each_test_starts_with_organisations_and_no_people(ctx, make_user):
    assert db.session.scalar(select(func.count(Organisation.id))) == 14
    assert db.session.scalar(select(func.count(User.id))) == 0
    make_user()
    assert db.session.scalar(select(func.count(User.id))) == 1
