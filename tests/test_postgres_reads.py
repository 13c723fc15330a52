"""The reads made on every request of a hot page (``extensions.read_row``: the cache's
versions, a calendar program's poll) are one round trip each on PostgreSQL: a prepared
statement alone on the thread's own connection, with no transaction begun before it, no pool
checkout, and the connection replaced when the server has ended it."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import event, func, select

from lms.accounts.models import Organisation
from lms.extensions import db, read_row, read_rows

pytestmark = pytest.mark.postgres


def _own_connection():
    """The idle own connection the next hot read will use."""
    from lms import extensions

    return extensions._IDLE[id(db.engine)][-1]


def test_a_hot_read_is_one_prepared_statement_on_the_threads_own_connection(pg_app):
    with pg_app.app_context():
        organisations = db.session.scalar(select(func.count(Organisation.id)))
        db.session.close()
        query = select(func.count(Organisation.id))
        assert read_rows(query) == [(organisations,)]  # opens the thread's own connection
        checkouts: list[object] = []
        event.listen(db.engine.pool, "checkout", lambda *args: checkouts.append(args))
        assert read_rows(query) == [(organisations,)]
        assert read_row(query) == (organisations,)
        assert checkouts == [], "the pool is not asked: the thread keeps its own connection"
        own = _own_connection().driver
        assert own.autocommit is True
        assert own.info.transaction_status.name == "IDLE", "no BEGIN, nothing to roll back"
        prepared = own.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0]
        assert prepared == 1, "prepared once, then only executed"
        # The session's own connections are the pool's, beginning transactions as before.
        db.session.execute(select(1))
        assert db.session.connection().connection.driver_connection.autocommit is False
        assert db.session.connection().connection.driver_connection.info \
            .transaction_status.name == "INTRANS"
        db.session.rollback()


def test_the_own_connection_ended_by_the_server_is_replaced_before_the_next_read(pg_app):
    from sqlalchemy import text

    with pg_app.app_context():
        query = select(func.count(Organisation.id))
        expected = read_rows(query)
        pid = _own_connection().driver.info.backend_pid
        ended = db.session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        db.session.rollback()
        assert ended
        for _ in range(50):  # the server's goodbye reaches the socket
            if not _own_connection().sound(db.engine):
                break
            time.sleep(0.05)
        assert read_rows(query) == expected, "read on a new connection, no error"
        assert _own_connection().driver.info.backend_pid != pid


def test_an_error_in_a_hot_read_is_the_engines_and_the_next_read_works(pg_app):
    from sqlalchemy import column, table
    from sqlalchemy.exc import DBAPIError

    with pg_app.app_context():
        missing = select(column("x")).select_from(table("no_such_table"))
        with pytest.raises(DBAPIError) as raised:
            read_rows(missing)
        assert not raised.value.connection_invalidated, "a wrong statement, not a lost server"
        assert read_row(select(func.count(Organisation.id))) is not None


def test_disposing_the_engine_closes_the_own_connection(pg_app):
    with pg_app.app_context():
        read_rows(select(func.count(Organisation.id)))
        own = _own_connection()
        db.engine.dispose()
        assert own.driver.closed
        assert read_rows(select(func.count(Organisation.id))), "opened again when needed"


def test_a_forked_child_never_closes_its_parents_connection(pg_app):
    """A child process (a worker forked after the app read something) opens its own and
    leaves the inherited one alone: closing it would end the parent's session too."""
    with pg_app.app_context():
        read_rows(select(func.count(Organisation.id)))
        parents = _own_connection()
        parents.pid = -1  # as the child sees it: opened by another process
        read_rows(select(func.count(Organisation.id)))
        assert _own_connection() is not parents
        assert not parents.driver.closed
        parents.pid = os.getpid()
        parents.close()


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


def test_reads_running_at_once_each_have_a_connection_and_give_it_back(pg_app):
    import threading

    from lms import extensions

    with pg_app.app_context():
        query = select(func.count(Organisation.id))
        expected = read_rows(query)
        engine = db.engine
    answers: list = []
    start = threading.Barrier(4)

    def reader() -> None:
        with pg_app.app_context():
            start.wait()
            for _ in range(25):
                answers.append(read_rows(query))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [expected] * 100
    idle = extensions._IDLE[id(engine)]
    assert 1 <= len(idle) <= 4, "one per read at once, all given back, none opened per read"
    assert len({own.driver.info.backend_pid for own in idle}) == len(idle)


def test_a_statement_prepared_before_a_migration_is_prepared_again(pg_app):
    """A migration run while the app serves changes a column's type: the server refuses the
    statement prepared before ("cached plan must not change result type"); the read is made
    once more on a new connection, prepared afresh, and answers."""
    from sqlalchemy import text

    with pg_app.app_context():
        query = select(Organisation.name).order_by(Organisation.id).limit(1)
        name = read_row(query)
        read_row(query)  # prepared on this connection
        db.session.execute(text("ALTER TABLE organisation ALTER COLUMN name TYPE text"))
        db.session.commit()
        assert read_row(query) == name
