"""Events: webinars, network series and the INSIGHT festival are Offerings (joined-table
inheritance, like cohorts), so places on them go through the one enrolment engine. Their
dated meetings are ordinary ``Session`` rows; the tables here add what only events have."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, utcnow
from lms.extensions import db
from lms.offerings.models import Offering, Session


class EventKind(enum.StrEnum):
    WEBINAR = "webinar"
    NETWORK = "network"
    FESTIVAL = "festival"


KIND_LABELS = {
    EventKind.WEBINAR: "Webinar",
    EventKind.NETWORK: "Network",
    EventKind.FESTIVAL: "Festival",
}


class Webinar(Offering):
    """An open event: one online session, often with outside speakers."""

    __tablename__ = "webinar"

    id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"),
                                    primary_key=True)
    summary: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    __mapper_args__ = {"polymorphic_identity": "webinar"}

    @property
    def session(self) -> Session | None:
        return self.sessions[0] if self.sessions else None


class NetworkSeries(Offering):
    """A network's meetings: a recurrence rule (RFC 5545 RRULE) read on London clocks from
    ``first_day`` at ``local_start``. Each occurrence is a real session with its own topic
    and presenter; people join the network once and every occurrence is theirs."""

    __tablename__ = "network_series"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 720",
                        name="duration_range"),
    )

    # Joining after the first meeting is the normal case for a network.
    late_joining = True

    id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"),
                                    primary_key=True)
    summary: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # The RRULE value without DTSTART, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=WE;COUNT=52
    rrule: Mapped[str] = mapped_column(String(300))
    first_day: Mapped[date] = mapped_column(Date)
    local_start: Mapped[time] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column()
    # What a new occurrence gets unless faculty change it.
    default_join_url: Mapped[str] = mapped_column(String(500), default="")
    default_location: Mapped[str] = mapped_column(String(300), default="")

    __mapper_args__ = {"polymorphic_identity": "network"}


class NetworkOccurrence(db.Model):
    """What one meeting of a series adds to its session: the moment the rule gave it (its
    RECURRENCE-ID, so a moved meeting is not made again) and its presenter. The topic is the
    session's title."""

    __tablename__ = "network_occurrence"
    __table_args__ = (
        UniqueConstraint("series_id", "rule_starts_at",
                         name="uq_network_occurrence_series_rule_starts_at"),
    )

    session_id: Mapped[int] = mapped_column(
        ForeignKey("offering_session.id", ondelete="CASCADE"), primary_key=True
    )
    series_id: Mapped[int] = mapped_column(ForeignKey("network_series.id", ondelete="CASCADE"))
    rule_starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    presenter: Mapped[str] = mapped_column(String(200), default="")

    session: Mapped[Session] = relationship(lazy="joined", innerjoin=True)


class Festival(Offering):
    """The INSIGHT festival: several days and tracks; people register for the festival, then
    book its sessions one by one (``Booking``), each with its own capacity."""

    __tablename__ = "festival"
    __table_args__ = (
        CheckConstraint("last_day >= first_day", name="days_ordered"),
    )

    # Sessions are booked one by one; a place on the festival is not a place at each session.
    books_sessions = True

    id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"),
                                    primary_key=True)
    summary: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)

    tracks: Mapped[list[FestivalTrack]] = relationship(
        back_populates="festival", cascade="all, delete-orphan",
        order_by="FestivalTrack.position", lazy="selectin",
    )

    __mapper_args__ = {"polymorphic_identity": "festival"}


class FestivalTrack(db.Model):
    """A strand of the festival programme, shown as a column of the timetable."""

    __tablename__ = "festival_track"
    __table_args__ = (
        UniqueConstraint("festival_id", "name", name="uq_festival_track_festival_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    festival_id: Mapped[int] = mapped_column(ForeignKey("festival.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)

    festival: Mapped[Festival] = relationship(back_populates="tracks")


class FestivalSession(db.Model):
    """What a festival session adds to its session: its track and a description."""

    __tablename__ = "festival_session"
    __table_args__ = (Index("ix_festival_session_festival", "festival_id"),)

    session_id: Mapped[int] = mapped_column(
        ForeignKey("offering_session.id", ondelete="CASCADE"), primary_key=True
    )
    festival_id: Mapped[int] = mapped_column(ForeignKey("festival.id", ondelete="CASCADE"))
    track_id: Mapped[int] = mapped_column(ForeignKey("festival_track.id", ondelete="RESTRICT"),
                                          index=True)
    description: Mapped[str] = mapped_column(Text, default="")

    session: Mapped[Session] = relationship(lazy="joined", innerjoin=True)
    track: Mapped[FestivalTrack] = relationship(lazy="joined", innerjoin=True)


class Speaker(db.Model):
    """Someone speaking at a webinar's or festival session's session."""

    __tablename__ = "event_speaker"
    __table_args__ = (Index("ix_event_speaker_session", "session_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("offering_session.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(120), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    bio: Mapped[str] = mapped_column(Text, default="")


class SessionRecording(db.Model):
    """A session's recording, published after it to the people who had a place."""

    __tablename__ = "session_recording"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("offering_session.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(String(500))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class CalendarFeedToken(db.Model):
    """The secret in a person's calendar subscription address, stored only as its SHA-256
    (a copy of the database opens nobody's feed); the unique index finds the row from the
    address in one look-up. Resetting it replaces the hash, so the old address stops working
    at once."""

    __tablename__ = "calendar_feed_token"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class ReminderSent(db.Model):
    """Proof that one email of one kind went (into the outbox) to one person about one
    session. Written in the same transaction as the outbox row; the unique constraint is what
    makes each reminder go exactly once, whatever runs at the same time."""

    __tablename__ = "reminder_sent"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id", "kind",
                         name="uq_reminder_sent_session_user_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("offering_session.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    # "before:1440" (a day before), "before:60", or an after-session sender's name.
    kind: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
