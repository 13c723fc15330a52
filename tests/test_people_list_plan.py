"""The admin's people list reads a page in name order from the index on
``user_account (full_name, id)``: no search sorts every person (15,000 at national scale)."""

from __future__ import annotations

from sqlalchemy import event

from lms.accounts import administration
from lms.extensions import db


def plans_of_find_users(app, **filters) -> list[str]:
    """SQLite's plans of the count and the page ``find_users`` runs, in that order."""
    sent: list[tuple[str, object]] = []
    with app.app_context():
        def record(_conn, _cursor, statement, parameters, _context, _many):
            sent.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            administration.find_users(**filters)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        plans = []
        for statement, parameters in sent:
            if not statement.lstrip().upper().startswith("SELECT") or \
                    "FROM user_account" not in statement or \
                    ("count(" not in statement and "ORDER BY" not in statement):
                continue  # the people's roles, loaded with them
            rows = db.session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters).all()
            plans.append(" / ".join(row[-1] for row in rows))
        db.session.rollback()
    return plans


def test_a_page_of_people_is_read_in_name_order_from_the_index(app, make_user):
    make_user(name="Someone Listed")
    count, page = plans_of_find_users(app)
    assert "TEMP B-TREE" not in page, page
    assert "ix_user_account_full_name_id" in page, page
    assert "TEMP B-TREE" not in count, count
    assert "SCAN" in count and "TEMP" not in count, "counted from an index, no subquery"
