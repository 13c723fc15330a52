"""Loading any one row of any model never makes the database go through every account.

``User.organisation`` is loaded by a join. Where a user is itself joined as an outer join (an
offering's leads, an evidence row's recorder, an audit entry's actor), SQLAlchemy nested the
organisation's inner join inside it, ``LEFT OUTER JOIN (user_account JOIN organisation)``,
and SQLite answered that by building the join for every account first: ~12 ms per offering's
leads at 3,000 people, growing with the region. ``innerjoin="unnested"`` chains the joins
instead. This walks every mapped class so a new eager relationship cannot bring it back.
"""

from __future__ import annotations

from sqlalchemy import select

from lms.extensions import db


def test_no_model_load_by_key_scans_or_materialises_a_table(app):
    with app.app_context():
        connection = db.session.connection()
        checked = 0
        for mapper in db.Model.registry.mappers:
            keys = [column == 1 for column in mapper.primary_key]
            stmt = select(mapper.class_).where(*keys)
            compiled = stmt.compile(db.engine)
            values = tuple(1 for _ in compiled.positiontup or ())  # the plan ignores values
            plan = [row[3] for row in connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", values)]
            assert not any(step.startswith(("SCAN", "MATERIALIZE")) for step in plan), (
                mapper.class_.__name__, plan)
            checked += 1
        db.session.rollback()
    assert checked > 30
