"""The reads made on every request of a hot page (``extensions.read_row``: the cache's
versions, a calendar program's poll) are one round trip each on PostgreSQL: the statement
alone, with no transaction begun before it and none for the pool to roll back after."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from lms.accounts.models import Organisation
from lms.extensions import db, read_row, read_rows

pytestmark = pytest.mark.postgres


def test_a_hot_read_leaves_no_transaction_for_the_pool_to_roll_back(pg_app):
    with pg_app.app_context():
        organisations = db.session.scalar(select(func.count(Organisation.id)))
        db.session.close()
        states: list[str] = []
        event.listen(db.engine.pool, "reset",
                     lambda dbapi, _record, _state: states.append(
                         dbapi.info.transaction_status.name))
        assert read_rows(select(func.count(Organisation.id))) == [(organisations,)]
        assert states == ["IDLE"], "no BEGIN was sent, so there is no ROLLBACK to send"
        # The connection goes back to the pool as the session expects it: it begins
        # transactions again (a read, then a write, in one).
        db.session.execute(select(1))
        assert db.session.connection().connection.driver_connection.autocommit is False
        assert db.session.connection().connection.driver_connection.info \
            .transaction_status.name == "INTRANS"
        db.session.rollback()


def test_a_hot_read_sees_what_another_connection_committed(pg_app):
    with pg_app.app_context():
        first = db.session.scalar(select(Organisation).order_by(Organisation.id))
        name = first.name
        query = select(Organisation.name).where(Organisation.id == first.id)
        assert read_row(query) == (name,)
        first.name = "Renamed ICS"
        db.session.flush()  # not yet committed: not seen
        assert read_row(query) == (name,)
        db.session.commit()
        assert read_row(query) == ("Renamed ICS",)
