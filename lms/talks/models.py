"""Calls for talks: a call on a network series or a festival, the proposals people send to
it, their co-presenters (who confirm themselves), reviews, and the reviewers faculty invite.

A proposal accepted into a huddle or a festival slot points at that session; the session
keeps the topic and speakers, so every page, feed and email reads them as before."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import UTCDateTime, utcnow
from lms.extensions import db
from lms.offerings.models import Offering, Session


class ProposalState(enum.StrEnum):
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    RESERVE = "reserve"


STATE_LABELS = {
    ProposalState.SUBMITTED: "Submitted",
    ProposalState.WITHDRAWN: "Withdrawn",
    ProposalState.ACCEPTED: "Accepted",
    ProposalState.DECLINED: "Declined",
    ProposalState.RESERVE: "On the reserve list",
}
# States a decision is still to come in: the proposer may change or withdraw it.
UNDECIDED = (ProposalState.SUBMITTED, ProposalState.RESERVE)


class Call(db.Model):
    """A call for talks on one offering (a network series or a festival)."""

    __tablename__ = "talk_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"),
                                             index=True)
    title: Mapped[str] = mapped_column(String(200))
    wanted: Mapped[str] = mapped_column(Text, default="")  # formatted text
    # Values of ``lms.courses.models.Strand``; empty means every strand.
    strands: Mapped[list] = mapped_column(JSON, default=list)
    # Talk lengths offered, in minutes.
    lengths: Mapped[list] = mapped_column(JSON, default=list)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Reviewers see others' scores only once they have scored (the default).
    hide_scores_until_scored: Mapped[bool] = mapped_column(Boolean, default=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    offering: Mapped[Offering] = relationship(lazy="joined", innerjoin=True)
    free_sessions: Mapped[list[CallSession]] = relationship(
        cascade="all, delete-orphan", lazy="selectin")

    def is_open(self, now: datetime) -> bool:
        return self.closed_at is None and now < self.closes_at


class CallSession(db.Model):
    """A network meeting still free for a talk, offered by a call."""

    __tablename__ = "talk_call_session"

    call_id: Mapped[int] = mapped_column(ForeignKey("talk_call.id", ondelete="CASCADE"),
                                         primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("offering_session.id", ondelete="CASCADE"), primary_key=True, index=True)


class CallReviewer(db.Model):
    """Someone faculty invited to review a call's proposals (faculty always may)."""

    __tablename__ = "talk_call_reviewer"
    __table_args__ = (UniqueConstraint("call_id", "user_id",
                                       name="uq_talk_call_reviewer_call_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("talk_call.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)


class Proposal(db.Model):
    """A talk offered to a call."""

    __tablename__ = "talk_proposal"
    __table_args__ = (
        CheckConstraint("state IN ('submitted', 'withdrawn', 'accepted', 'declined', "
                        "'reserve')", name="state_known"),
        CheckConstraint("length_minutes > 0 AND length_minutes <= 480", name="length_range"),
        Index("ix_talk_proposal_call_state", "call_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("talk_call.id", ondelete="CASCADE"))
    # The proposal is the proposer's: in their own-data copy, pseudonymised on erasure.
    proposer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                             index=True, info={"names_person": True})
    title: Mapped[str] = mapped_column(String(200))
    abstract: Mapped[str] = mapped_column(Text, default="")  # formatted text
    strand: Mapped[str] = mapped_column(String(30))
    length_minutes: Mapped[int] = mapped_column()
    preferred_dates: Mapped[str] = mapped_column(String(500), default="")
    slides_shareable: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(12), default=ProposalState.SUBMITTED)
    decided_message: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Where an accepted talk is: a network meeting or a festival session.
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("offering_session.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    call: Mapped[Call] = relationship(lazy="joined", innerjoin=True)
    proposer: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    session: Mapped[Session | None] = relationship()
    co_presenters: Mapped[list[CoPresenter]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", lazy="selectin",
        order_by="CoPresenter.id")

    @property
    def state_label(self) -> str:
        return STATE_LABELS[ProposalState(self.state)]

    @property
    def undecided(self) -> bool:
        return self.state in UNDECIDED


class CoPresenter(db.Model):
    """Someone presenting with the proposer; they confirm it themselves."""

    __tablename__ = "talk_co_presenter"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id",
                                       name="uq_talk_co_presenter_proposal_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("talk_proposal.id",
                                                        ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    proposal: Mapped[Proposal] = relationship(back_populates="co_presenters")
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class Review(db.Model):
    """One reviewer's score (1 to 5) and comment on one proposal."""

    __tablename__ = "talk_review"
    __table_args__ = (
        UniqueConstraint("proposal_id", "reviewer_id", name="uq_talk_review_proposal_reviewer"),
        CheckConstraint("score >= 1 AND score <= 5", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not in the proposer's own-data copy (the reviewer's record; reviewers stay unnamed).
    proposal_id: Mapped[int] = mapped_column(ForeignKey("talk_proposal.id",
                                                        ondelete="CASCADE"), index=True,
                                             info={"followed": False})
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                             index=True)
    score: Mapped[int] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    reviewer: Mapped[User] = relationship(lazy="joined", innerjoin=True)
