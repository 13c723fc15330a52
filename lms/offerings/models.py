"""An Offering is anything people get a place on: a cohort of a course, a webinar, a network
series, the festival. Courses and events extend it with joined-table inheritance."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organisation, User
from lms.clock import UTCDateTime, utcnow
from lms.extensions import db


class OfferingStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class BookingMode(enum.StrEnum):
    OPEN = "open"  # self-enrolment
    APPROVAL = "approval"  # a request faculty approve or decline
    NOMINATION = "nomination"  # only DSU leads put people forward


class EnrolmentState(enum.StrEnum):
    REQUESTED = "requested"  # approval mode: waiting for faculty
    NOMINATED = "nominated"  # put forward by a DSU lead, waiting for faculty
    APPROVED = "approved"  # nomination approved, waiting for the nominee to confirm
    ENROLLED = "enrolled"  # has a place
    WAITLISTED = "waitlisted"  # in the queue, with a position
    OFFERED = "offered"  # a freed place is held for them until a deadline
    WITHDRAWN = "withdrawn"  # left (or their DSU lead withdrew the nomination)
    DECLINED = "declined"  # the person said no (to a nomination or an offer)
    REJECTED = "rejected"  # faculty said no (to a request or a nomination)
    LAPSED = "lapsed"  # an offer was not answered in time
    CANCELLED = "cancelled"  # the offering was cancelled
    COMPLETED = "completed"  # met the completion rule


# States that hold one of the offering's places.
HOLDS_PLACE = (
    EnrolmentState.NOMINATED,
    EnrolmentState.APPROVED,
    EnrolmentState.ENROLLED,
    EnrolmentState.OFFERED,
    EnrolmentState.COMPLETED,
)
# States in which the person is still in play (cannot book again).
ACTIVE = (*HOLDS_PLACE, EnrolmentState.REQUESTED, EnrolmentState.WAITLISTED)

STATE_LABELS = {
    EnrolmentState.REQUESTED: "Requested",
    EnrolmentState.NOMINATED: "Nominated",
    EnrolmentState.APPROVED: "Approved – waiting for the nominee",
    EnrolmentState.ENROLLED: "Booked",
    EnrolmentState.WAITLISTED: "On the waiting list",
    EnrolmentState.OFFERED: "Place offered",
    EnrolmentState.WITHDRAWN: "Withdrawn",
    EnrolmentState.DECLINED: "Declined",
    EnrolmentState.REJECTED: "Not approved",
    EnrolmentState.LAPSED: "Offer lapsed",
    EnrolmentState.CANCELLED: "Cancelled",
    EnrolmentState.COMPLETED: "Completed",
}

# A day and an hour before each session.
DEFAULT_REMINDER_MINUTES = (1440, 60)

_STATES_SQL = ", ".join(f"'{s.value}'" for s in EnrolmentState)
_STATUS_SQL = ", ".join(f"'{s.value}'" for s in OfferingStatus)
_MODES_SQL = ", ".join(f"'{m.value}'" for m in BookingMode)


class Offering(db.Model):
    """Something with places: capacity, booking mode, status, sessions, leads, quotas."""

    __tablename__ = "offering"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_SQL})", name="status_known"),
        CheckConstraint(f"booking_mode IN ({_MODES_SQL})", name="booking_mode_known"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("offer_hours >= 1", name="offer_hours_positive"),
        CheckConstraint(
            "nomination_closes_at IS NULL OR nomination_opens_at IS NULL "
            "OR nomination_closes_at > nomination_opens_at",
            name="nomination_window_ordered",
        ),
        Index("ix_offering_kind_status", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=OfferingStatus.DRAFT)
    booking_mode: Mapped[str] = mapped_column(String(12), default=BookingMode.OPEN)
    # None means no limit.
    capacity: Mapped[int | None] = mapped_column()
    # How long a person has to accept a place offered from the waiting list.
    offer_hours: Mapped[int] = mapped_column(default=48)
    nomination_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    nomination_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # After this, ICS quota places nobody used go to the open pool / waiting list.
    quota_release_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    quotas_released: Mapped[bool] = mapped_column(default=False)
    cancelled_reason: Mapped[str | None] = mapped_column(Text)
    # False while what the offering belongs to is withheld (a cohort of an unpublished
    # course: the courses feature keeps it in step). Only managers see it then; see
    # lms.offerings.policy, which reads this instead of importing the kinds.
    published: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Reminders to people with a place, in minutes before each session (a day and an hour by
    # default; see lms.events.reminders), and whether an "after the session" email (such as
    # a request for feedback) may be sent.
    reminder_minutes: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_REMINDER_MINUTES),
        server_default=text("'[1440, 60]'"),
    )
    after_session_emails: Mapped[bool] = mapped_column(default=True,
                                                       server_default=text("true"))
    # An event's strand of the network (lms.courses.models.Strand), or None for one that
    # belongs to no strand; a cohort's strand is its course's, so this stays None there.
    strand: Mapped[str | None] = mapped_column(String(30))

    sessions: Mapped[list[Session]] = relationship(
        back_populates="offering", cascade="all, delete-orphan",
        order_by="Session.starts_at", lazy="selectin",
    )
    quotas: Mapped[list[OfferingQuota]] = relationship(
        back_populates="offering", cascade="all, delete-orphan", lazy="selectin"
    )
    lead_rows: Mapped[list[OfferingLead]] = relationship(
        back_populates="offering", cascade="all, delete-orphan", lazy="selectin"
    )

    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "offering"}

    @property
    def leads(self) -> list[User]:
        return [row.user for row in self.lead_rows]

    @property
    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions if s.status != SessionStatus.CANCELLED]

    @property
    def sessions_to_come(self) -> list[Session]:
        """Live sessions not yet over; all live ones once the offering is over (emails list
        these, not two years of past huddles)."""
        now = utcnow()
        live = self.live_sessions
        return [s for s in live if s.ends_at > now] or live

    @property
    def starts_at(self) -> datetime | None:
        live = self.live_sessions
        return live[0].starts_at if live else None

    @property
    def ends_at(self) -> datetime | None:
        live = self.live_sessions
        return max(s.ends_at for s in live) if live else None

    def __repr__(self) -> str:
        return f"<Offering {self.id} {self.kind}>"


class OfferingLead(db.Model):
    """A faculty member leading an offering."""

    __tablename__ = "offering_lead"

    offering_id: Mapped[int] = mapped_column(
        ForeignKey("offering.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    offering: Mapped[Offering] = relationship(back_populates="lead_rows")
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)  # user_id is required


class OfferingQuota(db.Model):
    """Places reserved for the nominees of one ICS."""

    __tablename__ = "offering_quota"
    __table_args__ = (CheckConstraint("places >= 0", name="places_not_negative"),)

    offering_id: Mapped[int] = mapped_column(
        ForeignKey("offering.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), primary_key=True
    )
    places: Mapped[int] = mapped_column()

    offering: Mapped[Offering] = relationship(back_populates="quotas")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Session(db.Model):
    """One dated occurrence of an offering. Stored in UTC, shown in Europe/London."""

    __tablename__ = "offering_session"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("status IN ('scheduled', 'cancelled')", name="status_known"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        Index("ix_offering_session_offering_starts", "offering_id", "starts_at"),
        Index("ix_offering_session_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    location: Mapped[str] = mapped_column(String(300), default="")
    join_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default=SessionStatus.SCHEDULED)
    # iCalendar SEQUENCE: bumped on every change people must hear about.
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    offering: Mapped[Offering] = relationship(back_populates="sessions")

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    # Online or in person: the one definition, for the events filters (in SQL) and every
    # "Online" / "In person" label. A session with both a joining link and a location is
    # hybrid: it is both online and in person.
    @hybrid_property
    def online(self) -> bool:
        """People can join from anywhere: it has a joining link."""
        return bool(self.join_url)

    @online.inplace.expression
    @classmethod
    def _online_expression(cls):
        return cls.join_url != ""

    @hybrid_property
    def in_person(self) -> bool:
        """People can come to a place: it has a location."""
        return bool(self.location)

    @in_person.inplace.expression
    @classmethod
    def _in_person_expression(cls):
        return cls.location != ""

    @property
    def attendance_label(self) -> str:
        """"Online", "In person", "Online and in person", or "" when neither is known."""
        if self.online and self.in_person:
            return "Online and in person"
        return "Online" if self.online else "In person" if self.in_person else ""


class Enrolment(db.Model):
    """A person's place (or request, nomination, queue position) on an offering."""

    __tablename__ = "enrolment"
    __table_args__ = (
        UniqueConstraint("offering_id", "user_id", name="uq_enrolment_offering_user"),
        CheckConstraint(f"state IN ({_STATES_SQL})", name="state_known"),
        CheckConstraint(
            "(state = 'waitlisted') = (waitlist_position IS NOT NULL)",
            name="position_only_when_waiting",
        ),
        CheckConstraint("waitlist_position IS NULL OR waitlist_position >= 1",
                        name="position_positive"),
        CheckConstraint("(state = 'offered') = (offer_expires_at IS NOT NULL)",
                        name="deadline_only_when_offered"),
        Index("ix_enrolment_offering_state", "offering_id", "state"),
        # With the offering, so an ICS's places per offering and state are counted from the
        # index alone (the dashboards); it still serves lookups by person and state.
        Index("ix_enrolment_user_state_offering", "user_id", "state", "offering_id"),
        # A DSU lead's home lists their ICS's approved nominees still to confirm.
        Index("ix_enrolment_quota_organisation_state", "quota_organisation_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(12))
    waitlist_position: Mapped[int | None] = mapped_column()
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The ICS whose quota this place counts against (nominations), if any.
    quota_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT")
    )
    nominated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    offering: Mapped[Offering] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)
    nominated_by: Mapped[User | None] = relationship(foreign_keys=[nominated_by_id])
    quota_organisation: Mapped[Organisation | None] = relationship()
    history: Mapped[list[EnrolmentEvent]] = relationship(
        back_populates="enrolment", cascade="all, delete-orphan",
        order_by="EnrolmentEvent.id",
    )

    @property
    def state_label(self) -> str:
        return STATE_LABELS[EnrolmentState(self.state)]

    @property
    def holds_place(self) -> bool:
        return self.state in HOLDS_PLACE

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE


class EnrolmentEvent(db.Model):
    """History: every change of an enrolment's state, with who, when and why."""

    __tablename__ = "enrolment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolment.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    waitlist_position: Mapped[int | None] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    enrolment: Mapped[Enrolment] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


# ---------------------------------------------------------------------------- session bookings


class BookingState(enum.StrEnum):
    BOOKED = "booked"  # has a place at the session
    WAITLISTED = "waitlisted"  # in the session's queue, with a position
    OFFERED = "offered"  # a freed place is held for them until a deadline
    CANCELLED = "cancelled"  # the person cancelled, left the queue, declined or let lapse


BOOKING_STATE_LABELS = {
    BookingState.BOOKED: "Booked",
    BookingState.WAITLISTED: "On the waiting list",
    BookingState.OFFERED: "Place offered",
    BookingState.CANCELLED: "Cancelled",
}


class Booking(db.Model):
    """A person's place (or queue position) at one session, for offerings whose sessions are
    booked one by one (the festival). Their place on the offering itself is an Enrolment."""

    __tablename__ = "session_booking"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id", name="uq_session_booking_session_user"),
        CheckConstraint("state IN ('booked', 'waitlisted', 'offered', 'cancelled')",
                        name="state_known"),
        CheckConstraint("(state = 'offered') = (offer_expires_at IS NOT NULL)",
                        name="deadline_only_when_offered"),
        CheckConstraint(
            "(state = 'waitlisted') = (waitlist_position IS NOT NULL)",
            name="position_only_when_waiting",
        ),
        CheckConstraint("waitlist_position IS NULL OR waitlist_position >= 1",
                        name="position_positive"),
        Index("ix_session_booking_session_state", "session_id", "state"),
        Index("ix_session_booking_user_state", "user_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("offering_session.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(12))
    waitlist_position: Mapped[int | None] = mapped_column()
    # Until when a place offered from the session's waiting list is held (as for enrolments).
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    session: Mapped[Session] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def state_label(self) -> str:
        return BOOKING_STATE_LABELS[BookingState(self.state)]
