"""The demo region: each feature seeds its own part, in the order the data flows."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from lms.extensions import db


def seed_demo() -> dict[str, int]:
    """Load every feature's demo data (idempotent) and commit once."""
    from lms.accounts import demo as accounts_demo
    from lms.attendance import demo as attendance_demo
    from lms.certificates import demo as certificates_demo
    from lms.competencies import demo as competencies_demo
    from lms.courses import demo as courses_demo
    from lms.events import demo as events_demo
    from lms.feedback import demo as feedback_demo
    from lms.notifications.models import OutboxMessage
    from lms.offerings import demo as offerings_demo

    # Seeding goes through the real rules, which email people; demo people need no email.
    first_new_email = (db.session.scalar(select(func.max(OutboxMessage.id))) or 0) + 1
    summary: dict[str, int] = {}
    summary.update(accounts_demo.seed())
    summary.update(courses_demo.seed())
    summary.update(offerings_demo.seed())
    summary.update(events_demo.seed())
    # Registers of what is under way (running cohorts, recent network meetings).
    summary.update(attendance_demo.seed())
    # Feedback comes after every feature that makes offerings and places: it surveys them.
    summary.update(feedback_demo.seed())
    # Certificates complete the finished offerings' people, so they come before competencies.
    summary.update(certificates_demo.seed())
    # Competencies come after every feature that makes courses, places and completions.
    summary.update(competencies_demo.seed())
    # Learning materials and project work, on the places and sessions made above.
    from lms.learning import demo as learning_demo

    summary.update(learning_demo.seed())
    # Calls for talks, on the huddles made above.
    from lms.talks import demo as talks_demo

    summary.update(talks_demo.seed())
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id >= first_new_email))
    db.session.commit()
    return summary
